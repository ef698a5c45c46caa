"""The DynamoDB table scan: parallel segments, paginated, each page straight to a gzip file that survives the run.

The files are DynamoDB JSON lines that ``ingest.dynamodb.items`` parses in bulk, so no more than one
page per segment is held in memory.

**A scan resumes where it stopped.** Pages go to a scan area, ``<warehouse>/.scan-<table>/``, that is
kept until a run commits them: ``scan.json`` says which scan it is (table, segments, endpoint, region,
when it started), and after each page ``seg-NNN.json`` records that segment's pages, digests and the
``LastEvaluatedKey`` to go on from. A scan that dies half way (an error that retrying did not fix,
``kill -9``) leaves the area; the next scan of the same table with the same segments, within
``RESUME_MAX_AGE``, keeps the saved pages and asks each unfinished segment only for what comes after
its key. What is read again: nothing that was saved, and at most the one page per segment that was in
flight when the scan died. ``--full``, other segments, an area older than ``RESUME_MAX_AGE`` or one whose
scan was already committed start a new scan.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import shutil
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from core import aws
from core.crash import crash_point

if TYPE_CHECKING:
    import boto3

RESUME_MAX_AGE = timedelta(hours=24)  # an older interrupted scan is started again: its pages are too stale to mix in
SCAN_FILE = "scan.json"


def _default(value):
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(type(value).__name__)


@dataclass
class ScanResult:
    files: list[Path]
    requests: int
    page_digests: list[str]  # one per page read, to recognise unchanged pages next time
    unchanged_items: int  # items on pages identical to a page of the previous scan (not staged)
    scan_id: str = ""  # the scan these pages belong to (kept in the cursor, so a committed scan is never resumed)
    resumed_pages: int = 0  # pages an interrupted scan had saved, used without asking DynamoDB again
    resumed_segments: int = 0  # segments that went on from a saved LastEvaluatedKey (or were already done)
    unchanged_ids: list[str] = field(default_factory=list)  # key_attribute of the items on unchanged pages fetched now


@dataclass
class _Segment:
    """One segment's progress, as saved after each page in ``seg-NNN.json``."""

    pages: int = 0
    items: int = 0
    unchanged: int = 0
    digests: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # page files staged (pages not in known_pages)
    last_key: dict | None = None  # ExclusiveStartKey for the next page, DynamoDB JSON (binary as {"$b64": ...})
    done: bool = False


def _key_text(value) -> str | None:
    """The text of a key attribute value (``{"S": "wl-1"}`` or ``{"N": "12"}``)."""
    return (value.get("S") or value.get("N")) if isinstance(value, dict) else None


def scan_area(warehouse_root: Path, table: str) -> Path:
    """Where a scan of ``table`` keeps its pages until a run commits them."""
    return Path(warehouse_root) / f".scan-{table}"


def _scan_key(table: str, segments: int, region: str | None, endpoint_url: str | None) -> dict:
    return {"table": table, "segments": segments, "region": region, "endpoint_url": endpoint_url}


def open_area(area: Path, key: dict, committed_scan: str | None, full: bool, now: datetime | None = None) -> tuple[str, bool]:
    """The scan id to use in ``area`` and whether it resumes one; a scan that cannot resume is cleared."""
    now = now or datetime.now(UTC)
    try:
        held = json.loads((area / SCAN_FILE).read_text())
        started = datetime.fromisoformat(held["started_at"])
        fits = {k: held.get(k) for k in key} == key and now - started <= RESUME_MAX_AGE
        if fits and not full and held["scan_id"] != committed_scan:
            return held["scan_id"], True
    except (OSError, ValueError, KeyError, TypeError):
        pass
    shutil.rmtree(area, ignore_errors=True)
    area.mkdir(parents=True)
    scan_id = now.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    _atomic_json(area / SCAN_FILE, {**key, "scan_id": scan_id, "started_at": now.isoformat()})
    return scan_id, False


def _encode_key(key: dict) -> dict:
    return {
        a: {t: {"$b64": base64.b64encode(v).decode()} if isinstance(v, bytes) else v for t, v in av.items()}
        for a, av in key.items()
    }


