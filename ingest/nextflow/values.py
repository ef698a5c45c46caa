"""Nextflow's trace values, read back: durations, memory sizes, percentages and dates, human or raw.

Nextflow writes each value of a trace file in one of two forms (``nextflow.trace.TraceRecord``):

* **human** (the default): durations as ``nextflow.util.Duration`` prints them (``250ms``, ``3.5s``,
  ``1h 2m 3s``, ``2d 4h``), memory as ``nextflow.util.MemoryUnit`` prints it (``0``, ``512 B``, ``4.5 GB``:
  powers of 1024, one decimal), percentages as ``12.5%``, dates as ``yyyy-MM-dd HH:mm:ss.SSS`` in the
  local time of the machine that ran Nextflow;
* **raw** (``trace.raw = true``, or a field written as ``name:num``): durations in milliseconds, memory
  in bytes, dates in milliseconds since the Unix epoch, percentages as bare numbers.

The two forms never look alike (a human duration or size always has a unit, a human date has a dash),
so each value is read by its shape and a file may mix both. ``-`` is a missing value. Each parser
raises ``ValueError`` whose text says what was expected.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

MISSING = "-"

# Duration units as nextflow.util.Duration accepts them, in milliseconds.
_DURATION_UNITS = {
    **dict.fromkeys(("ms", "milli", "millis"), 1),
    **dict.fromkeys(("s", "sec", "second", "seconds"), 1_000),
    **dict.fromkeys(("m", "min", "minute", "minutes"), 60_000),
    **dict.fromkeys(("h", "hour", "hours"), 3_600_000),
    **dict.fromkeys(("d", "day", "days"), 86_400_000),
}
_DURATION_TOKEN = re.compile(r"(\d+(?:\.\d*)?)\s*([a-zA-Z]+)\s*")
_LEGACY_DURATION = re.compile(r"(\d{1,2}):(\d{1,2}):(\d{1,2})")
# MemoryUnit: B, KB, MB, GB, ... are powers of 1024 (what Nextflow calls GB is a GiB).
_MEMORY_UNITS = ("B", "K", "M", "G", "T", "P", "E", "Z")
_MEMORY = re.compile(r"(\d+(?:\.\d*)?)\s*([a-zA-Z]?)[bB]?")
_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?")

DURATION_EXPECTED = "a Nextflow duration (250ms, 3.5s, 1h 2m 3s) or milliseconds"
MEMORY_EXPECTED = "a Nextflow memory size (0, 512 B, 4.5 GB) or bytes"
PERCENT_EXPECTED = "a percentage (12.5%) or a number"
DATE_EXPECTED = "a date yyyy-MM-dd HH:mm:ss.SSS or epoch milliseconds"
INTEGER_EXPECTED = "a whole number"
COUNT_EXPECTED = "a whole number, not negative"
INTEGER_OUT_OF_RANGE = "a whole number from -2^31 to 2^31-1 (it is out of range)"
# Bounds of what a trace may say: beyond them a value is garbage (and would not fit its column, or a datetime).
MAX_DURATION_MS = 100 * 365 * 86_400_000  # a task of a century
MAX_BYTES = 2**63  # launch_tasks' BIGINT
MAX_PERCENT = 1_000_000.0  # %cpu of 10,000 CPUs busy
MAX_INTEGER = 2**31  # launch_tasks' INTEGER (exit, attempt, cpus)
FIRST_MS, END_MS = 946_684_800_000, 4_102_444_800_000  # 2000-01-01 .. 2100-01-01 UTC, as every time Launch Ledger reads


def _round_half_up(value: Decimal) -> int:
    """Java's Math.round for non-negative values: halves go up."""
    return int(value.quantize(Decimal(1), ROUND_HALF_UP))


def parse_duration_ms(text: str) -> int:
    """Milliseconds of a duration: ``1h 2m 3s``, ``3.5s``, ``250ms``, ``01:02:03`` or raw milliseconds (under a century)."""
    value = _duration_ms(text.strip())
    if value >= MAX_DURATION_MS:
        raise ValueError("a duration under 100 years (it is out of range)")
    return value


