"""Response times: when an alert is due, from a site's configurable ``ResponsePolicy``.

One calendar for the live service (``alerts.sla`` re-exports it) and the replay, which takes
an alert as resolved at its due time: both must count the same working time.

Rules (defaults in brackets, all configurable per site):

- red: raised on a working day between opening and the red cut-off [08:00-14:00]: due
  ``red_within`` [4 h] of working time after it was raised, i.e. the same working day. Raised
  after the cut-off, after closing, before opening, at a weekend or on a holiday: due
  ``red_within`` of working time after the next opening.
- amber: due at closing time of the ``amber_working_days``-th [1st] working day after the local
  calendar day it was raised on ("by the end of the next working day"). An alert raised on Monday
  at 07:00 or at 17:59 is due on Tuesday at closing either way.

Working hours are wall-clock times in the policy's time zone [Europe/London, 08:00-18:00,
Monday-Friday], minus England and Wales bank holidays [observed; ``pathway.bank_holidays``] and
minus ``holidays``, the site's own closures (local dates, loaded by the service).
Working time is added in real elapsed time inside each day's window, so the result is right on
the days the clocks change. ``due_at`` returns an aware UTC datetime.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pathway.bank_holidays import england_and_wales

__all__ = ["ResponsePolicy", "due_at"]

# A policy whose calendar has no working day within ten years is a configuration error; the
# bound turns it into an exception instead of an endless loop.
_MAX_DAYS_SEARCHED = 3660
_WEEKDAYS = frozenset(range(5))


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponsePolicy:
    """A site's working calendar and response times; validated on construction."""

    timezone: str = "Europe/London"
    opens_at: time = time(8, 0)
    closes_at: time = time(18, 0)
    working_days: frozenset[int] = _WEEKDAYS  # date.weekday(): Monday is 0
    holidays: frozenset[date] = frozenset()  # the site's closures, on top of bank holidays
    bank_holidays: bool = True  # False for a team that works England and Wales bank holidays
    red_within: timedelta = timedelta(hours=4)
    red_cutoff: time = time(14, 0)
    amber_working_days: int = 1
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        object.__setattr__(self, "_zone", zone)
        for name in ("opens_at", "closes_at", "red_cutoff"):
            if getattr(self, name).tzinfo is not None:
                raise ValueError(f"{name} is a wall-clock time and must not carry a time zone")
        if not self.opens_at < self.closes_at:
            raise ValueError("opens_at must be before closes_at")
        if not self.opens_at <= self.red_cutoff <= self.closes_at:
            raise ValueError("red_cutoff must be within working hours")
        if not self.working_days or not self.working_days <= frozenset(range(7)):
            raise ValueError("working_days must be a non-empty set of weekdays 0..6")
        if self.red_within <= timedelta(0):
            raise ValueError("red_within must be positive")
        if self.amber_working_days < 1:
            raise ValueError("amber_working_days must be at least 1")

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    def is_working_day(self, day: date) -> bool:
        return (
            day.weekday() in self.working_days
            and day not in self.holidays
            and not (self.bank_holidays and day in england_and_wales(day.year))
        )

    def is_working_time(self, instant: datetime) -> bool:
        """Whether the team is at work at ``instant`` (aware): a working day, from opening up to
        but not including closing. The red cut-off does not end the day: after it a red alert
        is due tomorrow, but the team is still there to see it."""
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError("instant must be timezone-aware")
        day = instant.astimezone(self._zone).date()
        opens, closes = self.window(day)
        return self.is_working_day(day) and opens <= instant < closes

    def window(self, day: date) -> tuple[datetime, datetime]:
        """The UTC opening and closing instants of a local calendar day."""
        return self.instant(day, self.opens_at), self.instant(day, self.closes_at)

    def instant(self, day: date, wall: time) -> datetime:
        """The UTC instant of a wall-clock time on a local calendar day."""
        # A wall time in a spring-forward gap resolves with the pre-gap offset (fold=0),
        # i.e. it lands just after the gap: the earliest real instant the team can work.
        return datetime.combine(day, wall, tzinfo=self._zone).astimezone(UTC)


def due_at(raised_at: datetime, severity: str, policy: ResponsePolicy) -> datetime:
    """When the team must have responded to an alert raised at ``raised_at`` (aware UTC).

    ``severity`` is "red" or "amber": the service's ``Severity`` and the pathway's ``Level``
    are both string enums of those values.
    """
    if raised_at.tzinfo is None or raised_at.utcoffset() is None:
        raise ValueError("raised_at must be timezone-aware")
    raised = raised_at.astimezone(UTC)
    if severity == "red":
        return _red_due(raised, policy)
    if severity == "amber":
        return _amber_due(raised, policy)
    raise ValueError(f"no response time for {severity!r} alerts")


def _red_due(raised: datetime, policy: ResponsePolicy) -> datetime:
    day = raised.astimezone(policy.zone).date()
    start = raised
    if not (policy.is_working_day(day) and _within_same_day(raised, day, policy)):
        start = _next_opening(raised, policy)
    return _add_working_time(start, policy.red_within, policy)


def _within_same_day(raised: datetime, day: date, policy: ResponsePolicy) -> bool:
    opens, _ = policy.window(day)
    return opens <= raised <= policy.instant(day, policy.red_cutoff)


def _amber_due(raised: datetime, policy: ResponsePolicy) -> datetime:
    day = raised.astimezone(policy.zone).date()
    remaining = policy.amber_working_days
    for _ in range(_MAX_DAYS_SEARCHED):
        day += timedelta(days=1)
        if policy.is_working_day(day):
            remaining -= 1
            if remaining == 0:
                return policy.window(day)[1]
    raise ValueError("the policy has no working days in the next ten years")


def _next_opening(instant: datetime, policy: ResponsePolicy) -> datetime:
    day = instant.astimezone(policy.zone).date()
    for _ in range(_MAX_DAYS_SEARCHED):
        opens, _ = policy.window(day)
        if policy.is_working_day(day) and opens > instant:
            return opens
        day += timedelta(days=1)
    raise ValueError("the policy has no working days in the next ten years")


def _add_working_time(start: datetime, amount: timedelta, policy: ResponsePolicy) -> datetime:
    """``start`` plus ``amount`` counted only inside working windows; ``start`` may be outside."""
    remaining = amount
    cursor = start
    day = start.astimezone(policy.zone).date()
    for _ in range(_MAX_DAYS_SEARCHED):
        if policy.is_working_day(day):
            opens, closes = policy.window(day)
            begin = max(cursor, opens)
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
                cursor = closes
        day += timedelta(days=1)
    raise ValueError("the policy has no working days in the next ten years")
