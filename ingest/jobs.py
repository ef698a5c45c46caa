"""The ingest jobs the CLI runs: each one is a recorded, atomic run over one source."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from ingest import cost_explorer as ce
from ingest import dynamodb
from ingest.config import Settings
from ingest.launches import merge_launches, stage_items, stage_quarantine
from ingest.run import IngestRun, ingest_run, print_summary

if TYPE_CHECKING:
    import boto3


def _progress(total: int | None, unit: str, desc: str) -> tqdm:
    return tqdm(total=total, unit=unit, desc=desc, unit_scale=True, leave=False, disable=None, dynamic_ncols=True)


EXPORT_CURSOR = "dynamodb-export:files"


def _scan_cursor(table: str) -> str:
    return f"dynamodb:{table}:pages"


def _load_launch_files(run: IngestRun, files: list[Path], settings: Settings, source: str | None, on_file=None) -> None:
    with _progress(len(files), "file", "parsing launch items") as bar:

        def done(path: Path, rows: int) -> None:
            bar.update(1)
            if on_file:
                on_file(path, rows)

        staged = stage_items(run.writer, files, settings.dynamodb.attributes, source, settings.currency, on_file=done)
    stage_quarantine(run.writer, staged)
    merged = merge_launches(run.writer, staged)
    s = run.stats
    s.records_read += staged.records_read
    s.records_quarantined += staged.quarantined
    s.records_loaded += merged.loaded
    s.records_unchanged += merged.unchanged
    s.add_reasons(staged.reasons)


def ingest_dynamodb(settings: Settings, session: boto3.Session | None = None, full: bool = False) -> IngestRun:
    """Scan the launches table; pages identical to the previous scan's are fetched but not re-parsed."""
    ddb = settings.dynamodb
    if session is None:
        import boto3

        session = boto3.Session(profile_name=ddb.profile) if ddb.profile else boto3.Session()
    source = f"dynamodb://{ddb.table}"
    with ingest_run(settings.data_dir, "dynamodb", source, settings=settings) as run:
        cursor = _scan_cursor(ddb.table)
        known = frozenset() if full else frozenset(run.writer.manifest.get("cursors", {}).get(cursor) or [])
        with tempfile.TemporaryDirectory(dir=run.writer.tmp) as tmp, _progress(None, "item", "scanning") as bar:
            scan = dynamodb.scan_to_files(
                ddb.table, Path(tmp), ddb.segments, session, ddb.region, ddb.endpoint_url, on_page=bar.update, known_pages=known
            )
            run.stats.api_requests += scan.requests
            _load_launch_files(run, scan.files, settings, source)
        run.stats.records_read += scan.unchanged_items
        run.stats.records_unchanged += scan.unchanged_items
        if scan.unchanged_items:
            run.stats.notes.append(f"{scan.unchanged_items:,} items on pages unchanged since the last scan were not re-parsed")
        run.writer.set_cursor(cursor, sorted(scan.page_digests))
    print_summary(run)
    return run


def ingest_dynamodb_export(settings: Settings, location: str, session: boto3.Session | None = None, full: bool = False) -> IngestRun:
    """Load an export's data files; files loaded before and unchanged since are skipped."""
    with ingest_run(settings.data_dir, "dynamodb-export", location, settings=settings) as run:
        seen: dict = dict(run.writer.manifest.get("cursors", {}).get(EXPORT_CURSOR) or {})
        fingerprints = {} if full else {k: v["fingerprint"] for k, v in seen.items()}
        found = dynamodb.export_files(location, run.writer.tmp, session, loaded=fingerprints)
        run.stats.api_requests += found.requests
        ids = {path: (file_id, fingerprint) for path, file_id, fingerprint in found.to_read}

        def remember(path: Path, rows: int) -> None:
            file_id, fingerprint = ids[path]
            seen[file_id] = {"fingerprint": fingerprint, "items": rows}

        _load_launch_files(run, [p for p, _, _ in found.to_read], settings, None, on_file=remember)
        skipped = sum(seen[f]["items"] for f in found.unchanged)
        run.stats.records_read += skipped
        run.stats.records_unchanged += skipped
        if found.unchanged:
            run.stats.notes.append(f"{len(found.unchanged)} export file(s) unchanged since they were loaded: skipped (--full reads them)")
        run.writer.set_cursor(EXPORT_CURSOR, seen)
    print_summary(run)
    return run


def ingest_cost_explorer(
    settings: Settings,
    start: date | None = None,
    end: date | None = None,
    responses_dir: Path | None = None,
    session: boto3.Session | None = None,
    today: date | None = None,
) -> IngestRun:
    """Pull (or load saved) GetCostAndUsage pages for the days not yet final, into ``costs_daily``."""
    cfg = settings.cost_explorer
    today = today or datetime.now(UTC).date()
    source = str(responses_dir) if responses_dir else f"cost-explorer tag:{cfg.tag_key} by {cfg.group_by}"
    with ingest_run(settings.data_dir, "cost-explorer", source, settings=settings) as run:
        if responses_dir:
            pages = ce.saved_pages(responses_dir)
            covered = [r for r in [ce.pages_range(pages)] if r]
        else:
            final = ce.final_from_cursor(run.writer.manifest.get("cursors", {}).get(ce.CURSOR))
            end = end or today
            start = start or (final.start if final else (today.replace(day=1) - timedelta(days=365)).replace(day=1))
            covered = ce.ranges_to_request(start, end, final, cfg.trailing_days, today)
            client = ce.client(cfg, session)
            pages = []
            with _progress(None, "request", "Cost Explorer") as bar:
                for day_range in covered:
                    for page in ce.request_pages(client, day_range, cfg, on_page=lambda: bar.update(1)):
                        run.stats.api_requests += 1
                        pages.append(page)
            skipped = (end - start).days - sum((r.end - r.start).days for r in covered)
            run.stats.notes.append(
                f"asked for {sum((r.end - r.start).days for r in covered)} days in {len(covered)} range(s), "
                f"skipped {skipped} final days; {run.stats.api_requests} requests ≈ ${run.stats.api_requests * 0.01:.2f}"
            )
        loaded = ce.load_pages(run.writer, pages, covered, cfg, today, from_api=responses_dir is None)
        run.stats.records_read += loaded.rows
        run.stats.records_loaded += loaded.loaded
        run.stats.records_unchanged += loaded.unchanged
        if loaded.final:
            run.stats.notes.append(f"final (never re-requested): {loaded.final.start} – {loaded.final.end - timedelta(days=1)}")
    print_summary(run)
    return run
