"""DynamoDB "export to S3" files, from a local folder or file or from s3:// (downloaded with awswrangler).

The data files are DynamoDB JSON lines (gzip) that ``ingest.dynamodb.items`` parses in bulk. A file
loaded before and unchanged since (size and mtime, or its S3 ETag) is not read again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from core import aws
from core.errors import SourceError

if TYPE_CHECKING:
    import boto3


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

        aws.configure_wrangler()
        session = session or aws.make_session()
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
