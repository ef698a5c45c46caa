"""Read the reference engine's inputs (launches, resources, prices) from warehouse rows or frames."""

from __future__ import annotations

import duckdb
import pandas as pd

from pricing.engine import Launch, PriceBook, Resource


def _none(value):
    if value is None or value is pd.NaT:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _ts(value):
    value = _none(value)
    return None if value is None else pd.Timestamp(value).to_pydatetime()


def _int(value):
    value = _none(value)
    return None if value is None else int(value)


def launches_from(frame: pd.DataFrame) -> list[Launch]:
    return [
        Launch(r["launch_id"], _none(r["region"]), _none(r["compute_platform"]), _ts(r["ended_at"]))
        for r in frame.to_dict("records")
    ]


def resources_from(frame: pd.DataFrame) -> list[Resource]:
    return [
        Resource(
            launch_id=r["launch_id"],
            kind=r["kind"],
            resource_type=_none(r["resource_type"]),
            purchase_option=_none(r["purchase_option"]),
            count=int(_none(r["count"]) or 1),
            size_gb=_none(r["size_gb"]),
            availability_zone=_none(r["availability_zone"]),
            resource_id=_none(r["resource_id"]),
            started_at=_ts(r["started_at"]),
            ended_at=_ts(r["ended_at"]),
            iops=_int(r.get("iops")),
            throughput_mibps=_int(r.get("throughput_mibps")),
        )
        for r in frame.to_dict("records")
    ]


def book_from(frame: pd.DataFrame) -> PriceBook:
    rows = frame.to_dict("records")
    for r in rows:
        r["availability_zone"] = _none(r["availability_zone"])
        r["effective_from"] = _ts(r["effective_from"])
    return PriceBook.from_rows(rows)


def read_inputs(
    con: duckdb.DuckDBPyConnection, launch_ids: list[str] | None = None
) -> tuple[list[Launch], list[Resource], PriceBook]:
    """Launches (all, or ``launch_ids``), their resources and every price, from warehouse views."""
    where = "" if launch_ids is None else "WHERE list_contains($ids, launch_id)"
    params = {} if launch_ids is None else {"ids": list(launch_ids)}
    launches = con.sql(f"SELECT launch_id, region, compute_platform, ended_at FROM launches {where}", params=params).df()
    resources = con.sql(f"SELECT * FROM launch_resources {where} ORDER BY launch_id, resource_index", params=params).df()
    prices = con.sql("SELECT * FROM prices").df()
    return launches_from(launches), resources_from(resources), book_from(prices)
