"""DynamoDB "export to S3" files, from a local folder or file or from s3:// (downloaded with awswrangler).

The data files are DynamoDB JSON lines (gzip) that ``ingest.dynamodb.items`` parses in bulk. A file
loaded before and unchanged since (size and mtime, or its S3 ETag) is not read again.

Each export's ``manifest-summary.json`` says what it is: ``exportType`` FULL_EXPORT (a snapshot of the
table at ``exportTime``; older exports do not say, and are full) or INCREMENTAL_EXPORT (the changes
between ``exportFromTime`` and ``exportToTime``, one ``{"Metadata", "Keys", "NewImage", "OldImage"}``
line per changed item, its data files in the shared ``AWSDynamoDB/data/`` folder).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
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
    times: dict[Path, int] = field(default_factory=dict)  # local path -> its full export's exportTime (us since the epoch)
    full_exports: int = 0  # full exports (with a manifest) among the files
    incremental_exports: int = 0


FULL, INCREMENTAL = "FULL_EXPORT", "INCREMENTAL_EXPORT"


def summary_of(summary: dict) -> tuple[str, int | None]:
    """(export type, exportTime in us since the epoch) of a parsed ``manifest-summary.json``."""
    kind = summary.get("exportType") or FULL
    when = summary.get("exportTime") if kind == FULL else None
    try:
        as_of = int(datetime.fromisoformat(str(when).replace("Z", "+00:00")).timestamp() * 1_000_000) if when else None
    except ValueError:
        as_of = None
    return kind, as_of


def _read_summary(manifest: Path) -> tuple[str, int | None]:
    try:
        return summary_of(json.loads((manifest.parent / "manifest-summary.json").read_text()))
    except (OSError, ValueError, AttributeError):
        return FULL, None


def export_files(
    location: str,
    work_dir: Path,
    session: boto3.Session | None = None,
    loaded: dict | None = None,
    max_files: int | None = None,  # download at most this many files of an s3:// export (a sample)
) -> ExportFiles:
    """The data files of a DynamoDB export at a local path or s3:// URL.

    ``location`` may be the export folder (holding ``manifest-files.json``), any folder above it,
    or a single ``.json``/``.json.gz`` file. ``loaded`` maps file id → fingerprint of files already
    loaded; a file whose fingerprint (size and mtime, or the S3 ETag) is unchanged is not read again.
    S3 files are downloaded with awswrangler, and only when they changed.
    """
    loaded = loaded or {}
    out = ExportFiles()
    if location.startswith("s3://"):
        _s3_export_files(location, work_dir, session, loaded, out, max_files)
        return out

    path = Path(location)
    if not path.exists():
        raise SourceError(f"export path {location} does not exist")
    files, exports = _local_data_files(path, location)
    for f in files:
        st = f.stat()
        file_id, fingerprint = str(f.resolve()), f"{st.st_size}:{st.st_mtime_ns}"
        if loaded.get(file_id) == fingerprint:
            out.unchanged.append(file_id)
        else:
            out.to_read.append((f, file_id, fingerprint))
    _note_exports(out, exports)
    return out


def _s3_export_files(location: str, work_dir: Path, session, loaded: dict, out: ExportFiles, max_files: int | None) -> None:
    """The data files under an s3:// prefix, and those its exports' manifests name (an incremental export keeps
    them in the shared ``AWSDynamoDB/data/`` folder beside the export's own), downloaded when they changed."""
    import awswrangler as wr

    aws.configure_wrangler()
    session = session or aws.make_session()
    local = work_dir / "s3-export"
    local.mkdir(parents=True, exist_ok=True)
    exports: dict[str, tuple[str, int | None, str]] = {}
    try:
        listed = wr.s3.list_objects(location, boto3_session=session)
        out.requests += 1
        keys = {k for k in listed if k.endswith((".json.gz", ".json")) and not k.endswith(_MANIFESTS)}
        for n, manifest in enumerate(sorted(k for k in listed if k.endswith("manifest-files.json"))):
            folder = local / f"manifest-{n:03d}"
            folder.mkdir(exist_ok=True)
            wr.s3.download(path=manifest, local_file=str(folder / "manifest-files.json"), boto3_session=session)
            out.requests += 1
            summary_key = manifest[: -len("manifest-files.json")] + "manifest-summary.json"
            if summary_key in listed:
                wr.s3.download(path=summary_key, local_file=str(folder / "manifest-summary.json"), boto3_session=session)
                out.requests += 1
            bucket = manifest[len("s3://") :].split("/", 1)[0]
            summary = (*_read_summary(folder / "manifest-files.json"), manifest)
            for line in (folder / "manifest-files.json").read_text().splitlines():
                if line.strip():
                    key = _s3_data_key(manifest, bucket, json.loads(line)["dataFileS3Key"])
                    keys.add(key)
                    exports[key] = summary
        if not keys:
            raise SourceError(f"no export data files (*.json.gz) under {location}")
        described = wr.s3.describe_objects(sorted(keys), boto3_session=session)
        out.requests += len(keys)
    except SourceError:
        raise
    except Exception as exc:  # awswrangler wraps botocore errors; keep the one line a person needs
        raise SourceError(f"cannot read {location}: {exc}") from None
    local_exports: dict[Path, tuple[str, int | None, str]] = {}
    for n, key in enumerate(sorted(keys)):
        if key not in described:
            raise SourceError(f"export data file {key} named in the manifest is missing")
        fingerprint = f"etag:{described[key].get('ETag', '').strip(chr(34))}:{described[key].get('ContentLength')}"
        if loaded.get(key) == fingerprint:
            out.unchanged.append(key)
            continue
        if max_files is not None and len(out.to_read) >= max_files:
            break
        target = local / f"{n:05d}-{Path(key).name}"
        wr.s3.download(path=key, local_file=str(target), boto3_session=session)
        out.requests += 1
        out.to_read.append((target, key, fingerprint))
        if key in exports:
            local_exports[target] = exports[key]
    _note_exports(out, local_exports)


