"""Readings of one patient indexed by type and London calendar day, for bounded look-ups."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from operator import attrgetter
from zoneinfo import ZoneInfo

from pathway.model import Reading, ReadingType

LONDON = ZoneInfo("Europe/London")


# Pure, so memoising is safe; a patient's stored readings are judged again on each arrival.
@lru_cache(maxsize=1 << 16)
def london_day(moment: datetime) -> int:
    """Ordinal of the Europe/London calendar day, so '3 days' follows the patient's clock."""
    return moment.astimezone(LONDON).date().toordinal()


# Ties on time are broken by id so the result never depends on arrival order. attrgetter, not a
# def: it runs once per stored reading per evaluation, and the C version costs a third as much.
order_key: Callable[[Reading], tuple[datetime, str]] = attrgetter("taken_at", "id")


@dataclass(slots=True)
class Series:
    readings: list[Reading] = field(default_factory=list)
    days: list[int] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    # Position of each day's first lowest value, filled on demand: the weight-gain comparator
    # reads whole preceding days, and a scale that syncs many weights a day would otherwise make
    # every new weight rescan all of them (quadratic in weights per day).
    day_lowest: dict[int, int | None] = field(default_factory=dict)

    @classmethod
    def of(cls, readings: list[Reading], days: list[int], ids: list[str] | None = None) -> Series:
        """A series of readings already in order, with their London days (and ids)."""
        if ids is None:
            return cls(readings, days, {r.id: i for i, r in enumerate(readings)})
        return cls(readings, days, dict(zip(ids, range(len(ids)), strict=True)))

    def append(self, reading: Reading, day: int) -> None:
        self.index[reading.id] = len(self.readings)
        self.readings.append(reading)
        self.days.append(day)
        self.day_lowest.pop(day, None)

    def span(self, first_day: int, last_day: int, upto: int | None = None) -> range:
        """Positions of readings on days first_day..last_day, never past position upto."""
        lo = bisect_left(self.days, first_day)
        hi = bisect_right(self.days, last_day)
        if upto is not None:
            hi = min(hi, upto + 1)
        return range(lo, hi)

    def lowest_on(self, day: int) -> int | None:
        """Position of the first reading with the lowest value on a day (None: no reading)."""
        if day in self.day_lowest:
            return self.day_lowest[day]
        best: int | None = None
        for i in self.span(day, day):
            if best is None or _value(self.readings[i]) < _value(self.readings[best]):
                best = i
        self.day_lowest[day] = best
        return best


def _value(reading: Reading) -> float:
    return reading.value if reading.value is not None else float("nan")


@dataclass(slots=True)
class Window:
    series: dict[ReadingType, Series] = field(default_factory=dict)

    def append(self, reading: Reading, day: int | None = None) -> None:
        """Add a reading no earlier than those already held (the replay feeds them in order)."""
        self.get(reading.type).append(reading, london_day(reading.taken_at) if day is None else day)

    def get(self, kind: ReadingType) -> Series:
        series = self.series.get(kind)
        if series is None:
            series = self.series[kind] = Series()
        return series

    def day_of(self, reading: Reading) -> int:
        series = self.get(reading.type)
        return series.days[series.index[reading.id]]

    def until(self, kind: ReadingType, moment: datetime, first_day: int) -> list[Reading]:
        """Readings of a type from first_day up to and including moment."""
        series = self.get(kind)
        lo = bisect_left(series.days, first_day)
        out = []
        for i in range(lo, len(series.readings)):
            reading = series.readings[i]
            if reading.taken_at > moment:
                break
            out.append(reading)
        return out
