"""The offline list-price snapshot: ``pricing/snapshot/prices-<date>.json`` (see the README beside it)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

SNAPSHOT_DIR = Path(__file__).with_name("snapshot")


def latest_snapshot() -> Path:
    files = sorted(SNAPSHOT_DIR.glob("prices-*.json"))
    if not files:
        raise FileNotFoundError(f"no price snapshot in {SNAPSHOT_DIR}")
    return files[-1]


def snapshot_rows(path: Path | None = None) -> list[dict]:
    """The snapshot as ``prices`` rows (without fetched_at / ingest_run_id)."""
    path = path or latest_snapshot()
    doc = json.loads(path.read_text())
    effective = datetime.fromisoformat(doc["snapshot_date"])
    return [
        {
            "service": p["service"],
            "region": p["region"],
            "availability_zone": None,
            "resource_kind": p["resource_kind"],
            "resource_type": p["resource_type"],
            "purchase_option": doc["purchase_option"],
            "charge": p["charge"],
            "unit": p["unit"],
            "price": p["price"],
            "currency": doc["currency"],
            "effective_from": effective,
            "source": f"snapshot:{path.name}",
            "sku": None,
        }
        for p in doc["prices"]
    ]
