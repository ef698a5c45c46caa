"""Billing exports as cost sources: FOCUS 1.x (CSV or Parquet) and CUR 2.0 (Parquet) → ``costs_daily``.

``python -m ingest focus PATH`` and ``python -m ingest cur PATH`` read a file, a folder of files or an
``s3://`` prefix (downloaded with awswrangler; with ``--month``, only objects under that month's
``BILLING_PERIOD=YYYY-MM/`` folder when the export is partitioned that way). DuckDB reads the files
with a WHERE on the billing period, so a month of a large export is streamed, filtered at the scan
(Parquet row groups outside the month are skipped) and summed; it is never loaded whole into memory.

Rows are rolled up from hours to days (UTC) per account, service, tags, resource and charge category,
with effective and billed cost both kept (and list cost). Money is read as exact decimals (never
floats) and each day's sum is rounded half to even to 6 places, the warehouse's DECIMAL(18,6).
A row whose billing period, charge period or cost is missing or unreadable is quarantined with the
reason; the rest loads. An import replaces that source's rows of every billing month it holds, so
importing the same export again changes nothing, and a corrected export replaces the old one.

FOCUS: ``usage_month`` is BillingPeriodStart's month (the invoice), ``usage_date`` ChargePeriodStart's
day (kept inside the billing period), Tags parsed as a JSON object (AWS writes user tags as
``user:key``), ProviderName kept. CUR 2.0: effective cost is the amortized cost (net of discounts
when the export has the ``net`` columns): Savings Plans and Reserved Instance usage at their effective
cost, unused commitment and unused RI fees as themselves, upfront fees and SP negation at zero.
The split cost allocation columns for ECS/Batch and EKS are kept, so a statement can attribute an
instance's cost to the tasks and pods that ran on it. The legacy columns are filled too:
unblended = billed, amortized = net amortized = effective.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import SourceError
from core.settings import Settings
from warehouse.runs import JobRun, job_run, print_summary
from warehouse.store import WarehouseWriter, select_list

if TYPE_CHECKING:
    import boto3

FOCUS, CUR = "focus", "cur"
SUFFIXES = {".parquet": "parquet", ".csv": "csv", ".gz": "csv", ".zst": "csv"}
FOCUS_REQUIRED = ("BillingPeriodStart", "ChargePeriodStart", "BilledCost", "EffectiveCost", "ServiceName")
CUR_REQUIRED = (
    "bill_billing_period_start_date",
    "line_item_usage_start_date",
    "line_item_line_item_type",
    "line_item_unblended_cost",
)
CREDIT_TYPES = ("Credit", "Refund")


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


def _money(expr: str) -> str:
    # via text: a float column becomes its shortest decimal form, a decimal column stays exact
    return f"TRY_CAST(CAST({expr} AS VARCHAR) AS DECIMAL(38,12))"


def _time(expr: str) -> str:
    return f"CAST(TRY_CAST(CAST({expr} AS VARCHAR) AS TIMESTAMPTZ) AS TIMESTAMP)"


def _text_json(column: str, dtype: str) -> str:
    if dtype.startswith(("MAP", "STRUCT")):
        return f"CAST(to_json({column}) AS VARCHAR)"
    return f"CAST({column} AS VARCHAR)"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tag_paths(tag: str) -> dict[str, str]:
    def path(key: str) -> str:
        return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return {"tag_path": path(tag), "tag_path_colon": path(f"user:{tag}"), "tag_path_underscore": path(f"user_{tag}")}


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


def _focus_select(columns: dict[str, str]) -> str:
    def col(name: str, kind: str = "text") -> str:
        if name not in columns:
            return "NULL"
        if kind == "money":
            return _money(_q(name))
        return f"CAST({_q(name)} AS VARCHAR)"

    tags = _text_json(_q("Tags"), columns["Tags"]) if "Tags" in columns else "NULL"
    return f"""
        {_time(_q("BillingPeriodStart"))} AS period_start,
        {_time(_q("ChargePeriodStart"))} AS charge_start,
        {col("EffectiveCost", "money")} AS effective_cost,
        {col("BilledCost", "money")} AS billed_cost,
        {col("ListCost", "money")} AS list_cost,
        CAST({_q("EffectiveCost")} AS VARCHAR) AS raw_effective,
        CAST({_q("BilledCost")} AS VARCHAR) AS raw_billed,
        TRY_CAST(CAST({_q("ConsumedQuantity") if "ConsumedQuantity" in columns else "NULL"} AS VARCHAR) AS DOUBLE) AS usage_quantity,
        {col("SubAccountId")} AS account_id,
        {col("ServiceName")} AS service,
        {col("ResourceId")} AS resource_id,
        COALESCE({col("ChargeCategory")}, 'Usage') AS charge_category,
        COALESCE({col("BillingCurrency")}, 'USD') AS currency,
        CASE WHEN {col("ProviderName")} = 'AWS' THEN NULL ELSE {col("ProviderName")} END AS provider,
        {tags} AS tags,
        CAST(NULL AS VARCHAR) AS split_parent_resource_id,
        CAST(NULL AS DECIMAL(38,12)) AS split_cost,
        CAST(NULL AS DECIMAL(38,12)) AS split_unused_cost"""


def _cur_select(columns: dict[str, str]) -> str:
    def has(name: str) -> bool:
        return name in columns

    def money(name: str, net: str | None = None) -> str:
        chosen = net if net and has(net) else name
        return _money(_q(chosen)) if has(chosen) else "CAST(NULL AS DECIMAL(38,12))"

    kind = f"CAST({_q('line_item_line_item_type')} AS VARCHAR)"
    unblended = money("line_item_unblended_cost", "line_item_net_unblended_cost")
    reservation_arn = (
        f"COALESCE(CAST({_q('reservation_reservation_a_r_n')} AS VARCHAR), '')" if has("reservation_reservation_a_r_n") else "''"
    )
    # AWS's amortized cost: commitments at their effective rate, upfront fees spread, unused commitment as itself
    effective = f"""CASE {kind}
            WHEN 'SavingsPlanCoveredUsage' THEN {money("savings_plan_savings_plan_effective_cost", "savings_plan_net_savings_plan_effective_cost")}
            WHEN 'SavingsPlanRecurringFee' THEN {money("savings_plan_total_commitment_to_date")} - {money("savings_plan_used_commitment")}
            WHEN 'SavingsPlanNegation' THEN 0
            WHEN 'SavingsPlanUpfrontFee' THEN 0
            WHEN 'DiscountedUsage' THEN {money("reservation_effective_cost", "reservation_net_effective_cost")}
            WHEN 'RIFee' THEN COALESCE({money("reservation_unused_amortized_upfront_fee_for_billing_period", "reservation_net_unused_amortized_upfront_fee_for_billing_period")}, 0)
                + COALESCE({money("reservation_unused_recurring_fee", "reservation_net_unused_recurring_fee")}, 0)
            ELSE CASE WHEN {kind} = 'Fee' AND {reservation_arn} <> '' THEN 0 ELSE {unblended} END
        END"""
    category = f"""CASE
            WHEN {kind} IN ('Credit', 'Refund') THEN 'Credit'
            WHEN {kind} = 'Tax' THEN 'Tax'
            WHEN {kind} IN ('Fee', 'RIFee', 'SavingsPlanUpfrontFee', 'SavingsPlanRecurringFee') THEN 'Purchase'
            WHEN {kind} LIKE '%Discount' THEN 'Adjustment'  -- Discount, BundledDiscount, EdpDiscount, ... (not DiscountedUsage)
            ELSE 'Usage'
        END"""
    service_parts = []
    if has("product") and columns["product"].startswith("MAP"):
        service_parts.append(f"element_at({_q('product')}, 'product_name')[1]")
    for name in ("product_product_name", "product_servicecode", "line_item_product_code"):
        if has(name):
            service_parts.append(f"CAST({_q(name)} AS VARCHAR)")
    service = f"COALESCE({', '.join(service_parts)})" if service_parts else "NULL"
    account = next(
        (f"CAST({_q(n)} AS VARCHAR)" for n in ("line_item_usage_account_id", "bill_payer_account_id") if has(n)), "NULL"
    )
    tags = _text_json(_q("resource_tags"), columns["resource_tags"]) if has("resource_tags") else "NULL"

    def text(name: str) -> str:
        return f"CAST({_q(name)} AS VARCHAR)" if has(name) else "NULL"

    return f"""
        {_time(_q("bill_billing_period_start_date"))} AS period_start,
        {_time(_q("line_item_usage_start_date"))} AS charge_start,
        {effective} AS effective_cost,
        {unblended} AS billed_cost,
        {money("pricing_public_on_demand_cost")} AS list_cost,
        CAST({_q("line_item_unblended_cost")} AS VARCHAR) AS raw_effective,
        CAST({_q("line_item_unblended_cost")} AS VARCHAR) AS raw_billed,
        TRY_CAST({text("line_item_usage_amount")} AS DOUBLE) AS usage_quantity,
        {account} AS account_id,
        {service} AS service,
        NULLIF({text("line_item_resource_id")}, '') AS resource_id,
        {category} AS charge_category,
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


