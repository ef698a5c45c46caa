"""The DynamoDB "export to S3" of the launches table: ``<out>/dynamodb-export/AWSDynamoDB/<export-id>/``.

``manifest-summary.json``, ``manifest-files.json``, their ``.checksum`` files, ``_started`` and
``data/*.json.gz``: gzip JSON lines, one ``{"Item": {...}}`` each (``item_sql``). Items are spread over the
data files in a hashed (random) order, as a real export spreads them over partitions; one extra data file,
``BAD_ITEMS_FILE``, holds the deliberately invalid items (``bad_items``).

The simulation's columns go to DuckDB as one Arrow table per data file (``chunk_table``), and DuckDB writes
the JSON; two threads write two files at a time.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import math
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from core.vocabulary import PLATFORMS, PURCHASE_OPTIONS, STATUSES

from .catalogue import CONSUMER_NAMES, EKS_CLUSTERS, FSX_TYPES, INSTANCE_TYPES, NA, REGIONS, VOLUME_TYPES, WORKFLOWS, ZONES
from .item_sql import item_sql
from .wire import compact_json, iso_milliseconds, snapshot_time, uuid_for

ITEMS_PER_FILE = 100_000
MIN_DATA_FILES = 4
GZIP_LEVEL = 6
BAD_ITEMS_FILE = "zz-needs-review.json.gz"
TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/workflow-launches"

DataFile = tuple[str, int, int]  # (file name, items, uncompressed bytes)


def export_id(seed: int, launches: int, end_date: date) -> str:
    """``<export time in ms>-<8 hex digits>``, as DynamoDB names an export."""
    digest = hashlib.sha256(f"launch-ledger-demo:{seed}:{launches}:{end_date.isoformat()}".encode()).hexdigest()
    return f"{int(snapshot_time(end_date).timestamp() * 1000):014d}-{digest[:8]}"


def write_export(
    root: Path,
    export_id: str,
    sim: dict[str, np.ndarray],
    bad: list[dict],
    seed: int,
    launches: int,
    end_date: date,
    progress: Callable[[int], None] | None,
) -> None:
    """The whole export under ``root``; ``progress(items written)`` after each data file (and once at 0)."""
    base = root / "AWSDynamoDB" / export_id
    data_dir = base / "data"
    data_dir.mkdir(parents=True)
    (base / "_started").write_bytes(b"")
    files = _write_data_files(data_dir, sim, seed, launches, end_date, progress)
    files.append(_write_bad_items(data_dir, bad))
    _write_manifest_files(base, export_id, files)
    _write_manifest_summary(base, export_id, files, seed, end_date, launches, items=launches + len(bad))


def _write_data_files(
    data_dir: Path,
    sim: dict[str, np.ndarray],
    seed: int,
    launches: int,
    end_date: date,
    progress: Callable[[int], None] | None,
) -> list[DataFile]:
    """The launches in export order, split evenly over at least ``MIN_DATA_FILES`` files of ``ITEMS_PER_FILE``."""
    order = sim["export_order"]
    n_files = min(launches, max(MIN_DATA_FILES, math.ceil(launches / ITEMS_PER_FILE)))
    bounds = np.linspace(0, launches, n_files + 1).astype(np.int64)
    sql = item_sql(max(7, len(str(launches))))
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute("SET preserve_insertion_order = true")

    def write(k: int) -> DataFile:
        cursor = con.cursor()
        try:
            cursor.register("chunk", chunk_table(sim, order[bounds[k] : bounds[k + 1]]))
            name = _data_file_name(seed, launches, end_date, k)
            lines, raw = _write_gzip_lines(cursor, sql, data_dir / name)
        finally:
            cursor.close()
        return name, lines, raw

    files: list[DataFile] = []
    written = 0
    if progress:
        progress(0)
    with ThreadPoolExecutor(max_workers=2) as pool:
        for name, lines, raw in pool.map(write, range(n_files)):
            files.append((name, lines, raw))
            written += lines
            if progress:
                progress(written)
    con.close()
    return files


def _write_bad_items(data_dir: Path, bad: list[dict]) -> DataFile:
    bad_bytes = b"".join(json.dumps(item, separators=(",", ":")).encode() + b"\n" for item in bad)
    with open(data_dir / BAD_ITEMS_FILE, "wb") as raw_out, gzip.GzipFile(filename="", mode="wb", fileobj=raw_out, mtime=0) as gz:
        gz.write(bad_bytes)
    return BAD_ITEMS_FILE, len(bad), len(bad_bytes)


def _write_manifest_files(base: Path, export_id: str, files: list[DataFile]) -> None:
    """``manifest-files.json``: one JSON line per data file (items, MD5, key), and its checksum."""
    manifest_lines = []
    for name, lines, _raw in files:
        md5_b64, md5_hex = _file_digests(base / "data" / name)
        entry = {
            "itemCount": lines,
            "md5Checksum": md5_b64,
            "etag": md5_hex,
            "dataFileS3Key": f"AWSDynamoDB/{export_id}/data/{name}",
        }
        manifest_lines.append(compact_json(entry))
    manifest_files = ("\n".join(manifest_lines) + "\n").encode()
    (base / "manifest-files.json").write_bytes(manifest_files)
    (base / "manifest-files.checksum").write_text(hashlib.md5(manifest_files).hexdigest())


def _write_manifest_summary(
    base: Path, export_id: str, files: list[DataFile], seed: int, end_date: date, launches: int, items: int
) -> None:
    """``manifest-summary.json`` (the export's description) and its checksum; ``items`` counts good and bad ones."""
    as_of = snapshot_time(end_date)
    summary = {
        "version": "2020-06-30",
        "exportArn": f"{TABLE_ARN}/export/{export_id}",
        "startTime": iso_milliseconds(as_of + timedelta(seconds=2.5)),
        "endTime": iso_milliseconds(as_of + timedelta(seconds=180 + launches // 2000)),
        "tableArn": TABLE_ARN,
        "tableId": uuid_for(f"table:{seed}"),
        "exportTime": iso_milliseconds(as_of),
        "s3Bucket": "launch-ledger-exports",
        "s3Prefix": None,
        "s3SseAlgorithm": "AES256",
        "s3SseKmsKeyId": None,
        "manifestFilesS3Key": f"AWSDynamoDB/{export_id}/manifest-files.json",
        "billedSizeBytes": sum(raw for _, _, raw in files),
        "itemCount": items,
        "outputFormat": "DYNAMODB_JSON",
        "exportType": "FULL_EXPORT",
    }
    summary_bytes = compact_json(summary).encode()
    (base / "manifest-summary.json").write_bytes(summary_bytes)
    (base / "manifest-summary.checksum").write_text(hashlib.md5(summary_bytes).hexdigest())


def _data_file_name(seed: int, launches: int, end_date: date, k: int) -> str:
    digest = hashlib.sha256(f"data-file:{seed}:{launches}:{end_date.isoformat()}:{k}".encode()).digest()
    return base64.b32encode(digest).decode().lower()[:26] + ".json.gz"


def _file_digests(path: Path) -> tuple[str, str]:
    """A file's MD5 as base64 and as hex."""
    digest = hashlib.md5(path.read_bytes()).digest()
    return base64.b64encode(digest).decode(), digest.hex()


def _write_gzip_lines(cursor: duckdb.DuckDBPyConnection, sql: str, path: Path) -> tuple[int, int]:
    """Stream the ``line`` column of ``sql`` into a gzip file; returns (lines, uncompressed bytes)."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # wbits 31: gzip wrapper, mtime 0, no name
    lines = raw = 0
    with open(path, "wb") as out:
        for batch in cursor.sql(sql).to_arrow_reader(50_000):
            column = batch.column(0)
            if column.type not in (pa.string(), pa.large_string()):
                column = column.cast(pa.large_string())
            offsets = np.frombuffer(column.buffers()[1], dtype=np.int32 if column.type == pa.string() else np.int64)
            first, last = int(offsets[column.offset]), int(offsets[column.offset + len(column)])
            data = memoryview(column.buffers()[2])[first:last]
            out.write(compressor.compress(data))
            lines += len(column)
            raw += last - first
        out.write(compressor.flush())
    return lines, raw


def _dict_array(codes: np.ndarray, names: tuple[str, ...]) -> pa.DictionaryArray:
    """Codes as a dictionary array of ``names`` (NULL where negative)."""
    codes = np.asarray(codes)
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int16), mask=codes < 0), pa.array(names))


def _ts_array(values: np.ndarray) -> pa.Array:
    """Epoch seconds as a timestamp array (NULL where negative)."""
    values = np.asarray(values, dtype=np.int64)
    return pa.array(values.view("datetime64[s]"), mask=values < 0)


def _int_array(values: np.ndarray) -> pa.Array:
    """Integers, NULL where negative."""
    values = np.asarray(values, dtype=np.int64)
    return pa.array(values, mask=values < 0)


def chunk_table(sim: dict[str, np.ndarray], rows: np.ndarray) -> pa.Table:
    """The columns one data file needs, for launch indexes ``rows`` (the names ``item_sql`` reads)."""

    def col(name):
        return sim[name][rows]

    has_res = col("has_res")
    priced = col("priced")

    def res(values):  # only launches with resources carry resource attributes
        return np.where(has_res, values, NA)

    def cost(values):
        return np.where(priced, values, NA)

    return pa.table(
        {
            "idx": pa.array(rows.astype(np.int64)),
            "hid": pa.array(col("hid")),
            "run_hid": pa.array(col("run_hid")),
            "consumer": _dict_array(col("cons"), CONSUMER_NAMES),
            "workflow_type": _dict_array(col("wf"), WORKFLOWS),
            "platform": _dict_array(col("pf"), PLATFORMS),
            "region": _dict_array(col("region"), REGIONS),
            "status": _dict_array(col("status"), STATUSES),
            "ep": pa.array(col("epoch_ts")),
            "size_tenths": pa.array(col("size_tenths")),
            "sample_count": _int_array(col("sample_count")),
            "output_tenths": _int_array(col("output_tenths")),
            **{name: _ts_array(col(name)) for name in ("t_prep", "t_wait", "t_ready", "t_run", "t_complete", "t_failed")},
            "has_res": pa.array(has_res),
            "i1_type": _dict_array(res(col("itype")), INSTANCE_TYPES),
            "i1_opt": _dict_array(col("option"), PURCHASE_OPTIONS),
            "i1_n": pa.array(col("count")),
            "i1_az": _dict_array(col("az"), ZONES),
            "i1_s": _ts_array(col("t_run")),
            "i1_e": _ts_array(col("t_end")),
            "v1_type": _dict_array(res(col("vtype")), VOLUME_TYPES),
            "v1_gb": pa.array(col("vsize")),
            "v1_iops": _int_array(col("viops")),
            "v1_mibps": _int_array(col("vmibps")),
            "i2_type": _dict_array(col("itype2"), INSTANCE_TYPES),
            "i2_opt": _dict_array(col("option2"), PURCHASE_OPTIONS),
            "i2_n": pa.array(col("count2")),
            "i2_az": _dict_array(col("az2"), ZONES),
            "i2_s": _ts_array(col("s2")),
            "i2_e": _ts_array(col("e2")),
            "v2_type": _dict_array(col("vtype2"), VOLUME_TYPES),
            "v2_gb": pa.array(col("vsize2")),
            "v2_iops": _int_array(col("viops2")),
            "v2_mibps": _int_array(col("vmibps2")),
            "fs_type": _dict_array(col("fs_type"), FSX_TYPES),
            "fs_hid": pa.array(col("fs_hid")),
            "fs_cap": pa.array(col("fs_cap")),
            "fs_s": _ts_array(col("fs_start")),
            "cluster": _dict_array(col("cluster"), EKS_CLUSTERS),
            **{f"c_{part}": _int_array(cost(col(f"c_{part}"))) for part in ("total", "inst", "vol", "fs")},
        }
    )
