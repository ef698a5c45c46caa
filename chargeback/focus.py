"""A month's allocated costs as a FOCUS 1.0 dataset: every column FOCUS 1.0 marks Mandatory, values it allows.

One row per statement line and the charge behind it (service, account, resource), its cents spread
exactly (``chargeback.statement``), so per consumer the rows add up to the statement and all rows to its
total. A closed month has only its frozen lines, so there a row is a line. ``python -m ingest focus``
reads the file back; the consumer is in ``Tags`` under the rules' consumer tag.

What each Mandatory column holds (FOCUS 1.0, "Columns"; the file is a chargeback, so its *billing
account* is the consumer a statement goes to, and per billing account BilledCost adds up to the
statement, as BillingPeriodStart requires of an invoice):

- BillingAccountId, BillingAccountName: the consumer charged (``Unallocated``, ``Rounding`` for lines for nobody).
- InvoiceIssuerName: Launch Ledger, which issues the statements.
- ProviderName, PublisherName: the charge's provider (a bill row without one is AWS's); on a row with no
  single charge behind it (rounding, restatements, the lines of a closed month) AWS when the month's bill is
  CUR or Cost Explorer, else Launch Ledger, which made the line.
- ServiceName: the charge's service, else the statement line; ServiceCategory: from the service name
  (``SERVICE_CATEGORIES``, one of the spec's values), Other when nothing matches.
- ChargeCategory: Usage, Purchase, Tax, Credit or Adjustment; ChargeClass ``Correction`` on restatements
  of closed months (a correction of a previous billing period), else null.
- BilledCost, EffectiveCost: the row's cents. ListCost: the charge's list cost, else the billed cost (what
  FOCUS prescribes for a charge without a list unit price). ContractedCost: the billed cost (the warehouse
  keeps no contracted prices; for credits and adjustments FOCUS prescribes exactly this).
- PricingQuantity, PricingUnit: 1 ``Allocations`` on Usage and Purchase rows (each row is one allocated
  share; the warehouse keeps no usage units), null where FOCUS requires null (Tax) or allows it.
- BillingPeriodStart/End, ChargePeriodStart/End: the month, ``YYYY-MM-DDTHH:mm:ssZ`` (UTC, end exclusive).
- ChargeDescription: the line, its kind and its rule.

Conditional columns kept: ResourceId, SubAccountId, Tags. Custom columns are prefixed ``x_``;
``x_FocusVersion`` says which FOCUS version the file conforms to (the spec keeps that in metadata).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pandas as pd

from chargeback.rules import Rules
from chargeback.statement import OUTSIDE, ROUNDING, UNALLOCATED, Statement
from core.months import next_month

FOCUS_VERSION = "1.0"
ISSUER = "Launch Ledger"
AWS = "AWS"
PRICING_UNIT = "Allocations"
# FOCUS 1.0, feature level Mandatory (specification/columns/*.md at tag v1.0).
MANDATORY_COLUMNS = (
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
)
CUSTOM_COLUMNS = (
    "x_Consumer",
    "x_AllocationLine",
    "x_AllocationKind",
    "x_AllocationRule",
    "x_StatementStatus",
    "x_RulesFingerprint",
    "x_FocusVersion",
)
# FOCUS columns first (alphabetical, as the spec allows), then the custom ones.
FOCUS_COLUMNS = (
    *sorted((*MANDATORY_COLUMNS, "ChargeFrequency", "ResourceId", "SubAccountId", "Tags")),
    *CUSTOM_COLUMNS,
)
CHARGE_CATEGORIES = ("Usage", "Purchase", "Tax", "Credit", "Adjustment")
# FOCUS 1.0 ServiceCategory values, matched on the service name (case-insensitive), first match wins.
SERVICE_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("Developer Tools", r"container registry|\becr\b|codebuild|codecommit|codepipeline|codedeploy|codeartifact|cloud9|x-ray"),
    ("AI and Machine Learning", r"sagemaker|bedrock|comprehend|rekognition|machine learning|textract|polly|transcribe|openai"),
    (
        "Analytics",
        r"athena|\bglue\b|\bemr\b|elastic mapreduce|kinesis|redshift|quicksight|opensearch|elasticsearch|lake formation",
    ),
    ("Databases", r"dynamodb|relational database|\brds\b|aurora|elasticache|documentdb|neptune|timestream|database|\bdb\b"),
    ("Identity", r"key management|\bkms\b|identity|\biam\b|cognito|directory service"),
    ("Security", r"\bwaf\b|shield|guardduty|security|inspector|macie|secrets manager|certificate manager|firewall"),
    ("Integration", r"simple queue|\bsqs\b|simple notification|\bsns\b|eventbridge|\bmq\b|appflow"),
    ("Migration", r"migration|datasync|transfer family|snowball"),
    (
        "Networking",
        r"virtual private cloud|\bvpc\b|cloudfront|route 53|load balanc|direct connect|global accelerator|api gateway"
        r"|transit gateway|data transfer|network",
    ),
    (
        "Storage",
        r"(?<![a-z0-9])s3\b|amazons3|simple storage|\bfsx\b|file system|\befs\b|elastic block|\bebs\b|glacier|storage|backup",
    ),
    (
        "Compute",
        r"ec2|elastic compute cloud|lambda|\bbatch\b|fargate|kubernetes|\beks\b|elastic container service|\becs\b|lightsail"
        r"|parallelcluster|step functions|virtual machine|compute|app runner|beanstalk",
    ),
    ("Management and Governance", r"cloudwatch|cloudtrail|\bconfig\b|systems manager|cloudformation|cost explorer|support"),
    ("Media", r"elemental|media"),
    ("Web", r"amplify"),
)
_CATEGORY_PATTERNS = tuple((name, re.compile(pattern, re.IGNORECASE)) for name, pattern in SERVICE_CATEGORIES)
_NOBODY = {"rounding": ROUNDING, "outside": OUTSIDE}


def service_category(service: str | None) -> str:
    """The FOCUS 1.0 ServiceCategory of a service name; Other when none of ``SERVICE_CATEGORIES`` matches."""
    if service:
        for name, pattern in _CATEGORY_PATTERNS:
            if pattern.search(service):
                return name
    return "Other"


def charge_category(value: str | None) -> str:
    """A FOCUS ChargeCategory; anything else is an Adjustment (charges that fall into no other category)."""
    found = {c.lower(): c for c in CHARGE_CATEGORIES}.get(str(value or "").strip().lower())
    return found or "Adjustment"


def _timestamp(day) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _number(value: Decimal | None) -> str | None:
    """FOCUS Numeric Format: plain digits, one point, a minus only for negatives (never ``-0.00``)."""
    if value is None:
        return None
    value = Decimal(value)
    return f"{(value if value else abs(value)):f}"


def _charges(statement: Statement) -> list[dict]:
    """The charges behind the lines; a closed month (or a month without charges) has one row per line."""
    if not statement.closed and len(statement.charges):
        return statement.charges.to_dict("records")
    return [
        {
            **line,
            "provider": None,
            "service": None,
            "account_id": None,
            "resource_id": None,
            "charge_category": "Adjustment"
            if line["line_kind"] in ("adjustment", "rounding")
            else ("Credit" if line["line_kind"] == "credit" else "Usage"),
            "effective_cost": line["amount"],
            "billed_cost": line["billed_amount"],
            "list_cost": None,
        }
        for line in statement.lines.to_dict("records")
    ]


def focus_row(c: dict, statement: Statement, rules: Rules) -> dict:
    """One FOCUS 1.0 row of charge ``c`` (a row of ``Statement.charges``) as CSV text (None is null)."""
    start, end = _timestamp(statement.month), _timestamp(next_month(statement.month))
    from_bill = c.get("service") is not None
    provider = c.get("provider") or (AWS if from_bill or statement.bill_source in ("cur", "cost-explorer") else ISSUER)
    category = charge_category(c["charge_category"])
    correction = c["line_kind"] == "adjustment"
    priced = category in ("Usage", "Purchase") and not correction
    account = c["consumer"] if c["consumer"] is not None else _NOBODY.get(c["line_kind"], UNALLOCATED)
    billed = c["billed_cost"]
    listed = c.get("list_cost")
    return {
        "BilledCost": _number(billed),
        "BillingAccountId": account,
        "BillingAccountName": account,
        "BillingCurrency": statement.currency,
        "BillingPeriodEnd": end,
        "BillingPeriodStart": start,
        "ChargeCategory": category,
        "ChargeClass": "Correction" if correction else None,
        "ChargeDescription": f"{c['line']} ({c['line_kind']}): {c['rule']}",
        "ChargeFrequency": "Usage-Based" if category == "Usage" else ("Recurring" if category == "Purchase" else "One-Time"),
        "ChargePeriodEnd": end,
        "ChargePeriodStart": start,
        "ContractedCost": _number(billed),
        "EffectiveCost": _number(c["effective_cost"]),
        "InvoiceIssuerName": ISSUER,
        "ListCost": _number(billed if listed is None or pd.isna(listed) else listed),
        "PricingQuantity": "1" if priced else None,
        "PricingUnit": PRICING_UNIT if priced else None,
        "ProviderName": provider,
        "PublisherName": provider,
        "ResourceId": c.get("resource_id"),
        "ServiceCategory": service_category(c.get("service")) if from_bill else "Other",
        "ServiceName": c.get("service") if from_bill else c["line"],
        "SubAccountId": c.get("account_id"),
        "Tags": json.dumps({rules.tag: c["consumer"]}, sort_keys=True) if c["consumer"] is not None else None,
        "x_Consumer": c["consumer"],
        "x_AllocationLine": c["line"],
        "x_AllocationKind": c["line_kind"],
        "x_AllocationRule": c["rule"],
        "x_StatementStatus": statement.status,
        "x_RulesFingerprint": statement.rules_fingerprint,
        "x_FocusVersion": FOCUS_VERSION,
    }


def focus_frame(statement: Statement, rules: Rules) -> pd.DataFrame:
    """The month's allocated costs as FOCUS 1.0 rows (text, None for null), in ``FOCUS_COLUMNS`` order.

    Always the whole month (filters only change what a page shows): EffectiveCost and BilledCost of a
    consumer's rows add up to its statement lines, and all rows to the statement total.
    """
    rows = [focus_row(c, statement, rules) for c in _charges(statement)]
    return pd.DataFrame(rows, columns=list(FOCUS_COLUMNS), dtype=object)


def to_focus_csv(statement: Statement, rules: Rules) -> bytes:
    """``focus_frame`` as CSV (UTF-8, a header row); null is an empty field."""
    frame = focus_frame(statement, rules)
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
