"""The demo's On-Demand list prices, read from the offline price snapshot the engine loads (``pricing/snapshot``).

The demo prices its launches with the engine's own figures, so a reader can check a ``totalCost`` by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .catalogue import FSX_TYPES, INSTANCE_TYPES, REGIONS, VOLUME_TYPES


@dataclass(frozen=True)
class ListPrices:
    """On-Demand list prices from the offline snapshot, as arrays indexed by the demo's codes (NaN: not listed)."""

    snapshot: str  # file name
    instance: np.ndarray  # [region, instance type code] $/h
    volume: np.ndarray  # [region, volume type] $/GB-month
    iops: np.ndarray  # [region, volume type] $/IOPS-month (gp3 above 3,000; io2 all)
    throughput: np.ndarray  # [region, volume type] $/MiBps-month (gp3 above 125)
    filesystem: np.ndarray  # [region, FSx deployment type] $/GB-month
    eks: np.ndarray  # [region] $/cluster-hour


def list_prices(path: Path | None = None) -> ListPrices:
    """The demo's price table, read from the offline snapshot the engine loads (``pricing.snapshot``)."""
    from pricing.snapshot import latest_snapshot, snapshot_rows

    path = path or latest_snapshot()
    by_key = {(r["region"], r["resource_kind"], r["resource_type"], r["charge"]): float(r["price"]) for r in snapshot_rows(path)}

    def table(kind: str, types: tuple[str, ...], charge: str) -> np.ndarray:
        return np.array([[by_key.get((region, kind, t, charge), np.nan) for t in types] for region in REGIONS])

    return ListPrices(
        snapshot=path.name,
        instance=table("instance", INSTANCE_TYPES[:-1], "usage"),
        volume=table("volume", VOLUME_TYPES, "storage"),
        iops=table("volume", VOLUME_TYPES, "iops"),
        throughput=table("volume", VOLUME_TYPES, "throughput"),
        filesystem=table("filesystem", FSX_TYPES, "storage"),
        eks=table("cluster", ("eks",), "usage")[:, 0],
    )


def priced(values: np.ndarray, used: np.ndarray, what: str, names: Callable[[int], str], prices: ListPrices) -> np.ndarray:
    """``values`` (prices looked up per launch) where ``used``, else 0; a clear error when one is not in the snapshot.

    ``names(i)`` says what launch ``i`` needed a price for (``"r6i.4xlarge in us-east-1"``).
    """
    missing = used & np.isnan(values)
    if missing.any():
        raise ValueError(
            f"the price snapshot {prices.snapshot} has no {what} price for {names(np.flatnonzero(missing)[0])}: "
            "the demo needs one for everything it simulates"
        )
    return np.where(used, values, 0.0)
