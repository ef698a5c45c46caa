"""The unit-price source: ``prices`` loads the offline snapshot, saved Spot history, and what AWS lists.

A recorded, atomic run. It asks AWS only for what the warehouse lacks: a list
price already fetched from the Price List API is not fetched again, and the Spot history windows
already fetched per (region, zone, instance type) are kept in the manifest cursor ``prices:spot``,
so only the uncovered part of a window is requested.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from core import aws
from core.errors import SourceError
from core.settings import Settings
from pricing import pricelist
from pricing.snapshot import latest_snapshot, snapshot_rows
from warehouse.runs import JobRun, job_run, print_summary
from warehouse.store import WarehouseWriter

if TYPE_CHECKING:
    import boto3

SPOT_CURSOR = "prices:spot"
PRICE_COLUMNS = (
    "service",
    "region",
    "availability_zone",
    "resource_kind",
    "resource_type",
    "purchase_option",
    "charge",
    "unit",
    "price",
    "currency",
    "effective_from",
    "source",
    "sku",
    "fetched_at",
)
# What makes a price point: the rest (unit, price, currency, sku, fetched_at) is what it says.
_KEY = tuple(c for c in PRICE_COLUMNS if c not in ("unit", "price", "currency", "sku", "fetched_at"))


@dataclass
class Clients:
    """The two AWS clients the prices job uses (tests pass stubbed ones)."""

    pricing: object
    ec2_by_region: dict


class _Ec2ByRegion(dict):
    """EC2 clients made on first use, one per region (Spot history is asked in the region it belongs to)."""

    def __init__(self, session: boto3.Session):
        super().__init__()
        self.session = session

    def __missing__(self, region: str):
        self[region] = aws.client("ec2", session=self.session, region=region)
        return self[region]


def _clients(settings: Settings, session: boto3.Session | None) -> Clients:
    session = session or aws.make_session(settings.pricing.profile)
    return Clients(aws.client("pricing", session=session, region=settings.pricing.price_list_region), _Ec2ByRegion(session))


def _held_keys(writer: WarehouseWriter) -> set[tuple]:
    cols = ", ".join(_KEY)
    return set(writer.con.execute(f"SELECT DISTINCT {cols} FROM prices").fetchall())


def _key(row: dict) -> tuple:
    return tuple(row.get(c) for c in _KEY)


def _uncovered(start: datetime, end: datetime, covered: list[list[str]]) -> list[tuple[datetime, datetime]]:
    """Parts of [start, end) outside every covered [a, b) window."""
    gaps = [(start, end)]
    for a_text, b_text in covered:
        a, b = datetime.fromisoformat(a_text), datetime.fromisoformat(b_text)
        nxt = []
        for s, e in gaps:
            if b <= s or a >= e:
                nxt.append((s, e))
                continue
            if s < a:
                nxt.append((s, a))
            if b < e:
                nxt.append((b, e))
        gaps = nxt
    return [(s, e) for s, e in gaps if e > s]


def _merge(windows: list[list[str]]) -> list[list[str]]:
    spans = sorted((datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in windows)
    out: list[list[datetime]] = []
    for a, b in spans:
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [[a.isoformat(), b.isoformat()] for a, b in out]


def _write_prices(run: JobRun, rows: list[dict]) -> list[dict]:
    """Append new price points (services they belong to are rewritten whole); returns the rows written.

    Once per run: written partitions are not visible to the run's own views until it commits.
    """
    held = _held_keys(run.writer)
    fresh, seen = [], set()
    for row in rows:
        key = _key(row)
        if key in held or key in seen:
            continue
        seen.add(key)
        fresh.append(row)
    run.stats.records_read += len(rows)
    run.stats.records_unchanged += len(rows) - len(fresh)
    if not fresh:
        return fresh
    now = datetime.now(UTC).replace(tzinfo=None)
    table = pa.table(
        {
            **{
                c: pa.array([None if r.get(c) is None else str(r[c]) for r in fresh], pa.string())
                for c in PRICE_COLUMNS
                if c not in ("effective_from", "fetched_at")
            },
            "effective_from": pa.array([r["effective_from"] for r in fresh], pa.timestamp("us")),
            "fetched_at": pa.array([r.get("fetched_at") or now for r in fresh], pa.timestamp("us")),
        }
    )
    con = run.writer.con
    con.register("new_price_points", table)
    services = sorted({r["service"] for r in fresh})
    run.writer.write_partitions(
        "prices",
        "SELECT * FROM prices WHERE list_contains($services, service) "
        "UNION ALL BY NAME SELECT *, $run_id AS ingest_run_id FROM new_price_points",
        {"services": services, "run_id": run.writer.run_id},
    )
    con.unregister("new_price_points")
    run.stats.records_loaded += len(fresh)
    return fresh


def _saved_spot_history(directory: Path) -> tuple[list[dict], int]:
    """Saved DescribeSpotPriceHistory responses (``*.json`` under ``directory``), parsed as a fetch would be.

    Returns (rows, files read)."""
    files = sorted(Path(directory).rglob("*.json"))
    if not files:
        raise SourceError(f"no DescribeSpotPriceHistory responses (*.json) under {directory}")
    rows: list[dict] = []
    for path in files:
        try:
            response = json.loads(path.read_text())
            if not isinstance(response, dict) or "SpotPriceHistory" not in response:
                raise ValueError("no SpotPriceHistory list")
            rows += pricelist.parse_spot_history(response)
        except (ValueError, KeyError, TypeError) as exc:
            raise SourceError(f"{path} is not a DescribeSpotPriceHistory response ({exc}): save the API's JSON answer") from None
    return rows, len(files)


def _fetch_from_aws(run: JobRun, clients: Clients) -> list[dict]:
    """The list prices and Spot history the launches need and the warehouse lacks (the Spot cursor moves)."""
    con = run.writer.con
    api_held = set(
        con.execute("SELECT DISTINCT region, resource_kind, resource_type FROM prices WHERE source = 'price-list-api'").fetchall()
    )
    wanted = con.execute(
        """SELECT DISTINCT l.region, r.kind, CASE WHEN r.kind = 'cluster' THEN 'eks' ELSE r.resource_type END
           FROM launch_resources r JOIN launches l ON l.launch_id = r.launch_id
           WHERE l.region IS NOT NULL AND r.resource_type IS NOT NULL AND l.compute_platform <> 'OnPremHPC'
           ORDER BY 1, 2, 3"""
    ).fetchall()
    rows: list[dict] = []
    for region, kind, rtype in wanted:
        if (region, kind, rtype) in api_held:
            continue
        got, requests = pricelist.fetch_list_prices(clients.pricing, kind, rtype, region)
        run.stats.api_requests += requests
        rows += got
    spot_windows = con.execute(
        """SELECT l.region, r.availability_zone, r.resource_type, min(r.started_at), max(r.ended_at)
           FROM launch_resources r JOIN launches l ON l.launch_id = r.launch_id
           WHERE r.kind = 'instance' AND r.purchase_option = 'Spot' AND r.availability_zone IS NOT NULL
             AND r.started_at IS NOT NULL AND r.ended_at IS NOT NULL AND l.region IS NOT NULL
           GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""
    ).fetchall()
    cursor = dict(run.writer.manifest.get("cursors", {}).get(SPOT_CURSOR) or {})
    for region, zone, rtype, start, end in spot_windows:
        key = f"{region}|{zone}|{rtype}"
        for s, e in _uncovered(start, end, cursor.get(key, [])):
            got, requests = pricelist.fetch_spot_history(clients.ec2_by_region[region], rtype, zone, s, e)
            run.stats.api_requests += requests
            rows += got
            cursor[key] = _merge(cursor.get(key, []) + [[s.isoformat(), e.isoformat()]])
    run.writer.set_cursor(SPOT_CURSOR, cursor)
    run.stats.notes.append(f"{run.stats.api_requests} API request(s) (Price List GetProducts, EC2 DescribeSpotPriceHistory)")
    return rows