def _duration_ms(text: str) -> int:
    if _INTEGER.fullmatch(text):
        value = int(text)
        if value < 0:
            raise ValueError(DURATION_EXPECTED + ", not negative")
        return value
    legacy = _LEGACY_DURATION.fullmatch(text)
    if legacy:
        hours, minutes, seconds = (int(g) for g in legacy.groups())
        return ((hours * 60 + minutes) * 60 + seconds) * 1_000
    total, position = 0, 0
    for match in _DURATION_TOKEN.finditer(text):
        if match.start() != position:
            break
        factor = _DURATION_UNITS.get(match.group(2))
        if factor is None:
            raise ValueError(DURATION_EXPECTED)
        total += _round_half_up(Decimal(match.group(1)) * factor)
        position = match.end()
    if position == 0 or position != len(text):
        raise ValueError(DURATION_EXPECTED)
    return total


def parse_memory_bytes(text: str) -> int:
    """Bytes of a memory size: ``4.5 GB`` (1024-based, as Nextflow counts), ``512 B``, ``0`` or raw bytes (below 2^63)."""
    value = _memory_bytes(text.strip())
    if value >= MAX_BYTES:
        raise ValueError("a size below 8 EB, 2^63 bytes (it is out of range)")
    return value


def _memory_bytes(text: str) -> int:
    if _INTEGER.fullmatch(text):
        value = int(text)
        if value < 0:
            raise ValueError(MEMORY_EXPECTED + ", not negative")
        return value
    match = _MEMORY.fullmatch(text)
    if not match:
        raise ValueError(MEMORY_EXPECTED)
    unit = (match.group(2) or "B").upper()
    if unit not in _MEMORY_UNITS:
        raise ValueError(MEMORY_EXPECTED)
    power = _MEMORY_UNITS.index(unit)
    if power == 0 and "." in match.group(1):
        raise ValueError(MEMORY_EXPECTED)  # bytes are whole
    return _round_half_up(Decimal(match.group(1)) * 1024**power)


def parse_percent(text: str) -> float | None:
    """``12.5%`` or raw ``12.5``; Nextflow's ``NaN%`` (nothing measured) is missing."""
    text = text.strip()
    number = text[:-1].rstrip() if text.endswith("%") else text
    if number in ("NaN", "Infinity"):
        return None
    if not _NUMBER.fullmatch(number):
        raise ValueError(PERCENT_EXPECTED)
    value = float(number)
    if value < 0:
        raise ValueError(PERCENT_EXPECTED + ", not negative")
    if not value <= MAX_PERCENT:  # inf too
        raise ValueError(f"a percentage up to {MAX_PERCENT:,.0f}% (it is out of range)")
    return value


def parse_date_ms(text: str, zone: tzinfo) -> int:
    """Epoch milliseconds of a trace date: ``2025-03-04 10:31:05.123`` (local time in ``zone``) or raw epoch ms.

    A time outside 2000-01-01 .. 2099-12-31 UTC (epoch seconds taken for milliseconds, a clock reset) is refused.
    """
    value = _date_ms(text.strip(), zone)
    if not FIRST_MS <= value < END_MS:
        raise ValueError(DATE_EXPECTED + " between 2000 and 2099 (it is out of range)")
    return value


def _date_ms(text: str, zone: tzinfo) -> int:
    if _INTEGER.fullmatch(text):
        return int(text)
    match = _DATE.fullmatch(text)
    if not match:
        raise ValueError(DATE_EXPECTED)
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        local = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=zone)
    except ValueError:
        raise ValueError(DATE_EXPECTED) from None
    millis = int((fraction or "0").ljust(3, "0")[:3])
    return int(local.timestamp()) * 1_000 + millis


def parse_integer(text: str) -> int:
    """A whole number (``1.0`` too) of an INTEGER column."""
    value = _integer(text.strip())
    if not -MAX_INTEGER <= value < MAX_INTEGER:
        raise ValueError(INTEGER_OUT_OF_RANGE)
    return value


def parse_count(text: str) -> int:
    """A whole number that counts (cpus, attempt): not negative."""
    value = parse_integer(text)
    if value < 0:
        raise ValueError(COUNT_EXPECTED)
    return value


def _integer(text: str) -> int:
    if not _INTEGER.fullmatch(text):
        try:  # a raw number Nextflow wrote as a float (1.0)
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError(INTEGER_EXPECTED) from None
        if value.is_finite() and value.adjusted() > 18:
            raise ValueError(INTEGER_OUT_OF_RANGE)
        if not value.is_finite() or value != value.to_integral_value():
            raise ValueError(INTEGER_EXPECTED)
        return int(value)
    return int(text)


def is_raw(text: str) -> bool:
    """Whether a value is in the raw form (a bare number), e.g. to prefer ``duration:num`` over ``duration``."""
    return bool(_NUMBER.fullmatch(text.strip()))
