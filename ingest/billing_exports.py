"""Billing exports as cost sources: FOCUS 1.x (CSV or Parquet) and CUR (2.0 or legacy; Parquet or CSV) → ``costs_daily``.

``python -m ingest focus PATH`` and ``python -m ingest cur PATH`` read a file, a folder of files or an
``s3://`` prefix (downloaded with awswrangler; with ``--month``, only objects under that month's
``BILLING_PERIOD=YYYY-MM/`` folder when the export is partitioned that way). DuckDB reads the files
with a WHERE on the billing period, so a month of a large export is streamed, filtered at the scan
(Parquet row groups outside the month are skipped) and summed; it is never loaded whole into memory.

Rows are rolled up from hours to days (UTC) per account, service, tags, resource and charge category,
with effective and billed cost both kept (and list cost). Money is read as exact decimals (never
floats) and each day's sum is rounded half to even to 6 places, the warehouse's DECIMAL(18,6).
A row whose billing period, charge period or cost is missing or unreadable is quarantined with the
reason; the rest loads; an export of which nothing loads is a failed run. An import replaces that
source's rows of every billing month it holds, so importing the same export again changes nothing, and
a corrected export replaces the old one.

FOCUS: ``usage_month`` is BillingPeriodStart's month (the invoice), ``usage_date`` ChargePeriodStart's
day (kept inside the billing period), Tags parsed from a JSON string or a map (AWS writes user tags as
``user:key``), ProviderName kept. CUR: effective cost is the amortized cost (net of discounts where the
export has the ``net`` columns filled): Savings Plans and Reserved Instance usage at their effective
cost, unused commitment and unused RI fees as themselves, upfront fees and SP negation at zero.
The split cost allocation columns for ECS/Batch and EKS are kept, so a statement can attribute an
instance's cost to the tasks and pods that ran on it. The legacy columns are filled too:
unblended = billed, amortized = net amortized = effective.

Real CUR extracts are often trimmed, so only a usage start and a cost column are required: without
``bill_billing_period_start_date`` the billing month is the usage start's month; absent commitment
columns mean no commitment applies (a line item that needs one is quarantined, naming the column);
``resource_tags`` may be a map, a JSON string, a list of ``[key, value]`` pairs or of ``{key, value}``
structs, or legacy flattened ``resource_tags_*`` columns; legacy CUR CSV names (``lineItem/UnblendedCost``)
are read as their CUR 2.0 names. The run summary's notes say which of these applied.

The rows carrying the run tag (``[runs] tag`` of the allocation rules, ``Settings.run_tag``) are also summed per
run into ``launch_billed_costs`` and matched to launches (``ingest.billed_runs``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import SourceError
from core.settings import DEFAULT_RUN_TAG, Settings
from ingest.billed_runs import held_rows_sql, match_runs, replace_billed_runs
from warehouse.runs import JobRun, job_run, print_summary
from warehouse.store import WarehouseWriter, select_list

if TYPE_CHECKING:
    import boto3


FOCUS, CUR = "focus", "cur"
SUFFIXES = {".parquet": "parquet", ".csv": "csv", ".gz": "csv", ".zst": "csv"}
FOCUS_REQUIRED = ("BillingPeriodStart", "ChargePeriodStart", "BilledCost", "EffectiveCost", "ServiceName")
CUR_PERIOD, CUR_USAGE_START = "bill_billing_period_start_date", "line_item_usage_start_date"
CUR_COSTS = ("line_item_unblended_cost", "line_item_net_unblended_cost")  # one of them is needed
# Columns a CUR extract may leave out, and what their absence means (the run's notes list the absent ones).
CUR_OPTIONAL = (
    (
        (
            "savings_plan_savings_plan_effective_cost",
            "savings_plan_total_commitment_to_date",
            "savings_plan_used_commitment",
            "reservation_effective_cost",
            "reservation_unused_amortized_upfront_fee_for_billing_period",
            "reservation_unused_recurring_fee",
            "reservation_reservation_a_r_n",
        ),
        "taken as no Savings Plan or Reserved Instance: effective cost = billed cost",
    ),
    (("line_item_line_item_type",), "every row taken as Usage"),
    (("line_item_currency_code",), "costs taken as USD"),
    (("pricing_public_on_demand_cost",), "no list cost"),
)


@dataclass
class ExportFiles:
    files: list[Path]
    kind: str  # parquet or csv
    requests: int = 0


def _month_bounds(months: list[date]) -> list[tuple[date, date]]:
    out = []
    for m in sorted(set(months)):
        end = date(m.year + (m.month == 12), m.month % 12 + 1, 1)
        out.append((m, end))
    return out


def find_files(
    location: str, download_to: Path, months: list[date], session: boto3.Session | None = None, endpoint_url: str | None = None
) -> ExportFiles:
    """The export's data files, local or downloaded from s3:// (only the months asked for, when partitioned)."""
    if location.startswith("s3://"):
        import awswrangler as wr

        if endpoint_url:
            wr.config.s3_endpoint_url = endpoint_url

        keys = wr.s3.list_objects(location, suffix=list(SUFFIXES), boto3_session=session)
        requests = 1
        if months:
            wanted = {m.strftime("%Y-%m") for m in months}
            partitioned = [k for k in keys if "BILLING_PERIOD=" in k]
            if partitioned:
                keys = [k for k in partitioned if k.split("BILLING_PERIOD=", 1)[1][:7] in wanted]
        files = []
        for n, key in enumerate(sorted(keys)):
            local = download_to / f"{n:05d}-{Path(key).name}"
            wr.s3.download(path=key, local_file=str(local), boto3_session=session)
            files.append(local)
            requests += 1
        if not files:
            raise SourceError(f"no export files (*.parquet, *.csv, *.csv.gz) under {location}")
        return ExportFiles(files, _kind(files, location), requests)
    path = Path(location)
    if not path.exists():
        raise SourceError(f"{location} does not exist: give a FOCUS or CUR export file, a folder of them, or s3://bucket/prefix")
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES) if path.is_dir() else [path]
    if not files:
        raise SourceError(f"no export files (*.parquet, *.csv, *.csv.gz) in {location}")
    return ExportFiles(files, _kind(files, location))


