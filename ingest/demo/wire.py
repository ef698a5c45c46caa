"""Small pieces of the AWS wire formats that several writers share: ids, page tokens and timestamps.

All of them are derived from the generator's inputs (seed, launches, end date), so reruns give the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, date, datetime, timedelta


def snapshot_time(end_date: date) -> datetime:
    """When the export is taken: midnight (UTC) after ``end_date``."""
    return datetime(end_date.year, end_date.month, end_date.day, tzinfo=UTC) + timedelta(days=1)


def uuid_for(text: str) -> str:
    """A UUID-shaped id derived from ``text`` (grouped 8-4-4-4-12, as AWS writes request and table ids)."""
    h = hashlib.sha256(text.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def page_token(seed: int, launches: int, end_date: date, page: int, what: str = "") -> str:
    """An opaque token naming page ``page`` of a paginated response (``what`` tells the responses apart)."""
    digest = hashlib.sha256(f"next:{what}{seed}:{launches}:{end_date}:{page}".encode()).digest()
    return "AAMA-" + base64.b64encode(digest + digest[:12]).decode()


def compact_json(body: object) -> str:
    """JSON without spaces, as the services send it."""
    return json.dumps(body, separators=(",", ":"))


def iso_seconds(epoch: int) -> str:
    """``2026-10-31T09:00:00Z`` for an epoch second."""
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_milliseconds(moment: datetime) -> str:
    """``2026-11-01T00:00:02.500Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