def fetch_prices(
    settings: Settings,
    offline: bool = False,
    session: boto3.Session | None = None,
    snapshot: Path | None = None,
    clients: Clients | None = None,
    quiet: bool = False,
    spot_responses: Path | None = None,
) -> JobRun:
    """Load the offline snapshot (and saved Spot history responses, e.g. the demo's), then (unless ``offline``)
    fetch what the launches need and the warehouse lacks."""
    source = "snapshot" if offline else f"price-list-api + spot-price-history ({settings.pricing.price_list_region})"
    if spot_responses is not None:
        source += f" + {spot_responses}"
    path = snapshot or latest_snapshot()
    with job_run(settings.data_dir, "prices", source, settings=settings) as run:
        rows = snapshot_rows(path)
        if spot_responses is not None:
            saved, files = _saved_spot_history(spot_responses)
            rows += saved
        if not offline:
            rows += _fetch_from_aws(run, clients or _clients(settings, session))
        written = _write_prices(run, rows)
        run.stats.notes.append(
            f"snapshot {path.name}: {sum(r['source'] == f'snapshot:{path.name}' for r in written)} new price point(s)"
        )
        if spot_responses is not None:
            saved_ids = {id(r) for r in saved}
            saved_new = sum(id(r) in saved_ids for r in written)
            run.stats.notes.append(f"Spot price history from {files} saved response(s): {saved_new} new price point(s)")
    if not quiet:
        print_summary(run)
    return run
