"""Bank holidays in England and Wales, worked out from the rules that set them.

A community heart-failure team does not work on a bank holiday, so an alert raised on Christmas
Eve afternoon is not due on Christmas Day. The calendar is computed here, not read from a file or
a service, so the live service and the replay (which must count the same working time) share it
with no I/O; a test checks it against the maintained ``holidays`` package year by year.

The rules (Banking and Financial Dealings Act 1971 and royal proclamations, as GOV.UK publishes
them): New Year's Day, Good Friday, Easter Monday, the first Monday of May, the last Monday of May,
the last Monday of August, Christmas Day and Boxing Day; a holiday that falls at a weekend moves
to the next weekday not already a holiday. One-off changes by proclamation are listed below; a
new one (announced months ahead) is added here, and a site's own closures come on top of these
in its response policy.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

__all__ = ["england_and_wales"]

# Proclamations that moved a fixed holiday (moved from, moved to).
_MOVED: dict[date, date] = {
    date(2002, 5, 27): date(2002, 6, 4),  # spring holiday for the Golden Jubilee
    date(2012, 5, 28): date(2012, 6, 4),  # spring holiday for the Diamond Jubilee
    date(2020, 5, 4): date(2020, 5, 8),  # early May holiday for VE Day's 75th anniversary
    date(2022, 5, 30): date(2022, 6, 2),  # spring holiday for the Platinum Jubilee
}
# Proclamations that added a day.
_ADDED = frozenset(
    {
        date(2002, 6, 3),  # Golden Jubilee
        date(2011, 4, 29),  # royal wedding
        date(2012, 6, 5),  # Diamond Jubilee
        date(2022, 6, 3),  # Platinum Jubilee
        date(2022, 9, 19),  # state funeral of Queen Elizabeth II
        date(2023, 5, 8),  # coronation of King Charles III
    }
)
_SATURDAY = 5


def _easter_sunday(year: int) -> date:
    """The Gregorian Easter Sunday (the anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _first_monday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(7 - first.weekday()) % 7)


def _last_monday(year: int, month: int) -> date:
    after = date(year + month // 12, month % 12 + 1, 1)
    last = after - timedelta(days=1)
    return last - timedelta(days=last.weekday())


def _next_weekday_free(day: date, taken: set[date]) -> date:
    while day.weekday() >= _SATURDAY or day in taken:
        day += timedelta(days=1)
    return day


@cache
def england_and_wales(year: int) -> frozenset[date]:
    """The bank holidays of ``year`` in England and Wales, substitute days included."""
    easter = _easter_sunday(year)
    fixed = [
        easter - timedelta(days=2),
        easter + timedelta(days=1),
        _first_monday(year, 5),
        _last_monday(year, 5),
        _last_monday(year, 8),
    ]
    days = {_MOVED.get(day, day) for day in fixed}
    # New Year's Day, Christmas and Boxing Day move off a weekend, in that order, each to the
    # next weekday that is not already a holiday (so a Saturday Christmas gives Monday and
    # Tuesday).
    for day in (date(year, 1, 1), date(year, 12, 25), date(year, 12, 26)):
        days.add(_next_weekday_free(day, days))
    days |= {day for day in _ADDED if day.year == year}
    return frozenset(days)
