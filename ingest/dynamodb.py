"""DynamoDB sources: a parallel table scan, and "export to S3" files (local or s3://).

Both end as files of DynamoDB JSON lines that ``ingest.launches`` parses in bulk. A scan writes
each page straight to a gzip staging file, so no more than one page per segment is held in memory.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from ingest.errors import SourceError

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config


def retry_config() -> Config:
    """Retry only what retrying can fix: botocore's standard mode retries throttling and transient errors.

    (boto3 is imported when AWS is called, so a run over local files starts without it.)
    """
    from botocore.config import Config

    return Config(retries={"mode": "standard", "max_attempts": 8}, connect_timeout=10, read_timeout=60)


def _default(value):
    if isinstance(value, bytes | bytearray):
        import base64

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


def scan_to_files(
    table: str,
    out_dir: Path,
    segments: int = 4,
    session: boto3.Session | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    on_page: Callable[[int], None] | None = None,
    known_pages: set[str] | frozenset[str] = frozenset(),
) -> ScanResult:
    """Scan ``table`` in ``segments`` parallel segments into gzip DynamoDB-JSON-lines files.

    A page whose digest is in ``known_pages`` (read, unchanged, by the previous scan) is not staged:
    every page is still fetched, but only new or changed pages are parsed and merged.
    """
    if session is None:
        import boto3

        session = boto3.Session()
    client = session.client("dynamodb", region_name=region, endpoint_url=endpoint_url, config=retry_config())
    client.describe_table(TableName=table)  # fail fast, with a clear error, on a missing table
    lock = threading.Lock()

    def scan_segment(segment: int) -> tuple[Path, int, list[str], int]:
        path = out_dir / f"scan-{segment:03d}.json.gz"
        made, digests, unchanged = 0, [], 0
        kwargs = {"TableName": table, "Segment": segment, "TotalSegments": segments}
        with gzip.open(path, "wb", compresslevel=1) as out:
            while True:
                page = client.scan(**kwargs)
                made += 1
                items = page.get("Items", [])
                lines = b"".join(orjson.dumps({"Item": item}, default=_default, option=orjson.OPT_SORT_KEYS) + b"\n" for item in items)
                digest = hashlib.blake2b(lines, digest_size=16).hexdigest()
                digests.append(digest)
                if digest in known_pages:
                    unchanged += len(items)
                else:
                    out.write(lines)
                if on_page:
                    with lock:
                        on_page(len(items))
                if "LastEvaluatedKey" not in page:
                    return path, made, digests, unchanged
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    with ThreadPoolExecutor(max_workers=max(1, min(segments, 16))) as pool:
        results = list(pool.map(scan_segment, range(segments)))
    return ScanResult(
        files=[r[0] for r in results],
        requests=1 + sum(r[1] for r in results),
        page_digests=[d for r in results for d in r[2]],
        unchanged_items=sum(r[3] for r in results),
    )


@dataclass
class ExportFiles:
    """The data files of an export: those to read, those unchanged since they were last loaded."""

    to_read: list[tuple[Path, str, str]] = field(default_factory=list)  # (local path, file id, fingerprint)
    unchanged: list[str] = field(default_factory=list)  # file ids skipped
    requests: int = 0


def export_files(location: str, work_dir: Path, session: boto3.Session | None = None, loaded: dict | None = None) -> ExportFiles:
    """The data files of a DynamoDB export at a local path or s3:// URL.

    ``location`` may be the export folder (holding ``manifest-files.json``), any folder above it,
    or a single ``.json``/``.json.gz`` file. ``loaded`` maps file id → fingerprint of files already
    loaded; a file whose fingerprint (size and mtime, or the S3 ETag) is unchanged is not read again.
    S3 files are downloaded with awswrangler, and only when they changed.
    """
    loaded = loaded or {}
    out = ExportFiles()
    if location.startswith("s3://"):
        import awswrangler as wr

        if session is None:
            import boto3

            session = boto3.Session()
        try:
            keys = [k for k in wr.s3.list_objects(location, boto3_session=session) if k.endswith((".json.gz", ".json"))]
            out.requests += 1
            keys = [k for k in keys if not k.endswith(("manifest-summary.json", "manifest-files.json"))]
            if not keys:
                raise SourceError(f"no export data files (*.json.gz) under {location}")
            described = wr.s3.describe_objects(keys, boto3_session=session)
            out.requests += len(keys)
        except SourceError:
            raise
        except Exception as exc:  # awswrangler wraps botocore errors; keep the one line a person needs
            raise SourceError(f"cannot read {location}: {exc}") from None
        local = work_dir / "s3-export"
        local.mkdir(parents=True, exist_ok=True)
        for n, key in enumerate(sorted(keys)):
            fingerprint = f"etag:{described[key].get('ETag', '').strip(chr(34))}:{described[key].get('ContentLength')}"
            if loaded.get(key) == fingerprint:
                out.unchanged.append(key)
                continue
            target = local / f"{n:05d}-{Path(key).name}"
            wr.s3.download(path=key, local_file=str(target), boto3_session=session)
            out.requests += 1
            out.to_read.append((target, key, fingerprint))
        return out

    path = Path(location)
    if not path.exists():
        raise SourceError(f"export path {location} does not exist")
    for f in _local_data_files(path, location):
        st = f.stat()
        file_id, fingerprint = str(f.resolve()), f"{st.st_size}:{st.st_mtime_ns}"
        if loaded.get(file_id) == fingerprint:
            out.unchanged.append(file_id)
        else:
            out.to_read.append((f, file_id, fingerprint))
    return out


def _local_data_files(path: Path, location: str) -> list[Path]:
    if path.is_file():
        return [path]
    manifests = sorted(path.rglob("manifest-files.json"))
    files: list[Path] = []
    for manifest in manifests:
        root = manifest.parent.parent.parent  # <root>/AWSDynamoDB/<export-id>/manifest-files.json
        for line in manifest.read_text().splitlines():
            if line.strip():
                entry = json.loads(line)
                candidate = root / entry["dataFileS3Key"]
                if not candidate.exists():  # exports copied elsewhere keep only the tail of the key
                    candidate = manifest.parent / "data" / Path(entry["dataFileS3Key"]).name
                files.append(candidate)
    if manifests:
        listed = {f.resolve() for f in files}
        extra = [f for f in sorted(path.rglob("data/*.json.gz")) if f.resolve() not in listed]
        files += extra  # files dropped beside an export (e.g. hand-corrected items) are read too
    else:
        files = sorted(path.rglob("*.json.gz")) + sorted(path.rglob("*.json"))
    missing = [f for f in files if not f.exists()]
    if missing:
        raise SourceError(f"export data file {missing[0]} named in the manifest is missing")
    if not files:
        raise SourceError(f"no export data files (*.json.gz) under {location}")
    return files
