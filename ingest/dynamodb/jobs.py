"""The launches-table jobs: a scan or an export's files, each one recorded, atomic run."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from core import aws
from core.crash import crash_point
from core.settings import Settings
from ingest.dynamodb import changes, export, scan, shapes
from ingest.dynamodb.items import merge_launches, stage_items, stage_quarantine
from warehouse.runs import JobRun, job_run, print_summary

if TYPE_CHECKING:
    import boto3


def _progress(total: int | None, unit: str, desc: str) -> tqdm:
    return tqdm(total=total, unit=unit, desc=desc, unit_scale=True, leave=False, disable=None, dynamic_ncols=True)


EXPORT_CURSOR = "dynamodb-export:files"


def _scan_cursor(table: str) -> str:
    return f"dynamodb:{table}:pages"


def _held_scan(cursor) -> tuple[frozenset[str], str | None]:
    """(page digests, scan id) of the last committed scan; a cursor written before scans resumed is a plain list."""
    if isinstance(cursor, dict):
        return frozenset(cursor.get("pages") or []), cursor.get("scan")
    return frozenset(cursor or []), None


def _load_launch_files(
    run: JobRun,
    files: list[Path],
    settings: Settings,
    source: str | None,
    on_file=None,
    file_times: dict[Path, int] | None = None,  # as_of (us) of each file's items: a full export's time, a scan's start
    track_seen: bool = False,  # a full source: note the launches it no longer holds (``changes.not_in_source``)
) -> None:
    ddb = settings.dynamodb
    with _progress(len(files), "file", "parsing launch items") as bar:

        def done(path: Path, rows: int) -> None:
            bar.update(1)
            crash_point("validate.file")
            if on_file:
                on_file(path, rows)

        staged = stage_items(
            run.writer,
            files,
            ddb.attributes,
            source,
            settings.currency,
            on_file=done,
            item_shapes=ddb.shapes,
            file_times=file_times,
            track_seen=track_seen,
        )
    crash_point("validate.staged")
    stage_quarantine(run.writer, staged)
    merged = merge_launches(run.writer, staged)
    crash_point("write.merged")
    run.stats.count(staged.records_read, merged.loaded, merged.unchanged, staged.quarantined, staged.reasons)
    if merged.older:
        more = " ..." if merged.older > len(merged.older_ids) else ""
        run.stats.notes.append(
            f"{merged.older:,} launch(es) were read in a state older than the one the warehouse holds "
            f"({', '.join(merged.older_ids)}{more}): kept the newer state (launches.as_of), counted as unchanged; "
            "a data file read without its export's manifest carries no time and never replaces a dated row: "
            "load the export folder (with manifest-summary.json) to apply it"
        )
    deleted = changes.apply_deletions(run.writer) if staged.deletes else changes.Deletions()
    run.stats.records_deleted += deleted.applied
    if note := changes.deletion_note(deleted):
        run.stats.notes.append(note)
    if run.stats.loaded_none and run.stats.reasons:
        reason = max(run.stats.reasons.items(), key=lambda kv: kv[1])[0]
        table = run.stats.source.removeprefix("dynamodb://") if run.stats.source.startswith("dynamodb://") else None
        check = f"launch-ledger dynamodb-check {f'--table {table}' if table else run.stats.source}"
        run.stats.look_at = f"{shapes.setting_hint(reason)}; `{check}` shows how each configured attribute maps"


def _scan_start_us(scan_id: str) -> int:
    """When a scan started (its id begins with the UTC time, YYYYmmddTHHMMSS), in us since the epoch: its items' as-of."""
    try:
        started = datetime.strptime(scan_id[:15], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        started = datetime.now(UTC)
    return int(started.timestamp() * 1_000_000)


def _note_missing(run: JobRun, what: str) -> None:
    """A full export or scan read whole: name the launches the warehouse holds that it no longer does."""
    count, ids = changes.not_in_source(run.writer.con)
    if note := changes.missing_note(count, ids, what):
        run.stats.notes.append(note)


def ingest_dynamodb(settings: Settings, session: boto3.Session | None = None, full: bool = False) -> JobRun:
    """Scan the launches table; pages identical to the previous scan's are fetched but not re-parsed.

    The pages wait in the scan area (``scan.scan_area``) until this run commits them, so a scan that
    dies half way is resumed by the next run; the area is removed once its pages are committed.
    """
    ddb = settings.dynamodb
    session = session or aws.make_session(ddb.profile)
    source = f"dynamodb://{ddb.table}"
    with job_run(settings.data_dir, "dynamodb", source, settings=settings) as run:
        cursor = _scan_cursor(ddb.table)
        known, committed = _held_scan(run.writer.manifest.get("cursors", {}).get(cursor))
        area = scan.scan_area(run.writer.root, ddb.table)
        fetched: list[int] = []  # items of each page fetched, to count the requests of a scan that fails

        def page_done(items: int) -> None:
            fetched.append(items)
            bar.update(items)

        with _progress(None, "item", "scanning") as bar:
            try:
                scanned = scan.scan_to_files(
                    ddb.table,
                    area,
                    ddb.segments,
                    session,
                    ddb.region,
                    ddb.endpoint_url,
                    on_page=page_done,
                    known_pages=frozenset() if full else known,
                    committed_scan=committed,
                    full=full,
                    key_attribute=shapes.split_path(ddb.attributes.launch_id)[0],
                )
            except BaseException:
                run.stats.api_requests += 1 + len(fetched)  # DescribeTable and the pages fetched before the failure
                raise
        run.stats.api_requests += scanned.requests
        whole = not scanned.resumed_pages  # the ids on pages an interrupted run saved are not known
        times = dict.fromkeys(scanned.files, _scan_start_us(scanned.scan_id))
        _load_launch_files(run, scanned.files, settings, source, file_times=times, track_seen=whole)
        if whole:
            changes.add_seen(run.writer.con, scanned.unchanged_ids)
            _note_missing(run, "scan of the table")
        run.stats.records_read += scanned.unchanged_items
        run.stats.records_unchanged += scanned.unchanged_items
        if scanned.unchanged_items:
            run.stats.notes.append(f"{scanned.unchanged_items:,} items on pages unchanged since the last scan were not re-parsed")
        if scanned.resumed_segments:
            run.stats.notes.append(
                f"resumed scan {scanned.scan_id}: {scanned.resumed_pages:,} pages saved by an interrupted run were not fetched "
                f"again; {scanned.resumed_segments} of {ddb.segments} segments went on from where they stopped"
            )
        run.writer.set_cursor(cursor, {"scan": scanned.scan_id, "pages": sorted(scanned.page_digests)})
    shutil.rmtree(area, ignore_errors=True)  # committed: a later run starts a new scan
    print_summary(run)
    return run


def ingest_dynamodb_export(settings: Settings, location: str, session: boto3.Session | None = None, full: bool = False) -> JobRun:
    """Load an export's data files; files loaded before and unchanged since are skipped."""
    with job_run(settings.data_dir, "dynamodb-export", location, settings=settings) as run:
        seen: dict = dict(run.writer.manifest.get("cursors", {}).get(EXPORT_CURSOR) or {})
        fingerprints = {} if full else {k: v["fingerprint"] for k, v in seen.items()}
        found = export.export_files(location, run.writer.tmp, session, loaded=fingerprints)
        run.stats.api_requests += found.requests
        crash_point("extract.listed")
        ids = {path: (file_id, fingerprint) for path, file_id, fingerprint in found.to_read}

        def remember(path: Path, rows: int) -> None:
            file_id, fingerprint = ids[path]
            seen[file_id] = {"fingerprint": fingerprint, "items": rows}

        whole = found.full_exports > 0 and not found.unchanged  # a full export read whole: what is it missing?
        files = [p for p, _, _ in found.to_read]
        _load_launch_files(run, files, settings, None, on_file=remember, file_times=found.times, track_seen=whole)
        if whole:
            _note_missing(run, "full export")
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
