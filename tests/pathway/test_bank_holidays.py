"""England and Wales bank holidays: the computed calendar against the maintained ``holidays``
package, and what they do to an alert's due time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import holidays
import pytest

from pathway.bank_holidays import england_and_wales
from pathway.response import ResponsePolicy, due_at


@pytest.mark.parametrize("year", range(2000, 2041))
def test_the_calendar_matches_the_holidays_package(year: int) -> None:
    published = holidays.country_holidays("GB", subdiv="ENG", years=year)
    # The package lists a holiday on its weekend date beside the weekday it is observed on; a
    # team's calendar only needs the weekdays.
    weekdays = {day for day in published if day.weekday() < 5}
    assert england_and_wales(year) == weekdays


def test_2026_to_2028_as_gov_uk_publishes_them() -> None:
    assert sorted(england_and_wales(2026)) == [
        date(2026, 1, 1),
        date(2026, 4, 3),
        date(2026, 4, 6),
        date(2026, 5, 4),
        date(2026, 5, 25),
        date(2026, 8, 31),
        date(2026, 12, 25),
        date(2026, 12, 28),  # Boxing Day falls on a Saturday
    ]
    assert {date(2027, 12, 27), date(2027, 12, 28)} <= england_and_wales(2027)  # both moved
    assert date(2028, 1, 3) in england_and_wales(2028)  # New Year's Day on a Saturday


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("raised", "severity", "due"),
    [
        # Christmas Eve 2026 is a Thursday; Friday is Christmas Day, Monday the moved Boxing Day.
        ("2026-12-24T15:00", "red", "2026-12-29T12:00"),
        ("2026-12-24T10:00", "amber", "2026-12-29T18:00"),
        # Easter 2027: Good Friday 26 March, Easter Monday 29 March (GMT until the 28th).
        ("2027-03-25T16:00", "red", "2027-03-30T11:00"),
        # the early May bank holiday 2026 is Monday the 4th (BST: 08:00 is 07:00 UTC)
        ("2026-05-01T17:00", "red", "2026-05-05T11:00"),
    ],
)
def test_no_alert_falls_due_on_a_bank_holiday(raised: str, severity: str, due: str) -> None:
    assert due_at(_utc(raised), severity, ResponsePolicy()) == _utc(due)


def test_a_team_that_works_bank_holidays_says_so() -> None:
    policy = ResponsePolicy(bank_holidays=False)
    assert due_at(_utc("2026-12-24T15:00"), "red", policy) == _utc("2026-12-25T12:00")


def test_site_closures_come_on_top() -> None:
    policy = ResponsePolicy(holidays=frozenset({date(2026, 12, 29)}))
    assert due_at(_utc("2026-12-24T15:00"), "red", policy) == _utc("2026-12-30T12:00")
