"""Response times (the due-time tables are tests/alerts/test_sla.py), and weight units."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from pathway import Level
from pathway.response import ResponsePolicy, due_at
from pathway.units import to_kg

L = ZoneInfo("Europe/London")


def test_a_level_without_a_response_time_is_refused() -> None:
    # Only alerts have response times; a green "finding" reaching the calendar is a bug.
    with pytest.raises(ValueError, match="green"):
        due_at(datetime(2026, 3, 9, 12, tzinfo=L), Level.GREEN, ResponsePolicy())


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
