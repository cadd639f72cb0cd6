"""Response times in London working time, and weight unit conversion."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from pathway import Level, default_pathway
from pathway.config import ResponseTime
from pathway.response import response_due
from pathway.units import to_kg

L = ZoneInfo("Europe/London")


def t(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=L)


@pytest.mark.parametrize(
    ("raised", "red", "amber"),
    [
        (t(6, 15), t(9, 11), t(9, 17)),  # Friday 15:00: two hours left Friday, two on Monday
        (t(6, 18), t(9, 13), t(9, 17)),  # Friday evening
        (t(7, 10), t(9, 13), t(9, 17)),  # Saturday
        (t(9, 8), t(9, 13), t(10, 17)),  # Monday before opening
        (t(9, 12), t(9, 16), t(10, 17)),  # Monday midday
    ],
)
def test_due_times(raised: datetime, red: datetime, amber: datetime) -> None:
    config = default_pathway()
    assert response_due(config, Level.RED, raised) == red
    assert response_due(config, Level.AMBER, raised) == amber


def test_due_time_across_the_clock_change() -> None:
    raised = datetime(2026, 3, 27, 16, tzinfo=L)  # Friday before the clocks go forward
    due = response_due(default_pathway(), Level.RED, raised)
    assert due == datetime(2026, 3, 30, 12, tzinfo=L)
    assert due.utcoffset() is not None


def test_response_time_without_days_means_one() -> None:
    config = default_pathway()
    custom = {Level.RED: config.response_times[Level.RED], Level.AMBER: ResponseTime("soon")}
    import dataclasses

    changed = dataclasses.replace(config, response_times=custom)
    assert response_due(changed, Level.AMBER, t(9, 12)) == t(10, 17)


@pytest.mark.parametrize(
    ("value", "unit", "kg"),
    [
        (80.0, "kg", 80.0),
        (1.0, "lb", 0.45359237),
        (176.0, "lb", 79.83225712),
        (1.0, "st", 6.35029318),
        (12.5, "st", 79.37866475),
    ],
)
def test_weight_units(value: float, unit: str, kg: float) -> None:
    assert to_kg(value, unit) == pytest.approx(kg, abs=1e-8)


def test_unknown_unit_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown weight unit"):
        to_kg(80, "kilos")
