"""No weight for N expected days (default N = 2), in Europe/London calendar days."""

from __future__ import annotations

from datetime import date

import pytest

from pathway import Cohort, PatientContext, default_pathway, missed_readings
from tests.pathway.tables import at, patient

ENROLLED = at(-30, "10:00")


@pytest.mark.parametrize(
    ("last_day", "last_time", "now_day", "now_time", "fires"),
    [
        (0, "08:00", 1, "12:00", False),  # weighed yesterday
        (0, "08:00", 2, "12:00", True),  # Monday -> Wednesday
        (0, "23:59", 2, "00:01", True),  # calendar days, not 24-hour periods
        (0, "00:01", 1, "23:59", False),
        (0, "08:00", 0, "20:00", False),
    ],
)
def test_daily_plan(
    last_day: int, last_time: str, now_day: int, now_time: str, fires: bool
) -> None:
    found = missed_readings(
        default_pathway(), patient(), at(last_day, last_time), ENROLLED, at(now_day, now_time)
    )
    assert (found is not None) is fires


def test_alternate_day_plan_allows_twice_as_long() -> None:
    who = PatientContext("p1", Cohort.PALLIATIVE, expects_daily_weight=False)
    config = default_pathway()
    assert missed_readings(config, who, at(0), ENROLLED, at(3, "12:00")) is None
    assert missed_readings(config, who, at(0), ENROLLED, at(4, "12:00")) is not None


def test_never_weighed_counts_from_enrolment() -> None:
    config = default_pathway()
    assert missed_readings(config, patient(), None, at(0, "10:00"), at(1, "12:00")) is None
    found = missed_readings(config, patient(), None, at(0, "10:00"), at(2, "12:00"))
    assert found is not None
    assert found.rule_id == "amber.missed_weight"
    assert found.summary == "no weight for 2 days"
    assert found.evidence == ()
    assert found.observed_at == at(2, "12:00")


def test_across_the_spring_clock_change() -> None:
    base = date(2026, 3, 28)  # Saturday; clocks go forward overnight
    config = default_pathway()
    assert missed_readings(config, patient(), at(0, "23:30", base), ENROLLED, at(2, "00:30", base))


def test_switched_off_by_a_site() -> None:
    config = default_pathway().with_overrides({"disabled": ["amber.missed_weight"]})
    assert missed_readings(config, patient(), at(-10), ENROLLED, at(0)) is None
