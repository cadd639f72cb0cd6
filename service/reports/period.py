"""Report periods: calendar months in Europe/London, turned into UTC instants for queries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from service.problems import Unprocessable
from service.timeutil import LONDON

MONTH_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
# How far before the period a metric may look back (alerts in the 14 days before an admission),
# so that the UTC offsets used to turn instants into London dates cover every row it reads.
LOOKBACK_DAYS = 60
# No monitoring data predates the service; it also keeps trend windows off year 0.
EARLIEST_MONTH = "2000-01"


def london_midnight(day: date) -> datetime:
    """The UTC instant at which ``day`` starts in London (23 or 25 hours apart around BST)."""
    return datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)


def parse_month(text: str) -> tuple[int, int]:
    match = MONTH_PATTERN.match(text)
    if match is None:
        raise ValueError("month must be YYYY-MM")
    return int(match.group(1)), int(match.group(2))


def month_label(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def shift_month(label: str, months: int) -> str:
    year, month = parse_month(label)
    index = year * 12 + (month - 1) + months
    return month_label(index // 12, index % 12 + 1)


def month_of(day: date) -> str:
    return month_label(day.year, day.month)


def report_month(month: str | None, now: datetime) -> str:
    """The month a report is for: the one asked, else the last month; 422 for a month that has
    not started yet or is before ``EARLIEST_MONTH``."""
    current = month_of(now.astimezone(LONDON).date())
    chosen = month or shift_month(current, -1)
    if chosen > current:
        message = "has not started yet"
    elif chosen < EARLIEST_MONTH:
        message = f"must be {EARLIEST_MONTH} or later"
    else:
        return chosen
    raise Unprocessable(
        f"month: {message}",
        extra={"errors": [{"field": "month", "message": message, "type": "value_error"}]},
    )


@dataclass(frozen=True, slots=True)
class Period:
    """One calendar month, cut short at ``as_of`` when the month is still running.

    ``first_day``..``last_day`` are London calendar dates (inclusive); ``start_utc``..``end_utc``
    is the same span as a half-open interval of instants.
    """

    month: str
    first_day: date
    last_day: date
    month_last_day: date
    start_utc: datetime
    end_utc: datetime
    # End of the day the report is made for: whether an alert's due time has passed yet.
    as_of_end_utc: datetime

    @classmethod
    def for_month(cls, month: str, as_of: date | None = None) -> Period:
        year, mon = parse_month(month)
        first = date(year, mon, 1)
        next_first = date(year + (mon == 12), mon % 12 + 1, 1)
        month_last = next_first - timedelta(days=1)
        last = month_last if as_of is None else min(month_last, as_of)
        if last < first:
            raise ValueError(f"{month} has not started yet")
        return cls(
            month=month,
            first_day=first,
            last_day=last,
            month_last_day=month_last,
            start_utc=london_midnight(first),
            end_utc=london_midnight(last + timedelta(days=1)),
            as_of_end_utc=london_midnight(max(as_of or last, last) + timedelta(days=1)),
        )

    @property
    def complete(self) -> bool:
        return self.last_day == self.month_last_day

    @property
    def after_last_day(self) -> date:
        return self.last_day + timedelta(days=1)

    def utc_offsets(self) -> list[tuple[datetime, int]]:
        """London's UTC offset (minutes) from each instant on, over the period and its lookback."""
        return list(_utc_offsets(self.first_day, self.end_utc))


@lru_cache(maxsize=256)
def _utc_offsets(first_day: date, end_utc: datetime) -> tuple[tuple[datetime, int], ...]:
    # UK clock changes fall on whole UTC hours, so stepping hour by hour finds them exactly.
    start = london_midnight(first_day - timedelta(days=LOOKBACK_DAYS))
    end = end_utc + timedelta(days=1)
    offsets: list[tuple[datetime, int]] = []
    at = start
    while at < end:
        offset = _offset_minutes(at)
        if not offsets or offsets[-1][1] != offset:
            offsets.append((at, offset))
        at += timedelta(hours=1)
    return tuple(offsets)


def _offset_minutes(instant: datetime) -> int:
    delta = instant.astimezone(LONDON).utcoffset()
    return int(delta.total_seconds() // 60) if delta is not None else 0


def last_months(month: str, count: int) -> list[str]:
    """``count`` months ending with ``month``, oldest first."""
    return [shift_month(month, -i) for i in range(count - 1, -1, -1)]


def as_of_date(now: datetime) -> date:
    """Today in London: a report's month is cut here."""
    return now.astimezone(LONDON).date()


def check_month(month: str, now: datetime) -> Period:
    """The period for ``month``, cut at today; ValueError for a month not yet started."""
    return Period.for_month(month, as_of=as_of_date(now))


def current_month(now: datetime) -> str:
    return month_of(as_of_date(now))