def _decode_key(key: dict) -> dict:
    return {
        a: {t: base64.b64decode(v["$b64"]) if isinstance(v, dict) and "$b64" in v else v for t, v in av.items()}
        for a, av in key.items()
    }


def _atomic_json(path: Path, value) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_bytes(orjson.dumps(value))
    os.replace(tmp, path)


def _load_segment(area: Path, segment: int) -> _Segment:
    try:
        held = json.loads((area / f"seg-{segment:03d}.json").read_text())
        return _Segment(**held)
    except (OSError, ValueError, TypeError):
        return _Segment()


def scan_to_files(
    table: str,
    out_dir: Path,
    segments: int = 4,
    session: boto3.Session | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    on_page: Callable[[int], None] | None = None,
    known_pages: set[str] | frozenset[str] = frozenset(),
    key_attribute: str | None = None,  # collect this attribute of items on unchanged pages (``unchanged_ids``)
    committed_scan: str | None = None,
    full: bool = False,
) -> ScanResult:
    """Scan ``table`` in ``segments`` parallel segments into gzip DynamoDB-JSON-lines files under ``out_dir``.

    ``out_dir`` is the scan area (``scan_area``): an interrupted scan found there is resumed (see the
    module's docstring). A page whose digest is in ``known_pages`` (read, unchanged, by the previous
    scan) is not staged: every page is still fetched, but only new or changed pages are parsed and merged.
    """
    client = aws.client("dynamodb", session=session, region=region, endpoint_url=endpoint_url)
    client.describe_table(TableName=table)  # fail fast, with a clear error, on a missing table
    scan_id, resuming = open_area(out_dir, _scan_key(table, segments, region, endpoint_url), committed_scan, full)
    lock = threading.Lock()
    fetched = [0] * segments
    unchanged_ids: list[list[str]] = [[] for _ in range(segments)]
    saved = {n: _load_segment(out_dir, n) if resuming else _Segment() for n in range(segments)}

    def scan_segment(segment: int) -> None:
        state = saved[segment]
        kwargs = {"TableName": table, "Segment": segment, "TotalSegments": segments}
        if state.last_key:
            kwargs["ExclusiveStartKey"] = _decode_key(state.last_key)
        while not state.done:
            page = client.scan(**kwargs)
            fetched[segment] += 1
            items = page.get("Items", [])
            lines = b"".join(orjson.dumps({"Item": i}, default=_default, option=orjson.OPT_SORT_KEYS) + b"\n" for i in items)
            digest = hashlib.blake2b(lines, digest_size=16).hexdigest()
            if digest in known_pages:
                state.unchanged += len(items)
                if key_attribute:
                    unchanged_ids[segment] += [_key_text(i.get(key_attribute)) for i in items]
            else:
                name = f"seg-{segment:03d}-{state.pages:06d}.json.gz"
                with gzip.open(out_dir / name, "wb", compresslevel=1) as out:
                    out.write(lines)
                state.files.append(name)
            state.pages += 1
            state.items += len(items)
            state.digests.append(digest)
            state.last_key = _encode_key(page["LastEvaluatedKey"]) if "LastEvaluatedKey" in page else None
            state.done = state.last_key is None
            _atomic_json(out_dir / f"seg-{segment:03d}.json", state.__dict__)
            crash_point("scan.page")
            if on_page:
                with lock:
                    on_page(len(items))
            if state.last_key:
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    resumed = {n: (s.pages, s.pages > 0 or s.done) for n, s in saved.items()}
    with ThreadPoolExecutor(max_workers=max(1, min(segments, 16))) as pool:
        list(pool.map(scan_segment, range(segments)))
    states = [saved[n] for n in range(segments)]
    return ScanResult(
        files=[out_dir / f for s in states for f in s.files],
        requests=1 + sum(fetched),
        page_digests=[d for s in states for d in s.digests],
        unchanged_items=sum(s.unchanged for s in states),
        scan_id=scan_id,
        resumed_pages=sum(pages for pages, _ in resumed.values()),
        resumed_segments=sum(1 for _, went_on in resumed.values() if went_on),
        unchanged_ids=[i for ids in unchanged_ids for i in ids if i is not None],
    )
