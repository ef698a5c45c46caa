"""Cost Explorer GetCostAndUsage (DAILY, grouped by the consumer tag and a dimension) → ``costs_daily``.

Every request costs the user $0.01, so the ingest asks only for days it does not hold as final.
Cost Explorer restates recent days, so the trailing window (default 14 days) is always pulled
again, and the ``Estimated`` flag is kept. The final range is a cursor stored in the warehouse
manifest, committed atomically with the rows it describes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from core import aws
from core.errors import SourceError
from core.settings import CostExplorerSettings
from ingest.cost_explorer import checks
from warehouse.store import WarehouseWriter

if TYPE_CHECKING:
    import boto3

METRICS = ("UnblendedCost", "AmortizedCost", "NetAmortizedCost", "UsageQuantity")
SOURCE = "cost-explorer"
CURSOR = "cost-explorer"
_COLUMNS = (
    "usage_date",
    "usage_month",
    "account_id",
    "service",
    "tag_key",
    "consumer",
    "unblended_cost",
    "amortized_cost",
    "net_amortized_cost",
    "usage_quantity",
    "currency",
    "estimated",
    "source",
    "ingest_run_id",
    "billed_cost",
    "effective_cost",
    "charge_category",
)


@dataclass(frozen=True)
class DayRange:
    start: date  # inclusive
    end: date  # exclusive

    def days(self) -> Iterator[date]:
        d = self.start
        while d < self.end:
            yield d
            d += timedelta(days=1)


def ranges_to_request(start: date, end: date, final: DayRange | None, trailing_days: int, today: date) -> list[DayRange]:
    """The day ranges in [start, end) to ask Cost Explorer for.

    A day is skipped only when it is inside the final range and older than the trailing window.
    """
    window_start = today - timedelta(days=trailing_days)
    wanted = []
    for d in DayRange(start, end).days():
        is_final = final is not None and final.start <= d < final.end and d < window_start
        if not is_final:
            wanted.append(d)
    out: list[DayRange] = []
    for d in wanted:
        if out and out[-1].end == d:
            out[-1] = DayRange(out[-1].start, d + timedelta(days=1))
        else:
            out.append(DayRange(d, d + timedelta(days=1)))
    return out


def request_pages(
    client, day_range: DayRange, settings: CostExplorerSettings, on_page: Callable[[], None] | None = None
) -> Iterator[dict]:
    """GetCostAndUsage pages for one range, following NextPageToken."""
    kwargs = {
        "TimePeriod": {"Start": day_range.start.isoformat(), "End": day_range.end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": list(METRICS),
        "GroupBy": [{"Type": "TAG", "Key": settings.tag_key}, {"Type": "DIMENSION", "Key": settings.group_by}],
    }
    while True:
        page = client.get_cost_and_usage(**kwargs)
        if on_page:
            on_page()
        yield page
        token = page.get("NextPageToken")
        if not token:
            return
        kwargs["NextPageToken"] = token


def saved_pages(directory: Path) -> list[dict]:
    """Saved GetCostAndUsage responses (``*.json``), in file name order."""
    files = sorted(Path(directory).glob("*.json"))
    if not files:
        raise SourceError(f"no Cost Explorer response files (*.json) in {directory}")
    pages = []
    for f in files:
        try:
            pages.append(json.loads(f.read_text()))
        except ValueError as exc:
            raise SourceError(f"{f} is not valid JSON: {exc}") from None
    return pages


def page_rows(
    page,
    settings: CostExplorerSettings,
    run_id: str,
    currency: str = "USD",
    covered: set[date] | None = None,
    rejects: checks.Rejects | None = None,
    seen: set | None = None,
) -> Iterator[tuple]:
    """Rows of ``costs_daily`` from one GetCostAndUsage response page; the groups that cannot load go to ``rejects``.

    ``covered``: the days asked for (a day outside them is rejected); ``seen``: the (day, keys) of the pull so far.
    """
    rejects = rejects if rejects is not None else checks.Rejects()
    seen = seen if seen is not None else set()
    results = page.get("ResultsByTime", []) if isinstance(page, dict) else None
    if not isinstance(results, list):
        rejects.add(None, f"a page whose ResultsByTime is {checks._short(results)}, not a list of days", page)
        return
    for result in results:
        day, why = checks.result_day(result)
        groups = result.get("Groups") if isinstance(result, dict) else None
        if why is None and covered is not None and day not in covered:
            why = f"the day {day} is outside the range asked for: not loaded, so no day is counted twice"
        if why is None and not isinstance(result.get("Estimated", False), bool):
            why = f"Estimated is {checks._short(result.get('Estimated'))}, not true or false"
        if why is None and groups is not None and not isinstance(groups, list):
            why = f"Groups is {checks._short(groups)}, not a list of groups"
        if why is None and not groups:
            why = checks.groupless_spend(result)
            groups = []
        if why is not None:
            for n, group in enumerate(groups if isinstance(groups, list) and groups else [None]):
                rejects.add(f"{day or '?'} group {n}", why, {"result": result} if group is None else group, day)
            continue
        for group in groups:
            row = _group_row(day, bool(result.get("Estimated", False)), group, settings, run_id, currency, rejects, seen)
            if row is not None:
                yield row


def _group_row(day, estimated, group, settings, run_id, currency, rejects, seen) -> tuple | None:
    keys, why = checks.group_keys(group)
    metrics = group.get("Metrics") if keys else {}
    values = {}
    for name in METRICS:
        if why is None:
            values[name], why = checks.amount(metrics, name)
    unit = currency
    if why is None:
        unit, why = checks.unit(metrics, currency)
    if why is None and values["UnblendedCost"] is None and values["NetAmortizedCost"] is None:
        why = "no UnblendedCost or NetAmortizedCost amount: a group with no cost"
    key = f"{day} {' / '.join(keys)}" if keys else f"{day} ?"
    if why is None and (day, tuple(keys)) in seen:
        why = f"the same day and keys ({' / '.join(keys)}) twice in one pull: the day is kept as it was"
    if why is not None:
        rejects.add(key, why, group, day)
        return None
    seen.add((day, tuple(keys)))
    by_account = settings.group_by == "LINKED_ACCOUNT"
    tag = keys[0]
    value = tag.split("$", 1)[1] if "$" in tag else tag
    other = keys[1] if len(keys) > 1 else None
    quantity = values["UsageQuantity"]
    unblended, net_amortized = values["UnblendedCost"], values["NetAmortizedCost"]
    # billed = what the invoice says (unblended); effective = what it costs us (net amortized)
    signed = net_amortized if net_amortized is not None else unblended
    return (
        day,
        day.replace(day=1),
        other if by_account else settings.account_id,
        None if by_account else other,
        settings.tag_key,
        value or None,
        unblended,
        values["AmortizedCost"],
        net_amortized,
        float(quantity) if quantity is not None else None,
        unit,
        estimated,
        SOURCE,
        run_id,
        unblended,
        net_amortized,
        "Credit" if signed is not None and signed < 0 else "Usage",
    )


def pages_range(pages: Iterable[dict]) -> DayRange | None:
    """The days the pages hold (those with a readable TimePeriod.Start)."""
    days = [
        d
        for p in pages
        if isinstance(p, dict) and isinstance(p.get("ResultsByTime"), list)
        for d in (checks.result_day(r)[0] for r in p["ResultsByTime"])
        if d is not None
    ]
    return DayRange(min(days), max(days) + timedelta(days=1)) if days else None


@dataclass
class CostLoad:
    rows: int
    loaded: int
    unchanged: int
    final: DayRange | None
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    kept_days: int = 0  # days with a quarantined group: their stored rows kept as they were
    held: int = 0  # good groups of those days, not loaded


def load_pages(
    writer: WarehouseWriter,
    pages: list[dict],
    covered: list[DayRange],
    settings: CostExplorerSettings,
    today: date,
    from_api: bool = True,
    currency: str = "USD",
    source: str = SOURCE,
) -> CostLoad:
    """Replace Cost Explorer's rows for the covered days with these pages' rows.

    A day with any quarantined group keeps the rows stored for it (its good groups are not loaded, so its
    total never drops by the bad ones) and is not taken as final, so the next pull asks for it again.
    Only pages pulled from the API move the final-range cursor: saved responses say nothing about
    which days this account's Cost Explorer has settled.
    """
    con = writer.con
    cols = ", ".join(f"{c} {t}" for c, t in _types().items())
    con.execute(f"CREATE OR REPLACE TEMP TABLE incoming_costs ({cols})")
    rejects, seen, days = checks.Rejects(), set(), {d for r in covered for d in r.days()}
    rows = [row for page in pages for row in page_rows(page, settings, writer.run_id, currency, days, rejects, seen)]
    kept = rejects.days & days
    held = sum(row[0] in kept for row in rows)
    rows = [row for row in rows if row[0] not in kept]
    checks.write_quarantine(writer, rejects, source)
    bad = {"quarantined": len(rejects.records), "reasons": rejects.reasons(), "kept_days": len(kept), "held": held}
    if rows:
        # Amounts travel as decimal strings and are cast by DuckDB: exact, and one bulk insert.
        import pyarrow as pa

        table = pa.Table.from_pylist([dict(zip(_COLUMNS, _as_text(row), strict=True)) for row in rows])
        con.register("incoming_costs_arrow", table)
        con.execute(f"INSERT INTO incoming_costs ({', '.join(_COLUMNS)}) SELECT {', '.join(_COLUMNS)} FROM incoming_costs_arrow")
        con.unregister("incoming_costs_arrow")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE covered_days AS SELECT unnest($days)::DATE AS d",  # the days replaced
        {"days": [d for r in covered for d in r.days() if d not in kept]},
    )
    same = _same_as_stored(con, settings)
    cursor = writer.manifest.get("cursors", {}).get(CURSOR)
    final = _final_range(con, covered, settings, cursor, today, rejects.days) if from_api else final_from_cursor(cursor)
    if same:
        if from_api:
            writer.set_cursor(CURSOR, _cursor(final))
        return CostLoad(len(rows), 0, len(rows), final, **bad)
    months = sorted({d.strftime("%Y-%m") for r in covered for d in r.days()})
    written = writer.write_partitions(
        "costs_daily",
        """SELECT * FROM costs_daily
           WHERE strftime(usage_month, '%Y-%m') IN (SELECT unnest($months))
             AND NOT (source = $source AND tag_key = $tag AND usage_date IN (SELECT d FROM covered_days))
           UNION ALL BY NAME SELECT * FROM incoming_costs""",
        {"months": months, "source": SOURCE, "tag": settings.tag_key},
    )
    writer.drop_partitions("costs_daily", [m for m in months if m not in written])
    if from_api:
        writer.set_cursor(CURSOR, _cursor(final))
    return CostLoad(len(rows), len(rows), 0, final, **bad)


def _same_as_stored(con, settings: CostExplorerSettings) -> bool:
    """Whether the incoming rows are exactly the stored Cost Explorer rows of the days replaced (``covered_days``)."""
    content = [c for c in _COLUMNS if c != "ingest_run_id"]
    return (
        con.execute(
            f"""SELECT count(*) FROM (
            (SELECT {", ".join(content)} FROM incoming_costs
             EXCEPT ALL SELECT {", ".join(content)} FROM costs_daily
                 WHERE source = $source AND tag_key = $tag AND usage_date IN (SELECT d FROM covered_days))
            UNION ALL
            (SELECT {", ".join(content)} FROM costs_daily
                 WHERE source = $source AND tag_key = $tag AND usage_date IN (SELECT d FROM covered_days)
             EXCEPT ALL SELECT {", ".join(content)} FROM incoming_costs))""",
            {"source": SOURCE, "tag": settings.tag_key},
        ).fetchone()[0]
        == 0
    )


def _as_text(row: tuple) -> tuple:
    return tuple(str(v) if isinstance(v, Decimal) else v for v in row)


def _types() -> dict[str, str]:
    from warehouse.store import schema_columns

    return dict(schema_columns()["costs_daily"])


def _cursor(final: DayRange | None) -> dict | None:
    return {"final_from": final.start.isoformat(), "final_until": final.end.isoformat()} if final else None


def final_from_cursor(cursor: dict | None) -> DayRange | None:
    if not cursor:
        return None
    return DayRange(date.fromisoformat(cursor["final_from"]), date.fromisoformat(cursor["final_until"]))


def _final_range(con, covered: list[DayRange], settings, cursor: dict | None, today: date, rejected=()) -> DayRange | None:
    """Extend the contiguous final range with covered days that are settled (not estimated, outside the window).

    A day with a quarantined record is not settled: the next pull asks for it again.
    """
    window_start = today - timedelta(days=settings.trailing_days)
    estimated = {d for (d,) in con.execute("SELECT DISTINCT usage_date FROM incoming_costs WHERE estimated").fetchall()}
    settled = {d for r in covered for d in r.days() if d < window_start and d not in estimated and d not in rejected}
    final = final_from_cursor(cursor)
    if final:
        settled |= set(final.days())
    if not settled:
        return None
    # the longest run of consecutive settled days that contains the old final range (or the latest run)
    days = sorted(settled)
    runs: list[DayRange] = []
    for d in days:
        if runs and runs[-1].end == d:
            runs[-1] = DayRange(runs[-1].start, d + timedelta(days=1))
        else:
            runs.append(DayRange(d, d + timedelta(days=1)))
    if final:
        for r in runs:
            if r.start <= final.start < r.end:
                return r
    return max(runs, key=lambda r: (r.end - r.start, r.end))


def client(settings: CostExplorerSettings, session: boto3.Session | None = None):
    """The Cost Explorer client (its endpoint lives in us-east-1), with the retry config of every client."""
    return aws.client("ce", session=session, profile=settings.profile, region=settings.region, endpoint_url=settings.endpoint_url)
