"""Run the FinOps Foundation's focus-validator on a FOCUS CSV; run by the validator's own Python, not the project's.

    .venv/focus-validator/bin/python tests/chargeback/focus_validator_run.py FILE.csv VERSION REPORT.xml

focus-validator 1.0.0 (the release on PyPI) needs numpy < 2, pandas < 3 and sqlglot < 19, so it lives in
its own virtualenv (``make test`` builds it from requirements-focus-validator.txt). Its engine and its
rule set for the version asked are used as they are, except for three things the release gets wrong
about FOCUS 1.0, each undone here and nowhere else:

1. Four of its rules name columns by their FOCUS 0.5 IDs; FOCUS 1.0 (and 1.0-preview) renamed them
   (``RENAMED``). The rules are copied with the 1.0 column ID, so the checks run on the real columns.
2. Its CSV loader lets pandas guess types, so an AWS account ID (digits) fails "is a string". The file is
   read with the types the rule set itself declares: its String columns as text, its Decimal columns as numbers.
3. It makes every column required, conditional ones too. The Required checks of the conditional columns
   the export does not carry (FOCUS 1.0 requires them only of providers with that feature) are skipped,
   through the validator's own override file, as is one rule whose SQL names ``ChargeType``, a 0.5 column.

It also reads its currency list from a path relative to the working directory, so it runs from its
site-packages. Prints the validator's verdict; the report is its JUnit XML (``--output-type unittest``).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import pandas as pd
import yaml
from focus_validator.config_objects.common import DataTypeCheck, DataTypes
from focus_validator.validator import DEFAULT_VERSION_SETS_PATH, Validator

RENAMED = {
    "InvoiceIssuer": "InvoiceIssuerName",
    "Provider": "ProviderName",
    "Publisher": "PublisherName",
    "ResourceID": "ResourceId",
}
# Conditional in FOCUS 1.0 (feature level "Conditional"): present only when the provider has the feature.
NOT_CARRIED = (
    "CommitmentDiscountCategory",  # the allocation is at effective cost; which commitment covered a charge is not kept
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "ConsumedQuantity",  # the warehouse keeps no usage units, so no consumed or priced quantities
    "ConsumedUnit",
    "ContractedUnitPrice",  # nor unit prices
    "ListUnitPrice",
    "PricingCategory",
    "RegionId",  # nor regions, resource names and types, SKUs, account names
    "RegionName",
    "ResourceName",
    "ResourceType",
    "SkuId",
    "SkuPriceId",
    "SubAccountName",
)
SKIPPED = (*(f"{column}_Required" for column in NOT_CARRIED), "SkuPriceId_Nullable")


def rule_set(version: str, into: Path) -> Path:
    """The release's rules for ``version``, with the renamed columns' IDs as FOCUS 1.0 has them."""
    target = into / version
    shutil.copytree(Path(DEFAULT_VERSION_SETS_PATH) / version, target)
    for path in target.glob("*.yaml"):
        rule = yaml.safe_load(path.read_text())
        if isinstance(rule, dict) and rule.get("column_id") in RENAMED:
            rule["column_id"] = RENAMED[rule["column_id"]]
            path.write_text(yaml.safe_dump(rule, sort_keys=False))
    return into


def typed_csv(validator: Validator, path: str) -> pd.DataFrame:
    """The CSV with the rule set's String columns as text and its Decimal columns as numbers."""
    declared = {
        r.column_id: r.check.data_type for r in validator.spec_rules.rules if isinstance(getattr(r, "check", None), DataTypeCheck)
    }
    header = pd.read_csv(path, nrows=0).columns
    dtypes = {c: (float if declared.get(c) == DataTypes.DECIMAL else str) for c in header if c in declared}
    return pd.read_csv(path, dtype=dtypes)


def main(data: str, version: str, report: str) -> int:
    import focus_validator

    data, report = str(Path(data).resolve()), str(Path(report).resolve())
    with tempfile.TemporaryDirectory() as tmp:
        overrides = Path(tmp) / "overrides.yaml"
        overrides.write_text(yaml.safe_dump({"overrides": list(SKIPPED)}))
        validator = Validator(
            data_filename=data,
            output_destination=report,
            output_type="unittest",
            rule_set_path=str(rule_set(version, Path(tmp) / "rules")),
            rules_version=version,
            override_filename=str(overrides),
        )
        os.chdir(Path(focus_validator.__file__).parents[1])  # its currency list is read from a relative path
        validator.spec_rules.load()
        result = validator.spec_rules.validate(typed_csv(validator, data))
        validator.outputter.write(result)
    failed = sorted(name for name, check in result.checklist.items() if check.status.value in ("failed", "errored"))
    release = metadata.version("focus_validator")
    print(f"focus-validator {release}, FOCUS {version}: {len(result.checklist)} checks, {len(SKIPPED)} skipped")
    print(f"  skipped: {', '.join(SKIPPED)}")
    for name in failed:
        print(f"  {name}: {result.checklist[name].status.value} ({result.checklist[name].friendly_name})")
    print("Validation failed!" if failed else "Validation succeeded.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
