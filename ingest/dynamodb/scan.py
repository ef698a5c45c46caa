"""The DynamoDB table scan: parallel segments, paginated, each page straight to a gzip staging file.

The files are DynamoDB JSON lines that ``ingest.dynamodb.items`` parses in bulk, so no more than one
page per segment is held in memory.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from core import aws

if TYPE_CHECKING:
    import boto3


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
    client = aws.client("dynamodb", session=session, region=region, endpoint_url=endpoint_url)
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
                lines = b"".join(
                    orjson.dumps({"Item": item}, default=_default, option=orjson.OPT_SORT_KEYS) + b"\n" for item in items
                )
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