def _kind(files: list[Path], location: str) -> str:
    kinds = {SUFFIXES.get(f.suffix, "csv") for f in files}
    if len(kinds) > 1:
        raise SourceError(f"{location} mixes Parquet and CSV files: import each format on its own")
    return kinds.pop()


def _scan_sql(found: ExportFiles) -> str:
    listing = ", ".join("'" + str(f).replace("'", "''") + "'" for f in found.files)
    if found.kind == "parquet":
        return f"read_parquet([{listing}], union_by_name = true)"
    # everything as text: money is cast to DECIMAL below, never parsed as a float
    return f"read_csv([{listing}], header = true, all_varchar = true, nullstr = ['NULL', ''], union_by_name = true)"


def _columns(con, scan: str, location: str) -> dict[str, str]:
    try:
        return {name: dtype for name, dtype, *_ in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()}
    except Exception as exc:  # DuckDB says what is wrong with the file; one line of it
        raise SourceError(f"cannot read {location}: {str(exc).strip().splitlines()[0]}") from None


MONEY = "DECIMAL(38,18)"  # exact decimals while summing: a float's shortest form keeps all its digits


def _money(expr: str) -> str:
    # via text: a float column becomes its shortest decimal form, a decimal column stays exact
    return f"TRY_CAST(CAST({expr} AS VARCHAR) AS {MONEY})"


def _time(expr: str) -> str:
    return f"CAST(TRY_CAST(CAST({expr} AS VARCHAR) AS TIMESTAMPTZ) AS TIMESTAMP)"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _tags_text(column: str, dtype: str) -> str:
    """A tags column as JSON text, whatever its type (map, struct, list of pairs, JSON string)."""
    if dtype in ("VARCHAR", "JSON"):
        return f"CAST({_q(column)} AS VARCHAR)"
    return f"CAST(to_json({_q(column)}) AS VARCHAR)"


def _flat_tags_text(columns: list[str], prefix: str) -> str:
    """One tag a column (legacy CUR ``resource_tags_user_team``, ``resourceTags/user:team``) as a JSON object."""
    parts = []
    for name in columns:
        key = _literal(json.dumps(name[len(prefix) :]))
        value = f"NULLIF(CAST({_q(name)} AS VARCHAR), '')"
        parts.append(f"CASE WHEN {value} IS NOT NULL THEN {key} || ':' || to_json({value}) END")
    return f"NULLIF('{{' || concat_ws(',', {', '.join(parts)}) || '}}', '{{}}')"


# JSON text of tags as a JSON object: an object as it is; a list of [key, value] pairs or of {key, value}
# objects (how some tools write CUR resource_tags) as the object they mean; anything else as no tags.
TAGS_OBJECT = """CASE
        WHEN tags IS NULL OR NOT json_valid(tags) THEN NULL
        WHEN json_type(tags) = 'OBJECT' THEN tags
        WHEN json_type(tags) = 'ARRAY' THEN NULLIF('{' || array_to_string(list_transform(list_filter(
            list_transform(json_extract(tags, '$[*]'), lambda e: CASE json_type(e)
                WHEN 'ARRAY' THEN struct_pack(k := json_extract_string(e, '$[0]'), v := json_extract_string(e, '$[1]'))
                WHEN 'OBJECT' THEN struct_pack(
                    k := COALESCE(json_extract_string(e, '$.key'), json_extract_string(e, '$.Key')),
                    v := COALESCE(json_extract_string(e, '$.value'), json_extract_string(e, '$.Value')))
            END),
            lambda p: p.k IS NOT NULL), lambda p: to_json(p.k) || ':' || COALESCE(to_json(p.v), 'null')), ',') || '}', '{}')
    END"""


