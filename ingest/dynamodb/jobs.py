"""The launches-table jobs: a scan or an export's files, each one recorded, atomic run."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from core import aws
from core.settings import Settings
from ingest.dynamodb import export, scan
from ingest.dynamodb.items import merge_launches, stage_items, stage_quarantine
from warehouse.runs import JobRun, job_run, print_summary

if TYPE_CHECKING:
    import boto3


def _progress(total: int | None, unit: str, desc: str) -> tqdm:
    return tqdm(total=total, unit=unit, desc=desc, unit_scale=True, leave=False, disable=None, dynamic_ncols=True)


EXPORT_CURSOR = "dynamodb-export:files"


def _scan_cursor(table: str) -> str:
    return f"dynamodb:{table}:pages"


def _load_launch_files(run: JobRun, files: list[Path], settings: Settings, source: str | None, on_file=None) -> None:
    with _progress(len(files), "file", "parsing launch items") as bar:

        def done(path: Path, rows: int) -> None:
            bar.update(1)
            if on_file:
                on_file(path, rows)

        staged = stage_items(run.writer, files, settings.dynamodb.attributes, source, settings.currency, on_file=done)
    stage_quarantine(run.writer, staged)
    merged = merge_launches(run.writer, staged)
    run.stats.count(staged.records_read, merged.loaded, merged.unchanged, staged.quarantined, staged.reasons)


def ingest_dynamodb(settings: Settings, session: boto3.Session | None = None, full: bool = False) -> JobRun:
    """Scan the launches table; pages identical to the previous scan's are fetched but not re-parsed."""
    ddb = settings.dynamodb
    session = session or aws.make_session(ddb.profile)
    source = f"dynamodb://{ddb.table}"
    with job_run(settings.data_dir, "dynamodb", source, settings=settings) as run:
        cursor = _scan_cursor(ddb.table)
        known = frozenset() if full else frozenset(run.writer.manifest.get("cursors", {}).get(cursor) or [])
        with tempfile.TemporaryDirectory(dir=run.writer.tmp) as tmp, _progress(None, "item", "scanning") as bar:
            scanned = scan.scan_to_files(
                ddb.table, Path(tmp), ddb.segments, session, ddb.region, ddb.endpoint_url, on_page=bar.update, known_pages=known
            )
            run.stats.api_requests += scanned.requests
            _load_launch_files(run, scanned.files, settings, source)
        run.stats.records_read += scanned.unchanged_items
        run.stats.records_unchanged += scanned.unchanged_items
        if scanned.unchanged_items:
            run.stats.notes.append(f"{scanned.unchanged_items:,} items on pages unchanged since the last scan were not re-parsed")
        run.writer.set_cursor(cursor, sorted(scanned.page_digests))
    print_summary(run)
    return run


def ingest_dynamodb_export(settings: Settings, location: str, session: boto3.Session | None = None, full: bool = False) -> JobRun:
    """Load an export's data files; files loaded before and unchanged since are skipped."""
    with job_run(settings.data_dir, "dynamodb-export", location, settings=settings) as run:
        seen: dict = dict(run.writer.manifest.get("cursors", {}).get(EXPORT_CURSOR) or {})
        fingerprints = {} if full else {k: v["fingerprint"] for k, v in seen.items()}
        found = export.export_files(location, run.writer.tmp, session, loaded=fingerprints)
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
            run.stats.notes.append(
                f"{len(found.unchanged)} export file(s) unchanged since they were loaded: skipped (--full reads them)"
            )
        run.writer.set_cursor(EXPORT_CURSOR, seen)
    print_summary(run)
    return run
