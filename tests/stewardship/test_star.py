"""STAR maths against hand-computed tables (service/stewardship/star.py)."""

from __future__ import annotations

import pytest

from service.stewardship.star import (
    ASSUMPTIONS,
    Change,
    InterventionFigures,
    InvalidChange,
    judge,
    scenario,
)

# Visits reach 400 people a year over 2,000 visits: 1 person per 5 visits.
NURSE = InterventionFigures("nurse", "Specialist nurse visits", 2000, "visits", 60, 400, 0.05, "x")
IV = InterventionFigures("iv", "IV diuretics at home", 120, "patients", 2500, None, 0.1, "x")
REHAB = InterventionFigures(
    "rehab", "Cardiac rehabilitation", 300, "patients", 1000, None, 0.02, "x"
)
MONITORING = InterventionFigures("rm", "Remote monitoring", 6000, "patient-months", 30)
EDUCATION = InterventionFigures("edu", "Self-care education", 500, "people", 0, None, 0.01, "x")
HARMFUL = InterventionFigures("harm", "Low-value tests", 100, "patients", 50, None, -0.01, "x")

# intervention, action, by -> delta activity, delta cost, delta people, delta QALYs, cost per
# QALY, verdict (worked by hand)
TABLE = [
    (NURSE, "increase", 500, 500, 30_000.0, 100.0, 5.0, 6_000, "cost-effective"),
    (IV, "increase", 10, 10, 25_000.0, 10.0, 1.0, 25_000, "judgement"),
    (REHAB, "increase", 50, 50, 50_000.0, 50.0, 1.0, 50_000, "not cost-effective"),
    (REHAB, "reduce", 100, -100, -100_000.0, -100.0, -2.0, 50_000, "cost-effective"),
    (IV, "reduce", 20, -20, -50_000.0, -20.0, -2.0, 25_000, "judgement"),
    (NURSE, "reduce", 1000, -1000, -60_000.0, -200.0, -10.0, 6_000, "not cost-effective"),
    (MONITORING, "increase", 1200, 1200, 36_000.0, None, None, None, "no QALY evidence"),
    (EDUCATION, "increase", 100, 100, 0.0, 100.0, 1.0, None, "dominant"),
    (HARMFUL, "reduce", 40, -40, -2_000.0, -40.0, 0.4, None, "dominant"),
    (HARMFUL, "increase", 40, 40, 2_000.0, 40.0, -0.4, None, "dominated"),
    (IV, "stabilise", 0, 0, 0.0, 0.0, 0.0, None, "no change"),
    (IV, "reduce", 120, -120, -300_000.0, -120.0, -12.0, 25_000, "judgement"),
]


@pytest.mark.parametrize(
    ("figures", "action", "by", "activity", "cost", "people", "qalys", "icer", "verdict"), TABLE
)
def test_each_move_against_the_hand_worked_table(
    figures, action, by, activity, cost, people, qalys, icer, verdict
):
    result = scenario([figures], [Change(figures.id, action, by)])
    (move,) = result.moves
    assert move.delta_activity == activity
    assert move.activity_after == figures.yearly_activity + activity
    assert move.delta_cost_gbp == cost
    assert move.delta_people == people
    assert move.delta_qalys == qalys
    assert move.cost_per_qaly_gbp == icer
    assert move.verdict == verdict
    if icer is not None:
        expected = "cost per QALY gained" if activity > 0 else "saving per QALY forgone"
        assert move.ratio_meaning == expected


@pytest.mark.parametrize(
    ("cost", "qalys", "verdict"),
    [
        (20_000.0, 1.0, "cost-effective"),  # exactly the lower threshold
        (20_000.01, 1.0, "judgement"),
        (30_000.0, 1.0, "judgement"),  # exactly the upper threshold
        (30_000.01, 1.0, "not cost-effective"),
        (-30_000.0, -1.0, "cost-effective"),  # a saving of 30k per QALY forgone
        (-29_999.99, -1.0, "judgement"),
        (-20_000.0, -1.0, "judgement"),
        (-19_999.99, -1.0, "not cost-effective"),
        (0.0, -1.0, "dominated"),
        (100.0, 0.0, "dominated"),
        (-100.0, 0.0, "dominant"),
        (0.0, 0.0, "no change"),
    ],
)
def test_the_nice_threshold_and_its_mirror_at_the_boundaries(cost, qalys, verdict):
    assert judge(cost, qalys)[1] == verdict


def test_a_scenario_totals_its_moves_and_lists_its_assumptions():
    result = scenario(
        [NURSE, IV, REHAB, MONITORING],
        [
            Change("nurse", "increase", 500),
            Change("iv", "increase", 10),
            Change("rehab", "reduce", 100),
            Change("rm", "increase", 1200),
        ],
    )
    # 30,000 + 25,000 - 100,000 + 36,000; QALYs 5 + 1 - 2; with evidence 30k + 25k - 100k.
    assert result.totals.delta_cost_gbp == -9_000.0
    assert result.totals.delta_qalys == 4.0
    assert result.totals.delta_cost_with_qaly_evidence_gbp == -45_000.0
    assert result.totals.verdict == "dominant"
    assert result.totals.cost_per_qaly_gbp is None
    assert result.assumptions == ASSUMPTIONS
    assert any("linear" in a for a in result.assumptions)


def test_totals_of_moves_without_any_qaly_evidence_say_so():
    result = scenario([MONITORING], [Change("rm", "reduce", 600)])
    assert result.totals.delta_cost_gbp == -18_000.0
    assert result.totals.verdict == "no QALY evidence"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ([Change("iv", "reduce", 121)], "changes.0.by"),
        ([Change("iv", "stabilise", 5)], "changes.0.by"),
        ([Change("iv", "increase", -1)], "changes.0.by"),
        ([Change("iv", "increase", 1), Change("nope", "increase", 1)], "changes.1.intervention_id"),
        ([Change("iv", "increase", 1), Change("iv", "reduce", 1)], "changes.1.intervention_id"),
    ],
)
def test_impossible_changes_name_their_field(changes, field):
    with pytest.raises(InvalidChange) as refused:
        scenario([IV], changes)
    assert refused.value.field == field
