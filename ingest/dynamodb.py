"""DynamoDB sources: a parallel table scan, and "export to S3" files (local or s3://).

Both end as files of DynamoDB JSON lines that ``ingest.launches`` parses in bulk. A scan writes
each page straight to a gzip staging file, so no more than one page per segment is held in memory.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import orjson
from botocore.config import Config

from ingest.errors import SourceError

# Retry only what retrying can fix: botocore's standard mode retries throttling and transient errors.
RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8}, connect_timeout=10, read_timeout=60)


def _default(value):
    if isinstance(value, bytes | bytearray):
        import base64

        return base64.b64encode(value).decode()
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(type(value).__name__)


def scan_to_files(
    table: str,
    out_dir: Path,
    segments: int = 4,
    session: boto3.Session | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    on_page: Callable[[int], None] | None = None,
) -> tuple[list[Path], int]:
    """Scan ``table`` in ``segments`` parallel segments; return the staged files and requests made."""
    session = session or boto3.Session()
    client = session.client("dynamodb", region_name=region, endpoint_url=endpoint_url, config=RETRY_CONFIG)
    client.describe_table(TableName=table)  # fail fast, with a clear error, on a missing table
    requests = 1
    lock = threading.Lock()

    def scan_segment(segment: int) -> tuple[Path, int]:
        path = out_dir / f"scan-{segment:03d}.json.gz"
        made = 0
        kwargs = {"TableName": table, "Segment": segment, "TotalSegments": segments}
        with gzip.open(path, "wb", compresslevel=1) as out:
            while True:
                page = client.scan(**kwargs)
                made += 1
                for item in page.get("Items", []):
                    out.write(orjson.dumps({"Item": item}, default=_default))
                    out.write(b"\n")
                if on_page:
                    with lock:
                        on_page(len(page.get("Items", [])))
                if "LastEvaluatedKey" not in page:
                    return path, made
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    with ThreadPoolExecutor(max_workers=max(1, min(segments, 16))) as pool:
        results = list(pool.map(scan_segment, range(segments)))
    return [p for p, _ in results], requests + sum(n for _, n in results)


def export_files(location: str, work_dir: Path, session: boto3.Session | None = None) -> tuple[list[Path], int]:
    """The data files of a DynamoDB export at a local path or s3:// URL; returns (files, requests).

    ``location`` may be the export folder (holding ``manifest-files.json``), any folder above it,
    or a single ``.json``/``.json.gz`` file. S3 exports are downloaded with awswrangler first.
    """
    requests = 0
    if location.startswith("s3://"):
        import awswrangler as wr

        session = session or boto3.Session()
        try:
            keys = [k for k in wr.s3.list_objects(location, boto3_session=session) if k.endswith((".json.gz", ".json"))]
        except Exception as exc:  # awswrangler wraps botocore errors; keep the one line a person needs
            raise SourceError(f"cannot list {location}: {exc}") from None
        requests += 1
        keys = [k for k in keys if "/data/" in k or k.endswith((".json.gz",))]
        if not keys:
            raise SourceError(f"no export data files (*.json.gz) under {location}")
        local = work_dir / "s3-export"
        local.mkdir(parents=True, exist_ok=True)
        files = []
        for n, key in enumerate(sorted(keys)):
            target = local / f"{n:05d}-{Path(key).name}"
            wr.s3.download(path=key, local_file=str(target), boto3_session=session)
            requests += 1
            files.append(target)
        return [f for f in files if not f.name.endswith("manifest-summary.json")], requests

    path = Path(location)
    if not path.exists():
        raise SourceError(f"export path {location} does not exist")
    if path.is_file():
        return [path], 0
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
    return files, requests
