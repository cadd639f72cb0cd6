"""A report period as named bind parameters, and the common table expressions of one statement."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Date, Integer, String, bindparam
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.selectable import CTE

from service.db.types import UTCDateTime
from service.reports.period import Period, london_midnight
from service.reports.sqlfuncs import london_date

# An alert "precedes" a heart-failure admission if raised on one of the 14 days before it
# (or the day itself): the evaluation window of the weight-monitoring literature.
ALERT_LOOKBACK_DAYS = 14
# Spans of constant UTC offset in one report window (month plus look-back): at most one clock
# change falls in ~90 days, so three spans leave room.
TZ_SPANS = 3
NEVER = datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Ctx:
    """The period as named bind parameters, so the published SQL reads ``:period_start``."""

    period: Period
    first_day: BindParameter[date]
    last_day: BindParameter[date]
    after_last_day: BindParameter[date]
    start_utc: BindParameter[Any]
    end_utc: BindParameter[Any]
    lookback_utc: BindParameter[Any]
    as_of_end_utc: BindParameter[Any]
    # The calendar days of the whole month (a running month's too): patient-months divide by it.
    month_days: BindParameter[int]
    tz_starts: tuple[BindParameter[Any], ...]
    tz_shifts: tuple[BindParameter[str], ...]
    # Common table expressions several metrics read (this month's patients, alerts, medicines):
    # built once per statement, so a batch of metrics computes each once.
    shared: dict[str, CTE] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(cls, period: Period) -> Ctx:
        offsets = period.utc_offsets()
        if len(offsets) > TZ_SPANS:
            raise ValueError("more UTC offset changes in one report window than expected")
        # Pad to a fixed number of spans with instants that never come, so the SQL has one shape.
        padded = offsets + [(NEVER, offsets[-1][1])] * (TZ_SPANS - len(offsets))
        starts = tuple(
            bindparam(f"tz_start_{i}", at, type_=UTCDateTime)
            for i, (at, _) in enumerate(padded[1:], 1)
        )
        shifts = tuple(
            bindparam(f"tz_shift_{i}", f"{minutes:+d} minutes", type_=String)
            for i, (_, minutes) in enumerate(padded)
        )
        lookback = london_midnight(
            date.fromordinal(period.first_day.toordinal() - ALERT_LOOKBACK_DAYS - 1)
        )
        return cls(
            period=period,
            first_day=bindparam("period_first_day", period.first_day, type_=Date),
            last_day=bindparam("period_last_day", period.last_day, type_=Date),
            after_last_day=bindparam("period_after_last_day", period.after_last_day, type_=Date),
            start_utc=bindparam("period_start", period.start_utc, type_=UTCDateTime),
            end_utc=bindparam("period_end", period.end_utc, type_=UTCDateTime),
            lookback_utc=bindparam("alert_lookback_start", lookback, type_=UTCDateTime),
            as_of_end_utc=bindparam("as_of_end", period.as_of_end_utc, type_=UTCDateTime),
            month_days=bindparam("month_days", period.month_last_day.day, type_=Integer),
            tz_starts=starts,
            tz_shifts=shifts,
        )

    def cte(self, name: str, build: Callable[[Ctx], Any]) -> Any:
        if name not in self.shared:
            self.shared[name] = build(self).cte(name)
        return self.shared[name]

    def london_date(self, instant: Any) -> ColumnElement[Any]:
        return london_date(instant, list(self.tz_starts), list(self.tz_shifts))

    def params(self) -> dict[str, Any]:
        """Every period-dependent value by name: a statement built for one period runs for
        another with these."""
        return {
            p.key: p.value
            for p in (
                self.first_day,
                self.last_day,
                self.after_last_day,
                self.start_utc,
                self.end_utc,
                self.lookback_utc,
                self.as_of_end_utc,
                self.month_days,
                *self.tz_starts,
                *self.tz_shifts,
            )
        }
