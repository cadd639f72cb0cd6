"""SpO2, blood pressure and pulse: just below, at and just above each threshold."""

from __future__ import annotations

import pytest

from pathway.model import Reading
from tests.pathway.tables import bp, fired, hr, o2, patient, sym

NONE: set[str] = set()


@pytest.mark.parametrize(
    ("spo2", "expected"),
    [
        (95, NONE),
        (94, {"amber.spo2"}),
        (93, {"amber.spo2"}),
        (92, {"red.spo2"}),
        (91, {"red.spo2"}),
    ],
)
def test_spo2_bands(spo2: float, expected: set[str]) -> None:
    assert fired([o2(0, spo2)]) == expected


@pytest.mark.parametrize(
    ("spo2", "expected"),
    [(90, {"amber.spo2"}), (89, {"amber.spo2"}), (88, {"red.spo2"})],
)
def test_spo2_personal_floor(spo2: float, expected: set[str]) -> None:
    assert fired([o2(0, spo2)], who=patient(spo2_red_at_or_below=88)) == expected


@pytest.mark.parametrize(
    ("systolic", "expected"),
    [
        (101, NONE),
        (100, {"amber.systolic"}),
        (90, {"amber.systolic"}),
        (89, {"red.systolic"}),
    ],
)
def test_systolic_bands(systolic: int, expected: set[str]) -> None:
    assert fired([bp(0, systolic)]) == expected


def test_systolic_personal_limits() -> None:
    who = patient(systolic_red_below=80, systolic_amber_below=90)
    assert fired([bp(0, 90)], who=who) == NONE
    assert fired([bp(0, 89)], who=who) == {"amber.systolic"}
    assert fired([bp(0, 79)], who=who) == {"red.systolic"}


@pytest.mark.parametrize(
    ("bpm", "expected"),
    [
        (39, {"red.pulse"}),
        (40, {"red.pulse"}),
        (41, {"amber.pulse"}),
        (50, {"amber.pulse"}),
        (51, NONE),
        (110, NONE),
        (111, {"amber.pulse"}),
        (130, {"amber.pulse"}),
        (131, {"red.pulse"}),
    ],
)
def test_pulse_bands(bpm: float, expected: set[str]) -> None:
    assert fired([hr(0, bpm)]) == expected


@pytest.mark.parametrize(
    ("rows", "new", "expected"),
    [
        # pulse first, dizziness answered later the same day
        ([hr(0, 49, "08:00"), sym(0, "09:00", dizziness=True)], 1, {"red.pulse_dizzy"}),
        # dizziness first, pulse later the same day
        ([sym(0, "08:00", dizziness=True), hr(0, 49, "09:00")], 1, {"red.pulse_dizzy"}),
        # at the limit: 50 is not below 50
        ([sym(0, "08:00", dizziness=True), hr(0, 50, "09:00")], 1, NONE),
        # dizzy yesterday does not count
        ([sym(-1, "20:00", dizziness=True), hr(0, 49, "09:00")], 1, NONE),
        # 23:30 and 00:30 London time are different calendar days
        ([sym(0, "23:30", dizziness=True), hr(1, 49, "00:30")], 1, NONE),
    ],
)
def test_slow_pulse_with_dizziness(rows: list[Reading], new: int, expected: set[str]) -> None:
    result = fired(rows, new=new) - {"amber.pulse", "amber.symptoms_worse"}
    assert result == expected