def load_export(
    writer: WarehouseWriter, found: ExportFiles, source: str, location: str, tag: str, months: list[date]
) -> ExportLoad:
    """Quarantine the unreadable rows, roll the rest up to days, replace the source's rows of those months."""
    con = writer.con
    con.execute("SET TimeZone = 'UTC'")
    scan = _scan_sql(found)
    columns = _columns(con, scan, location)
    required = FOCUS_REQUIRED if source == FOCUS else CUR_REQUIRED
    missing = [c for c in required if c not in columns]
    if missing:
        what = "a FOCUS 1.x export" if source == FOCUS else "a CUR 2.0 export"
        raise SourceError(f"{location} is not {what}: column {missing[0]} is missing (found {', '.join(list(columns)[:6])}, ...)")
    period_column = "BillingPeriodStart" if source == FOCUS else "bill_billing_period_start_date"
    where = _period_filter(period_column, columns[period_column], months)
    normalised = _focus_select(columns) if source == FOCUS else _cur_select(columns)
    record_key = (
        _q("ResourceId")
        if source == FOCUS and "ResourceId" in columns
        else (_q("line_item_resource_id") if "line_item_resource_id" in columns else "NULL")
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW export_rows AS
        SELECT *,
            CASE
                WHEN period_start IS NULL THEN 'the billing period start is missing or not a timestamp'
                WHEN charge_start IS NULL THEN 'the charge period start is missing or not a timestamp'
                WHEN effective_cost IS NULL AND TRY_CAST(raw_effective AS DECIMAL(38,12)) IS NOT NULL
                    THEN 'the effective cost could not be computed: a discount or commitment column it needs is empty or not a number'
                WHEN effective_cost IS NULL AND raw_effective IS NOT NULL THEN 'the effective cost ' || raw_effective || ' is not a number'
                WHEN effective_cost IS NULL THEN 'the effective cost is missing'
                WHEN billed_cost IS NULL AND raw_billed IS NOT NULL THEN 'the billed cost ' || raw_billed || ' is not a number'
                WHEN billed_cost IS NULL THEN 'the billed cost is missing'
            END AS reason,
            CAST(date_trunc('month', period_start) AS DATE) AS usage_month
        FROM (SELECT {normalised}, CAST({record_key} AS VARCHAR) AS record_key, CAST(to_json(src) AS VARCHAR) AS raw_record
              FROM {scan} AS src WHERE {where})"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE export_quarantine AS
        SELECT record_key, reason, raw_record FROM export_rows WHERE reason IS NOT NULL"""
    )
    tag_paths = _tag_paths(tag)
    con.execute(
        """CREATE OR REPLACE TEMP TABLE incoming_export AS
        WITH valid AS (
            SELECT *,
                CASE WHEN tags IS NOT NULL AND json_valid(tags) THEN tags END AS tags_json,
                LEAST(GREATEST(CAST(charge_start AS DATE), usage_month), CAST(usage_month + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE)) AS usage_date
            FROM export_rows WHERE reason IS NULL
        )
        SELECT
            usage_date, usage_month, account_id, service, $tag AS tag_key,
            COALESCE(json_extract_string(tags_json, $tag_path), json_extract_string(tags_json, $tag_path_colon),
                     json_extract_string(tags_json, $tag_path_underscore)) AS consumer,
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
        FROM valid
        GROUP BY usage_date, usage_month, account_id, service, tags_json, resource_id, charge_category, currency,
                 split_parent_resource_id, provider""",
        {"tag": tag, "source": source, "run_id": writer.run_id, **tag_paths},
    )
    reasons = dict(con.execute("SELECT reason, count(*) FROM export_quarantine GROUP BY reason").fetchall())
    quarantined = sum(reasons.values())
    rows = int(con.execute("SELECT COALESCE(sum(export_rows), 0) FROM incoming_export").fetchall()[0][0]) + quarantined
    if quarantined:
        writer.write_partitions(
            "quarantine",
            "SELECT $run_id AS run_id, $location AS source, record_key, reason, raw_record, now()::TIMESTAMP AS quarantined_at FROM export_quarantine",
            {"run_id": writer.run_id, "location": location},
        )
    loaded_months = [
        m.strftime("%Y-%m") for (m,) in con.execute("SELECT DISTINCT usage_month FROM incoming_export ORDER BY 1").fetchall()
    ]
    if not loaded_months:
        return ExportLoad(rows, quarantined, 0, 0, [], reasons)
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
    daily = con.execute("SELECT count(*) FROM incoming_export").fetchall()[0][0]
    if not different:
        return ExportLoad(rows, quarantined, 0, daily, loaded_months, reasons)
    written = writer.write_partitions(
        "costs_daily",
        f"""SELECT * FROM costs_daily
            WHERE strftime(usage_month, '%Y-%m') IN (SELECT unnest($months)) AND source IS DISTINCT FROM $source
            UNION ALL BY NAME SELECT {select_list("costs_daily")} FROM incoming_export""",
        {"months": loaded_months, "source": source},
    )
    writer.drop_partitions("costs_daily", [m for m in loaded_months if m not in written])
    return ExportLoad(rows, quarantined, daily, 0, loaded_months, reasons)


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
    """Load a FOCUS or CUR 2.0 export (file, folder or s3:// prefix) into costs_daily, as one recorded run."""
    months = sorted({m.replace(day=1) for m in months or []})
    tag = tag or settings.consumer_tag
    with job_run(settings.data_dir, source, location, settings=settings) as run:
        found = find_files(location, run.writer.tmp, months, session, endpoint_url)
        run.stats.api_requests += found.requests
        loaded = load_export(run.writer, found, source, location, tag, months)
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
        if months and len(loaded.months) < len(months):
            absent = sorted({m.strftime("%Y-%m") for m in months} - set(loaded.months))
            s.notes.append(f"no rows for {', '.join(absent)} in {location}: nothing replaced for those months")
        if loaded.loaded:
            s.notes.append(f"replaced the {source} rows of {', '.join(loaded.months)}; rows from other sources are untouched")
    print_summary(run)
    return run