# A list of tags with an element that is neither a [key, value] pair nor a {key, value} object (with a key).
TAGS_NOT_PAIRS = """json_valid(tags) AND json_type(tags) = 'ARRAY' AND len(list_filter(json_extract(tags, '$[*]'),
        lambda e: NOT coalesce((json_type(e) = 'ARRAY' AND json_array_length(e) = 2 AND json_extract_string(e, '$[0]')
                                IS NOT NULL)
                               OR (json_type(e) = 'OBJECT' AND COALESCE(json_extract_string(e, '$.key'),
                                                                        json_extract_string(e, '$.Key')) IS NOT NULL),
                               false))) > 0"""


def _tag_lookup(tags: str, tag: str) -> str:
    """The value of ``tag`` in a JSON object of tags, as written plain, ``user:tag`` (AWS FOCUS) or ``user_tag`` (CUR)."""

    def path(key: str) -> str:
        return _literal('$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"')

    return "COALESCE(" + ", ".join(f"json_extract_string({tags}, {path(k)})" for k in (tag, f"user:{tag}", f"user_{tag}")) + ")"


def _period_filter(column: str, dtype: str, months: list[date]) -> str:
    """A WHERE on the raw billing-period column, so the scan itself skips other months.

    The bounds are ``date`` objects written as literals (a view cannot take parameters): never user text.
    """
    if not months:
        return "true"
    typed = dtype.startswith("TIMESTAMP") or dtype == "DATE"
    parts = []
    for start, end in _month_bounds(months):
        low, high = (
            (f"DATE '{start.isoformat()}'", f"DATE '{end.isoformat()}'")
            if typed
            else (f"'{start.isoformat()}'", f"'{end.isoformat()}'")
        )
        # ISO 8601 text sorts like the time it names, so a CSV's text column compares as well as a timestamp
        parts.append(f"({_q(column)} >= {low} AND {_q(column)} < {high})")
    return "(" + " OR ".join(parts) + ")"


@dataclass
class Layout:
    """How to read one export: the scan, its columns (CUR 2.0 names), the column --month filters, notes."""

    scan: str
    columns: dict[str, str]
    period_column: str
    notes: list[str] = field(default_factory=list)


def _snake(word: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z])", "_", word).lower()


def _cur2_name(name: str) -> str:
    """A legacy CUR column's CUR 2.0 name: ``lineItem/UnblendedCost`` -> ``line_item_unblended_cost``.

    Resource tag columns keep their key (``resourceTags/user:team`` -> ``resource_tags_user:team``).
    """
    if "/" not in name:
        return name
    group, rest = name.split("/", 1)
    return f"resource_tags_{rest}" if group == "resourceTags" else f"{_snake(group)}_{_snake(rest)}"


def _layout(con, found: ExportFiles, source: str, location: str) -> Layout:
    scan = _scan_sql(found)
    columns = _columns(con, scan, location)
    found_list = ", ".join(list(columns)[:6])
    if source == FOCUS:
        missing = [c for c in FOCUS_REQUIRED if c not in columns]
        if missing:
            raise SourceError(f"{location} is not a FOCUS 1.x export: column {missing[0]} is missing (found {found_list}, ...)")
        return Layout(scan, columns, "BillingPeriodStart")
    notes = []
    if any("/" in c for c in columns):  # a legacy CUR CSV: bill/..., lineItem/..., resourceTags/...
        renamed: dict[str, str] = {}
        for name in columns:
            renamed.setdefault(_cur2_name(name), name)
        scan = "(SELECT " + ", ".join(f"{_q(old)} AS {_q(new)}" for new, old in renamed.items()) + f" FROM {scan})"
        columns = {new: columns[old] for new, old in renamed.items()}
        notes.append("legacy CUR column names (lineItem/UnblendedCost, ...) read as their CUR 2.0 names")
    if CUR_USAGE_START not in columns:
        raise SourceError(
            f"{location} is not a CUR 2.0 export: column {CUR_USAGE_START} is missing (found {found_list}, ...); "
            "export the CUR 2.0 table with its line_item columns"
        )
    if not any(c in columns for c in CUR_COSTS):
        raise SourceError(
            f"{location} has no cost column: a CUR 2.0 export needs {CUR_COSTS[0]} (or {CUR_COSTS[1]}); "
            "add it to the export's columns and export again"
        )
    period = CUR_PERIOD if CUR_PERIOD in columns else CUR_USAGE_START
    if period != CUR_PERIOD:
        notes.append(f"{CUR_PERIOD} is absent: each row's billing month is the month (UTC) of {CUR_USAGE_START}")
    absent = [f"{', '.join(names)} ({meaning})" for names, meaning in _absent(columns)]
    if absent:
        notes.append("columns absent from the export: " + "; ".join(absent))
    return Layout(scan, columns, period, notes)