_MANIFESTS = ("manifest-summary.json", "manifest-files.json")
_ROOT = "AWSDynamoDB/"


def _s3_data_key(manifest: str, bucket: str, key: str) -> str:
    """The s3:// URL of a data file a manifest names: beside the manifest's AWSDynamoDB/ folder (where AWS put
    it, or where the export was copied to), else the key as written."""
    if _ROOT in manifest and _ROOT in key:
        return manifest[: manifest.rindex(_ROOT)] + key[key.index(_ROOT) :]
    return f"s3://{bucket}/{key}"


def _note_exports(out: ExportFiles, exports: dict[Path, tuple[str, int | None, str]]) -> None:
    """Record which files belong to full or incremental exports, and each full export's time."""
    seen = set()
    for f, (kind, as_of, manifest) in exports.items():
        seen.add((kind, manifest))
        if kind == FULL and as_of is not None:
            out.times[f] = as_of
    out.full_exports = sum(1 for kind, _ in seen if kind == FULL)
    out.incremental_exports = sum(1 for kind, _ in seen if kind == INCREMENTAL)


def _manifest_files(manifest: Path) -> list[Path]:
    """The data files one ``manifest-files.json`` names, found where the export was copied to."""
    root = manifest.parent.parent.parent  # <root>/AWSDynamoDB/<export-id>/manifest-files.json
    files = []
    for line in manifest.read_text().splitlines():
        if line.strip():
            key = json.loads(line)["dataFileS3Key"]
            candidates = [
                root / key,
                manifest.parent / "data" / Path(key).name,  # exports copied elsewhere keep only the tail of the key
                manifest.parent.parent / "data" / Path(key).name,  # an incremental export's shared AWSDynamoDB/data/
            ]
            files.append(next((c for c in candidates if c.exists()), candidates[0]))
    return files


def _local_data_files(path: Path, location: str) -> tuple[list[Path], dict[Path, tuple[str, int | None, str]]]:
    """The data files under ``path``, and for those an export's manifest names, (export type, export time)."""
    if path.is_file():
        return [path], {}
    manifests = sorted(path.rglob("manifest-files.json"))
    files: list[Path] = []
    exports: dict[Path, tuple[str, int | None, str]] = {}
    for manifest in manifests:
        summary = (*_read_summary(manifest), str(manifest))
        for f in _manifest_files(manifest):
            files.append(f)
            exports[f] = summary
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
    return files, exports
