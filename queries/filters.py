"""The shared filters every page applies, and the values a user can pick from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from core.access import EVERYONE, Reader
from core.errors import QueryError


@dataclass(frozen=True)
class Filters:
    """Launches started between ``start`` and ``end`` (both days included); an empty tuple means all.

    ``reader`` is whose eyes the rows are for (``core.access.Reader``): the consumers they may see, bound
    beside the picked ones, so a pick outside them selects nothing. The dashboard sets it from the
    signed-in user on every call (``dashboard.data``); the default, every consumer, is the command line's.
    """

    start: date
    end: date
    consumers: tuple[str, ...] = ()
    workflow_types: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    reader: Reader = EVERYONE

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise QueryError(
                f"the period starts on {self.start} after it ends on {self.end}: pick an end date on or after the start"
            )
        # Lists are accepted for convenience but stored as sorted tuples, so equal selections hash (and cache) alike.
        for name in ("consumers", "workflow_types", "platforms", "statuses"):
            object.__setattr__(self, name, tuple(sorted(set(getattr(self, name)))))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous_period(self) -> Filters:
        """The same filters over the period of equal length that ends the day before ``start``."""
        end = self.start - timedelta(days=1)
        return Filters(
            start=end - timedelta(days=self.days - 1),
            end=end,
            consumers=self.consumers,
            workflow_types=self.workflow_types,
            platforms=self.platforms,
            statuses=self.statuses,
            reader=self.reader,
        )

    def params(self) -> dict[str, object]:
        """The named parameters of ``launch_scope.sql`` (the reader's: ``$all_consumers``, ``$allowed_consumers``, ``$admin``)."""
        return {
            "start": self.start,
            "end": self.end,
            "consumers": list(self.consumers),
            "workflow_types": list(self.workflow_types),
            "platforms": list(self.platforms),
            "statuses": list(self.statuses),
            **self.reader.params(),
        }


@dataclass(frozen=True)
class FilterOptions:
    """What the warehouse holds: the values each filter offers and the days launches span."""

    consumers: tuple[str, ...] = ()
    workflow_types: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    currencies: tuple[str, ...] = ()
    first_day: date | None = None
    last_day: date | None = None
    launches: int = 0

    @property
    def is_empty(self) -> bool:
        return self.launches == 0

    def all_time(self) -> Filters:
        """Every launch in the warehouse (today only, when it is empty)."""
        first = self.first_day or date.today()
        return Filters(start=first, end=self.last_day or first)