def _absent(columns: dict[str, str]) -> list[tuple[list[str], str]]:
    out = []
    for names, meaning in CUR_OPTIONAL:
        gone = [n for n in names if n not in columns]
        if gone:
            out.append((gone, meaning))
    return out


def _focus_select(columns: dict[str, str]) -> str:
    def col(name: str, kind: str = "text") -> str:
        if name not in columns:
            return "NULL"
        if kind == "money":
            return _money(_q(name))
        return f"CAST({_q(name)} AS VARCHAR)"

    tags = _tags_text("Tags", columns["Tags"]) if "Tags" in columns else "CAST(NULL AS VARCHAR)"
    raw_effective = f"CAST({_q('EffectiveCost')} AS VARCHAR)"
    return f"""
        {_time(_q("BillingPeriodStart"))} AS period_start,
        {_time(_q("ChargePeriodStart"))} AS charge_start,
        {col("EffectiveCost", "money")} AS effective_cost,
        {col("BilledCost", "money")} AS billed_cost,
        {col("ListCost", "money")} AS list_cost,
        CASE WHEN {raw_effective} IS NOT NULL THEN 'the effective cost ' || {raw_effective} || ' is not a number'
             ELSE 'the effective cost is missing' END AS effective_problem,
        CAST({_q("BilledCost")} AS VARCHAR) AS raw_billed,
        TRY_CAST({col("ConsumedQuantity")} AS DOUBLE) AS usage_quantity,
        {col("SubAccountId")} AS account_id,
        {col("ServiceName")} AS service,
        {col("ResourceId")} AS resource_id,
        COALESCE({col("ChargeCategory")}, 'Usage') AS charge_category,
        COALESCE({col("BillingCurrency")}, 'USD') AS currency,
        CASE WHEN {col("ProviderName")} = 'AWS' THEN NULL ELSE {col("ProviderName")} END AS provider,
        {tags} AS tags,
        CAST(NULL AS VARCHAR) AS split_parent_resource_id,
        CAST(NULL AS {MONEY}) AS split_cost,
        CAST(NULL AS {MONEY}) AS split_unused_cost"""


class _CurColumns:
    """SQL expressions over the columns a CUR export has: absent columns are NULL, net ones preferred where set."""

    def __init__(self, columns: dict[str, str]):
        self.columns = columns

    def has(self, name: str | None) -> bool:
        return name is not None and name in self.columns

    def text(self, name: str) -> str:
        return f"CAST({_q(name)} AS VARCHAR)" if self.has(name) else "NULL"

    def raw(self, name: str, net: str | None = None) -> str:
        # the net column where it has a value (an export with discounts), else the gross one
        present = [self.text(n) for n in (net, name) if self.has(n)]
        return f"COALESCE({', '.join(present)})" if present else "NULL"

    def money(self, name: str, net: str | None = None) -> str:
        value = self.raw(name, net)
        return f"CAST(NULL AS {MONEY})" if value == "NULL" else f"TRY_CAST({value} AS {MONEY})"


def _commitment_rates(c: _CurColumns) -> tuple:
    """(line item type, the columns it needs as (gross, net), its effective cost) for commitment line items."""
    money = c.money
    unused_fees = f"""COALESCE({
        money(
            "reservation_unused_amortized_upfront_fee_for_billing_period",
            "reservation_net_unused_amortized_upfront_fee_for_billing_period",
        )
    }, 0)
        + COALESCE({money("reservation_unused_recurring_fee", "reservation_net_unused_recurring_fee")}, 0)"""
    return (
        (
            "SavingsPlanCoveredUsage",
            [("savings_plan_savings_plan_effective_cost", "savings_plan_net_savings_plan_effective_cost")],
            money("savings_plan_savings_plan_effective_cost", "savings_plan_net_savings_plan_effective_cost"),
        ),
        (
            "SavingsPlanRecurringFee",
            [("savings_plan_total_commitment_to_date", None), ("savings_plan_used_commitment", None)],
            f"{money('savings_plan_total_commitment_to_date')} - {money('savings_plan_used_commitment')}",
        ),
        (
            "DiscountedUsage",
            [("reservation_effective_cost", "reservation_net_effective_cost")],
            money("reservation_effective_cost", "reservation_net_effective_cost"),
        ),
        ("RIFee", [("reservation_unused_recurring_fee", "reservation_net_unused_recurring_fee")], unused_fees),
    )


