"""Weight rules. The gain comparator is the LOWEST weight on the N preceding London calendar
days (days d-N .. d-1); earlier weights on the latest weight's own day are not compared."""

from __future__ import annotations

from datetime import date

import pytest

from pathway import evaluate
from pathway.model import Reading
from tests.pathway.tables import at, domain_table, fired, patient, sym, w

NONE: set[str] = set()
GAIN_3D = "amber.weight_gain_3d"
GAIN_2D = "amber.weight_gain_2d"


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # exactly 2.0 kg in 3 days fires; 1.9 does not
        ([w(-3, 80.0), w(0, 82.0)], {GAIN_3D}),
        ([w(-3, 80.0), w(0, 81.9)], NONE),
        ([w(-3, 80.0), w(0, 82.1)], {GAIN_3D}),
        # 4 days back is outside the window (edge of the window)
        ([w(-4, 80.0), w(0, 82.5)], NONE),
        # the lowest, not the first, weight is the comparator
        ([w(-3, 81.0), w(-2, 80.0), w(-1, 81.0), w(0, 82.0)], {GAIN_3D, GAIN_2D}),
        # ...so a first weight 2 kg lower but a lowest weight 1.9 lower: lowest wins
        ([w(-3, 80.0), w(-2, 80.1), w(0, 82.0)], {GAIN_3D, GAIN_2D}),
        # 1.5 kg in 2 days fires the 2-day rule; 1.4 does not
        ([w(-2, 80.0), w(0, 81.5)], {GAIN_2D}),
        ([w(-2, 80.0), w(0, 81.4)], NONE),
        ([w(-3, 80.0), w(0, 81.9)], NONE),
        # an earlier weight the same day is not a comparator
        ([w(0, 80.0, "07:00"), w(0, 82.5, "08:00")], NONE),
        # a gap: no weight in the window is not a gain
        ([w(-10, 75.0), w(0, 82.5)], NONE),
        # a loss is not a gain
        ([w(-1, 84.0), w(0, 80.0)], NONE),
    ],
)
def test_gain_over_days(rows: list[Reading], expected: set[str]) -> None:
    assert fired(rows) == expected


def test_gain_summary_and_evidence() -> None:
    result = evaluate(
        domain_table(), patient(), [w(-3, 80.0), w(-2, 81.0)], [w(0, 82.4)], at(0, "09:00")
    )
    finding = next(f for f in result.findings if f.rule_id == GAIN_3D)
    assert finding.summary == "+2.4 kg in 3 days"
    assert finding.evidence == ("w-3@08:00", "w+0@08:00")
    assert finding.pathway_version == domain_table().version


def test_london_calendar_days_in_summer_time() -> None:
    # 00:30 BST on 1 July is 23:30 UTC on 30 June: it is London day -3, so inside the window.
    summer = date(2026, 7, 4)
    rows = [w(-3, 80.0, "00:30", base=summer), w(0, 82.0, "08:00", base=summer)]
    assert fired(rows) == {GAIN_3D}
    rows = [w(-4, 80.0, "23:30", base=summer), w(0, 82.0, "08:00", base=summer)]
    assert fired(rows) == NONE


def test_across_the_spring_clock_change() -> None:
    # Clocks go forward on Sunday 29 March 2026: still three calendar days.
    base = date(2026, 3, 30)
    assert fired([w(-3, 80.0, "07:00", base=base), w(0, 82.0, "07:00", base=base)]) == {GAIN_3D}
    assert fired([w(-4, 80.0, "07:00", base=base), w(0, 82.0, "07:00", base=base)]) == NONE


def test_across_the_autumn_clock_change() -> None:
    base = date(2026, 10, 27)  # clocks go back on Sunday 25 October 2026
    assert fired([w(-3, 80.0, "01:30", base=base), w(0, 82.0, "07:00", base=base)]) == {GAIN_3D}


@pytest.mark.parametrize(
    ("kg", "expected"),
    [(81.9, NONE), (82.0, {"amber.weight_above_target"}), (82.1, {"amber.weight_above_target"})],
)
def test_weight_above_target(kg: float, expected: set[str]) -> None:
    assert fired([w(0, kg)], who=patient(target_weight_kg=80.0)) == expected


def test_no_target_no_above_target_rule() -> None:
    assert fired([w(0, 120.0)]) == NONE


@pytest.mark.parametrize(
    ("rows", "new", "expected"),
    [
        # gain and worse breathlessness the same day, symptoms arriving last
        ([w(-3, 80.0), w(0, 82.0), sym(0, breathlessness="worse")], 1, True),
        # weight arriving last, symptoms two days earlier
        ([w(-3, 80.0), sym(-2, ankle_swelling="worse"), w(0, 82.0)], 1, True),
        # orthopnoea counts as a congestion sign
        ([w(-3, 80.0), w(0, 82.0), sym(0, orthopnoea=True)], 1, True),
        # symptoms 4 days before the weight are too early
        ([sym(-4, breathlessness="worse"), w(-3, 80.0), w(0, 82.0)], 1, False),
        # 1.9 kg is not enough
        ([w(-3, 80.0), w(0, 81.9), sym(0, breathlessness="worse")], 1, False),
        # tiredness alone is not a congestion sign
        ([w(-3, 80.0), w(0, 82.0), sym(0, fatigue="worse")], 1, False),
        # symptom answer today after a gain two days ago
        ([w(-5, 80.0), w(-2, 82.0), sym(0, breathlessness="worse")], 1, True),
    ],
)
def test_weight_gain_with_symptoms_is_red(rows: list[Reading], new: int, expected: bool) -> None:
    assert ("red.weight_gain_symptoms" in fired(rows, new=new)) is expected


def test_red_advice_for_weight_with_symptoms() -> None:
    result = evaluate(
        domain_table(),
        patient(),
        [w(-3, 80.0), w(0, 82.0)],
        [sym(0, breathlessness="worse")],
        at(0, "09:00"),
    )
    assert result.advice.code == "red_same_day"
    red = next(f for f in result.findings if f.rule_id == "red.weight_gain_symptoms")
    assert red.evidence == ("w-3@08:00", "w+0@08:00", "s+0@08:10")
