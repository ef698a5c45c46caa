"""What a GetCostAndUsage page may hold, checked group by group: a bad group is quarantined, the rest loads.

A record is one group of one day (``ResultsByTime[i].Groups[j]``), or a day with spend and no groups. Each
is checked for a readable day inside the range asked for, Keys that are strings, amounts that are decimal
numbers a ``DECIMAL(18,6)`` holds (no NaN, Infinity, ``12,5`` or ``1e400``), cost units that are the
warehouse's currency (``[warehouse] currency``), and the same day and keys only once in a pull. The reason
names the metric, the value found and what was expected.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa

from warehouse.store import WarehouseWriter

COST_METRICS = ("UnblendedCost", "AmortizedCost", "NetAmortizedCost")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_MAX_MONEY = Decimal(10) ** 12  # DECIMAL(18,6): 12 digits before the point
RAW_LIMIT = 4_000  # characters of a rejected group kept in quarantine.raw_record


@dataclass
class Rejects:
    """The records of a pull that did not load: (record key, reason, raw JSON) each."""

    records: list[tuple[str | None, str, str]] = field(default_factory=list)
    days: set[date] = field(default_factory=set)  # days with a rejected record: never taken as final

    def add(self, key: str | None, reason: str, raw, day: date | None = None) -> None:
        if day is not None:
            self.days.add(day)
        text = json.dumps(raw, default=str, ensure_ascii=False)
        self.records.append((key, reason, text if len(text) <= RAW_LIMIT else json.dumps(text[:RAW_LIMIT] + " ...")))

    def reasons(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for _, reason, _ in self.records:
            out[reason] = out.get(reason, 0) + 1
        return out


def result_day(result) -> tuple[date | None, str | None]:
    """The day of one ``ResultsByTime`` entry, or why it has none."""
    if not isinstance(result, dict):
        return None, f"a ResultsByTime entry that is not an object ({type(result).__name__})"
    period = result.get("TimePeriod")
    start = period.get("Start") if isinstance(period, dict) else None
    if not isinstance(start, str):
        return None, f"a ResultsByTime entry with no TimePeriod.Start (found {_short(period)}): the day is unknown"
    try:
        return date.fromisoformat(start.strip()), None
    except ValueError:
        return None, f"TimePeriod.Start {_short(start)} is not a date (YYYY-MM-DD expected)"


def amount(metrics: dict, name: str) -> tuple[Decimal | None, str | None]:
    """A metric's Amount as a Decimal (None when absent), or why it cannot be one."""
    metric = metrics.get(name)
    if metric is None:
        return None, None
    if not isinstance(metric, dict):
        return None, f"{name} is {_short(metric)}, not an object with Amount and Unit"
    value = metric.get("Amount")
    if value is None:
        return None, None
    text = str(value).strip() if isinstance(value, str | int | float) and not isinstance(value, bool) else None
    if text is None or not _NUMBER.fullmatch(text):
        return None, f"{name} amount {_short(value)} is not a number (a decimal such as 12.345 expected)"
    number = Decimal(text)
    if name in COST_METRICS and abs(number) >= _MAX_MONEY:
        return None, f"{name} amount {_short(value)} is out of range (at most 999,999,999,999.999999)"
    if name not in COST_METRICS and not math.isfinite(float(number)):
        return None, f"{name} amount {_short(value)} is out of range for a quantity"
    return number, None


def unit(metrics: dict, currency: str) -> tuple[str, str | None]:
    """The currency of the group's cost metrics, or why it is not the warehouse's."""
    units = {m: metrics[m].get("Unit") for m in COST_METRICS if isinstance(metrics.get(m), dict) and "Amount" in metrics[m]}
    for name, found in units.items():
        if not isinstance(found, str) or not _CURRENCY.fullmatch(found.strip()):
            return currency, f"{name} unit {_short(found)} is not a currency (an ISO 4217 code such as {currency} expected)"
    found = {u.strip() for u in units.values()}
    if len(found) > 1:
        return currency, f"cost metrics in more than one currency ({', '.join(sorted(found))})"
    if found and found != {currency}:
        (other,) = found
        return other, (
            f'cost in {other}, not the warehouse\'s currency {currency}: set currency = "{other}" under [warehouse] '
            "for a warehouse in that currency, or pull this account into another warehouse"
        )
    return currency, None


def group_keys(group) -> tuple[list[str] | None, str | None]:
    if not isinstance(group, dict):
        return None, f"a group that is not an object ({type(group).__name__})"
    keys = group.get("Keys")
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
        return None, f"a group whose Keys are {_short(keys)}, not the strings of the GroupBy (tag, dimension)"
    if not isinstance(group.get("Metrics"), dict):
        return None, f"a group whose Metrics are {_short(group.get('Metrics'))}, not an object of metrics"
    return keys, None


def groupless_spend(result: dict) -> str | None:
    """A day with no groups but a non-zero total: spend that cannot be charged to a consumer."""
    total = result.get("Total") if isinstance(result.get("Total"), dict) else {}
    for name in COST_METRICS:
        value, why = amount(total, name)
        if why or (value is not None and value != 0):
            shown = _short(total[name].get("Amount")) if isinstance(total.get(name), dict) else _short(total.get(name))
            return (
                f"a day with no Groups but a Total {name} of {shown}: the spend is not split by the consumer tag; "
                "ask with GroupBy (the tag and a dimension)"
            )
    return None


def _short(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def write_quarantine(writer: WarehouseWriter, rejects: Rejects, source: str) -> None:
    """The pull's rejected records, with their reasons, into ``quarantine`` (kept with the run)."""
    if not rejects.records:
        return
    now = datetime.now(UTC).replace(tzinfo=None)
    n = len(rejects.records)
    table = pa.table(
        {
            "run_id": pa.array([writer.run_id] * n, pa.string()),
            "source": pa.array([source] * n, pa.string()),
            "record_key": pa.array([k for k, _, _ in rejects.records], pa.string()),
            "reason": pa.array([r for _, r, _ in rejects.records], pa.string()),
            "raw_record": pa.array([raw for _, _, raw in rejects.records], pa.string()),
            "quarantined_at": pa.array([now] * n, pa.timestamp("us")),
        }
    )
    writer.con.register("cost_explorer_rejects", table)
    try:
        writer.write_partitions("quarantine", "SELECT * FROM cost_explorer_rejects")
    finally:
        writer.con.unregister("cost_explorer_rejects")