def _cur_effective(c: _CurColumns, kind: str, unblended: str) -> tuple[str, str]:
    """(effective cost, why it could not be computed): AWS's amortized cost, commitments at their effective rate,
    upfront fees spread, unused commitment as itself. A line item type whose columns the export lacks cannot be
    priced so: it is quarantined, saying which column."""
    has = c.has
    reservation_arn = f"COALESCE({c.text('reservation_reservation_a_r_n')}, '')"
    cases, problems = [], []
    for line_type, needed, expression in _commitment_rates(c):
        lacking = [gross for gross, net in needed if not (has(gross) or has(net))]
        names = " or ".join(gross for gross, _ in needed)
        if lacking:
            cases.append(f"WHEN {_literal(line_type)} THEN CAST(NULL AS {MONEY})")
            problems.append(
                f"WHEN {_literal(line_type)} THEN "
                + _literal(f"a {line_type} line item needs {lacking[0]}, which this export lacks: add the column to the export")
            )
        else:
            cases.append(f"WHEN {_literal(line_type)} THEN {expression}")
            problems.append(
                f"WHEN {_literal(line_type)} THEN "
                + _literal(
                    f"the effective cost could not be computed: {names} is empty or not a number on this {line_type} line item"
                )
            )
    effective = f"""CASE {kind}
            {" ".join(cases)}
            WHEN 'SavingsPlanNegation' THEN 0
            WHEN 'SavingsPlanUpfrontFee' THEN 0
            ELSE CASE WHEN {kind} = 'Fee' AND {reservation_arn} <> '' THEN 0 ELSE {unblended} END
        END"""
    return effective, f"CASE {kind} {' '.join(problems)} ELSE 'the effective cost could not be computed' END"


def _cur_category(kind: str) -> str:
    """FOCUS's charge category of a CUR line item type."""
    return f"""CASE
            WHEN {kind} IN ('Credit', 'Refund') THEN 'Credit'
            WHEN {kind} = 'Tax' THEN 'Tax'
            WHEN {kind} IN ('Fee', 'RIFee', 'SavingsPlanUpfrontFee', 'SavingsPlanRecurringFee') THEN 'Purchase'
            WHEN {kind} LIKE '%Discount' THEN 'Adjustment'  -- Discount, BundledDiscount, EdpDiscount, ... (not DiscountedUsage)
            ELSE 'Usage'
        END"""


def _cur_service_and_tags(c: _CurColumns) -> tuple[str, str]:
    """The service name (product name, service code or product code) and the resource tags as JSON text."""
    columns = c.columns
    service_parts = []
    if c.has("product") and columns["product"].startswith("MAP"):
        service_parts.append(f"element_at({_q('product')}, 'product_name')[1]")
    for name in ("product_product_name", "product_servicecode", "line_item_product_code"):
        if c.has(name):
            service_parts.append(f"CAST({_q(name)} AS VARCHAR)")
    service = f"COALESCE({', '.join(service_parts)})" if service_parts else "NULL"
    flat_tags = [name for name in columns if name.startswith("resource_tags_")]
    if c.has("resource_tags"):
        tags = _tags_text("resource_tags", columns["resource_tags"])
    elif flat_tags:
        tags = _flat_tags_text(flat_tags, "resource_tags_")
    else:
        tags = "CAST(NULL AS VARCHAR)"
    return service, tags


def _cur_select(columns: dict[str, str]) -> str:
    """The CUR export's columns as the importer's normalised row (period, charge start, costs, tags, ...)."""
    c = _CurColumns(columns)
    text, money, raw = c.text, c.money, c.raw
    kind = text("line_item_line_item_type") if c.has("line_item_line_item_type") else "'Usage'"
    unblended = money("line_item_unblended_cost", "line_item_net_unblended_cost")
    effective, problem = _cur_effective(c, kind, unblended)
    service, tags = _cur_service_and_tags(c)
    account = next((text(n) for n in ("line_item_usage_account_id", "bill_payer_account_id") if c.has(n)), "NULL")
    usage_start = _time(_q(CUR_USAGE_START))
    period = _time(_q(CUR_PERIOD)) if c.has(CUR_PERIOD) else f"CAST(date_trunc('month', {usage_start}) AS TIMESTAMP)"
    return f"""
        {period} AS period_start,
        {usage_start} AS charge_start,
        {effective} AS effective_cost,
        {unblended} AS billed_cost,
        {money("pricing_public_on_demand_cost")} AS list_cost,
        {problem} AS effective_problem,
        {raw("line_item_unblended_cost", "line_item_net_unblended_cost")} AS raw_billed,
        TRY_CAST({text("line_item_usage_amount")} AS DOUBLE) AS usage_quantity,
        {account} AS account_id,
        {service} AS service,
        NULLIF({text("line_item_resource_id")}, '') AS resource_id,
        {_cur_category(kind)} AS charge_category,
        COALESCE({text("line_item_currency_code")}, 'USD') AS currency,
        CAST(NULL AS VARCHAR) AS provider,
        {tags} AS tags,
        NULLIF({text("split_line_item_parent_resource_id")}, '') AS split_parent_resource_id,
        {money("split_line_item_split_cost", "split_line_item_net_split_cost")} AS split_cost,
        {money("split_line_item_unused_cost", "split_line_item_net_unused_cost")} AS split_unused_cost"""


@dataclass
class ExportLoad:
    rows: int
    quarantined: int
    loaded: int
    unchanged: int
    months: list[str]
    reasons: dict[str, int]
    notes: list[str] = field(default_factory=list)
    runs: int = 0  # launch_billed_costs rows (run tag value x month) this export holds
    runs_matched: int = 0  # of those, the ones whose run tag names a launch held


def load_export(
    writer: WarehouseWriter,
    found: ExportFiles,
    source: str,
    location: str,
    tag: str,
    months: list[date],
    run_tag: str = DEFAULT_RUN_TAG,
) -> ExportLoad:
    """Quarantine the unreadable rows, roll the rest up to days, replace the source's rows of those months.

    The rows carrying ``run_tag`` are summed per tag value and month into ``launch_billed_costs`` (that
    source's rows of those months replaced too), then ``match_runs`` ties them to the launches held.
    """
    con = writer.con
    con.execute("SET TimeZone = 'UTC'")
    layout = _layout(con, found, source, location)
    columns = layout.columns
    where = _period_filter(layout.period_column, columns[layout.period_column], months)
    _stage_export(writer, layout, source, where, tag, run_tag)
    reasons, quarantined = _quarantine_export(writer, location)
    rows = int(con.execute("SELECT COALESCE(sum(export_rows), 0) FROM incoming_export").fetchall()[0][0]) + quarantined
    loaded_months = [
        m.strftime("%Y-%m") for (m,) in con.execute("SELECT DISTINCT usage_month FROM incoming_export ORDER BY 1").fetchall()
    ]
    if not loaded_months:
        return ExportLoad(rows, quarantined, 0, 0, [], reasons, layout.notes)
    replace_billed_runs(writer, source, loaded_months, "incoming_runs")
    match_runs(writer)
    runs, matched = con.execute(
        f"""SELECT count(*), count(l.launch_id) FROM incoming_runs r
            LEFT JOIN (SELECT DISTINCT launch_id FROM ({held_rows_sql(writer, "launches")})) l ON l.launch_id = r.run_tag"""
    ).fetchall()[0]
    daily = con.execute("SELECT count(*) FROM incoming_export").fetchall()[0][0]
    load = ExportLoad(rows, quarantined, 0, daily, loaded_months, reasons, layout.notes, runs, matched)
    if _replace_costs_daily(writer, source, loaded_months):
        load.loaded, load.unchanged = daily, 0
    return load


def _stage_export(writer: WarehouseWriter, layout: Layout, source: str, where: str, tag: str, run_tag: str) -> None:
    """The export's rows checked (``export_rows``), the bad ones apart, the rest rolled up to days and runs."""
    con = writer.con
    columns = layout.columns
    normalised = _focus_select(columns) if source == FOCUS else _cur_select(columns)
    key_column = "ResourceId" if source == FOCUS else "line_item_resource_id"
    record_key = _q(key_column) if key_column in columns else "NULL"
    tags_column = "Tags" if source == FOCUS else "resource_tags"
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW export_rows AS
        SELECT *,
            CASE
                WHEN charge_start IS NULL THEN 'the charge period start is missing or not a timestamp'
                WHEN period_start IS NULL THEN 'the billing period start is missing or not a timestamp'
                {_out_of_range_reasons()}
                WHEN billed_cost IS NULL AND isfinite(TRY_CAST(raw_billed AS DOUBLE))
                    THEN 'the billed cost ' || raw_billed || ' is out of range (at most 999,999,999,999.999999)'
                WHEN billed_cost IS NULL AND raw_billed IS NOT NULL THEN 'the billed cost ' || raw_billed || ' is not a number'
                WHEN billed_cost IS NULL THEN 'the billed cost is missing'
                WHEN effective_cost IS NULL THEN effective_problem
                WHEN (tags_json IS NULL AND tags IS NOT NULL AND trim(tags) NOT IN ('', 'null', '[]', '{{}}'))
                     OR ({TAGS_NOT_PAIRS})
                    THEN 'the tags ({tags_column}) are not a JSON object, a map or a list of [key, value] pairs or '
                         || '{{key, value}} objects: found ' || left(tags, 80)
            END AS reason,
            CAST(date_trunc('month', period_start) AS DATE) AS usage_month
        FROM (SELECT *, {TAGS_OBJECT} AS tags_json FROM (
              SELECT {normalised}, CAST({record_key} AS VARCHAR) AS record_key, CAST(to_json(src) AS VARCHAR) AS raw_record
              FROM {layout.scan} AS src WHERE {where}))"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE export_quarantine AS
        SELECT record_key, reason, raw_record FROM export_rows WHERE reason IS NOT NULL"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW valid_rows AS
        SELECT *, {_tag_lookup("tags_json", tag)} AS consumer, NULLIF({_tag_lookup("tags_json", run_tag)}, '') AS run_tag
        FROM (SELECT *, LEAST(GREATEST(CAST(charge_start AS DATE), usage_month),
                      CAST(usage_month + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE)) AS usage_date
              FROM export_rows WHERE reason IS NULL)"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE incoming_export AS
        SELECT
            usage_date, usage_month, account_id, service, $tag AS tag_key, consumer,
            CAST(round_even(sum(billed_cost), 6) AS DECIMAL(18,6)) AS unblended_cost,
            CAST(round_even(sum(effective_cost), 6) AS DECIMAL(18,6)) AS amortized_cost,
            CAST(round_even(sum(effective_cost), 6) AS DECIMAL(18,6)) AS net_amortized_cost,
            sum(usage_quantity) AS usage_quantity, currency, false AS estimated, $source AS source, $run_id AS ingest_run_id,
            CAST(round_even(sum(billed_cost), 6) AS DECIMAL(18,6)) AS billed_cost,
            CAST(round_even(sum(effective_cost), 6) AS DECIMAL(18,6)) AS effective_cost,
            CAST(round_even(sum(list_cost), 6) AS DECIMAL(18,6)) AS list_cost,
            charge_category, resource_id, tags_json AS tags, split_parent_resource_id,
            CAST(round_even(sum(split_cost), 6) AS DECIMAL(18,6)) AS split_cost,
            CAST(round_even(sum(split_unused_cost), 6) AS DECIMAL(18,6)) AS split_unused_cost,
            provider, count(*) AS export_rows
        FROM valid_rows
        GROUP BY usage_date, usage_month, account_id, service, consumer, tags_json, resource_id, charge_category, currency,
                 split_parent_resource_id, provider""",
        {"tag": tag, "source": source, "run_id": writer.run_id},
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE incoming_runs AS
        SELECT CAST(NULL AS VARCHAR) AS launch_id, run_tag, usage_month,
            CAST(round_even(sum(split_cost), 6) AS DECIMAL(18,6)) AS split_cost,
            CAST(round_even(sum(split_unused_cost), 6) AS DECIMAL(18,6)) AS split_unused_cost,
            CAST(round_even(sum(billed_cost), 6) AS DECIMAL(18,6)) AS billed_cost,
            CAST(round_even(sum(effective_cost), 6) AS DECIMAL(18,6)) AS effective_cost,
            count(*) AS rows, currency, $source AS source, $run_id AS ingest_run_id
        FROM valid_rows WHERE run_tag IS NOT NULL
        GROUP BY run_tag, usage_month, currency""",
        {"source": source, "run_id": writer.run_id},
    )


# A row's amounts must fit the warehouse's DECIMAL(18,6) (12 digits before the point), and its times this century.
_MAX_AMOUNT = "1e12"
_AMOUNTS = (
    ("billed_cost", "the billed cost"),
    ("effective_cost", "the effective cost"),
    ("list_cost", "the list cost"),
    ("split_cost", "the split cost"),
    ("split_unused_cost", "the split unused cost"),
)


def _out_of_range_reasons() -> str:
    """CASE branches naming an amount too large for DECIMAL(18,6), or a period outside 2000..2099."""
    times = [
        f"WHEN NOT ({column} >= TIMESTAMP '2000-01-01' AND {column} < TIMESTAMP '2100-01-01') THEN "
        f"'{words} ' || strftime({column}, '%Y-%m-%d %H:%M:%S') || ' is outside 2000..2099: not a real billing time'"
        for column, words in (("charge_start", "the charge period start"), ("period_start", "the billing period start"))
    ]
    amounts = [
        f"WHEN abs({column}) >= {_MAX_AMOUNT} THEN '{words} ' || CAST({column} AS VARCHAR) "
        "|| ' is out of range (at most 999,999,999,999.999999)'"
        for column, words in _AMOUNTS
    ]
    return "\n                ".join(times + amounts)


def _quarantine_export(writer: WarehouseWriter, location: str) -> tuple[dict[str, int], int]:
    """Record the rows that could not be read, with their reasons; returns (reasons with counts, rows quarantined)."""
    con = writer.con
    reasons = dict(con.execute("SELECT reason, count(*) FROM export_quarantine GROUP BY reason").fetchall())
    quarantined = sum(reasons.values())
    if quarantined:
        writer.write_partitions(
            "quarantine",
            "SELECT $run_id AS run_id, $location AS source, record_key, reason, raw_record, now()::TIMESTAMP AS quarantined_at "
            "FROM export_quarantine",
            {"run_id": writer.run_id, "location": location},
        )
    return reasons, quarantined


def _replace_costs_daily(writer: WarehouseWriter, source: str, loaded_months: list[str]) -> bool:
    """Replace the source's rows of those months with the export's, unless they are the same; True when written."""
    con = writer.con
    content = [c for c, _ in _schema() if c != "ingest_run_id"]
    listing = ", ".join(content)
    existing = (
        f"SELECT {listing} FROM costs_daily WHERE source = $source AND strftime(usage_month, '%Y-%m') IN (SELECT unnest($months))"
    )
    different = con.execute(
        f"""SELECT count(*) FROM (
            (SELECT {listing} FROM incoming_export EXCEPT ALL {existing})
            UNION ALL
            ({existing} EXCEPT ALL SELECT {listing} FROM incoming_export))""",
        {"source": source, "months": loaded_months},
    ).fetchall()[0][0]
    if not different:
        return False
    written = writer.write_partitions(
        "costs_daily",
        f"""SELECT * FROM costs_daily
            WHERE strftime(usage_month, '%Y-%m') IN (SELECT unnest($months)) AND source IS DISTINCT FROM $source
            UNION ALL BY NAME SELECT {select_list("costs_daily")} FROM incoming_export""",
        {"months": loaded_months, "source": source},
    )
    writer.drop_partitions("costs_daily", [m for m in loaded_months if m not in written])
    return True


def _schema() -> list[tuple[str, str]]:
    from warehouse.store import schema_columns

    return schema_columns()["costs_daily"]


def ingest_export(
    settings: Settings,
    source: str,
    location: str,
    months: list[date] | None = None,
    tag: str | None = None,
    session: boto3.Session | None = None,
    endpoint_url: str | None = None,
) -> JobRun:
    """Load a FOCUS or CUR 2.0 export (file, folder or s3:// prefix) into costs_daily, as one recorded run.

    A non-empty export of which no row loads (every row quarantined) is a failed run: the quarantine is
    kept, the summary printed, and a ``SourceError`` raised (the command exits 1).
    """
    months = sorted({m.replace(day=1) for m in months or []})
    tag = tag or settings.consumer_tag
    run_tag = settings.run_tag
    failure = None
    with job_run(settings.data_dir, source, location, settings=settings) as run:
        found = find_files(location, run.writer.tmp, months, session, endpoint_url)
        run.stats.api_requests += found.requests
        loaded = load_export(run.writer, found, source, location, tag, months, run_tag)
        s = run.stats
        s.records_read += loaded.rows
        s.records_quarantined += loaded.quarantined
        s.records_loaded += loaded.loaded
        s.records_unchanged += loaded.unchanged
        s.add_reasons(loaded.reasons)
        s.notes.append(
            f"{len(found.files)} {found.kind} file(s); billing month(s) {', '.join(loaded.months) or 'none'}"
            f"{' (asked for ' + ', '.join(m.strftime('%Y-%m') for m in months) + ')' if months else ''}; "
            f"{loaded.loaded or loaded.unchanged:,} daily rows; consumer tag {tag!r}"
        )
        s.notes.extend(loaded.notes)
        if loaded.months:
            s.notes.append(
                f"run tag {run_tag!r} ([runs] tag): {loaded.runs:,} run x month row(s) in launch_billed_costs, "
                f"{loaded.runs_matched:,} matched to a launch"
            )
        if months and len(loaded.months) < len(months):
            absent = sorted({m.strftime("%Y-%m") for m in months} - set(loaded.months))
            s.notes.append(f"no rows for {', '.join(absent)} in {location}: nothing replaced for those months")
        if loaded.loaded:
            s.notes.append(f"replaced the {source} rows of {', '.join(loaded.months)}; rows from other sources are untouched")
        if loaded.rows and not (loaded.loaded or loaded.unchanged):
            failure = (
                f"nothing loaded from {location}: all {loaded.rows:,} rows were quarantined; "
                "the reasons are in the summary above and in the quarantine table"
            )
            s.outcome, s.message = "failed", failure
    print_summary(run)
    if failure:
        raise SourceError(failure)
    return run
