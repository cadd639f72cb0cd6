"""Titration safety for the medicines-optimisation cohort (SIGN 147, ESC, UK prescribing)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pathway import (
    Cohort,
    DrugClass,
    MedicationChange,
    PatientContext,
    PersonalThresholds,
    default_pathway,
    evaluate,
)
from pathway import ReadingType as T
from tests.pathway.tables import at, fired, hr, lab, patient, sym

NONE: set[str] = set()


def titrating(*changes: tuple[int, DrugClass]) -> PatientContext:
    return PatientContext(
        "p1",
        Cohort.MEDICATION_OPTIMISATION,
        PersonalThresholds(),
        medication_changes=tuple(MedicationChange(at(day, "10:00"), drug) for day, drug in changes),
    )


@pytest.mark.parametrize(
    ("kind", "result", "expected"),
    [
        (T.POTASSIUM, 5.0, NONE),
        (T.POTASSIUM, 5.1, {"amber.potassium"}),
        (T.POTASSIUM, 6.0, {"amber.potassium"}),
        (T.POTASSIUM, 6.1, {"red.potassium"}),
        (T.CREATININE, 221, NONE),
        (T.CREATININE, 222, {"amber.creatinine"}),
        (T.CREATININE, 354, {"amber.creatinine"}),
        (T.CREATININE, 355, {"red.creatinine"}),
        (T.EGFR, 30, NONE),
        (T.EGFR, 29, {"amber.egfr"}),
        (T.EGFR, 15, {"amber.egfr"}),
        (T.EGFR, 14, {"red.egfr"}),
    ],
)
def test_lab_limits(kind: T, result: float, expected: set[str]) -> None:
    assert fired([lab(kind, 0, result)], who=titrating()) == expected


@pytest.mark.parametrize(
    ("kind", "result", "expected"),
    [
        # a dangerous result is red whichever cohort the patient is in (issue 16)
        (T.POTASSIUM, 6.2, {"red.potassium"}),
        (T.CREATININE, 355, {"red.creatinine"}),
        (T.EGFR, 14, {"red.egfr"}),
        # the cautions guide dose changes: only while medicines are titrated
        (T.POTASSIUM, 5.5, NONE),
        (T.CREATININE, 300, NONE),
        (T.EGFR, 25, NONE),
    ],
)
def test_red_lab_limits_apply_to_every_cohort(kind: T, result: float, expected: set[str]) -> None:
    assert fired([lab(kind, 0, result)]) == expected


def test_a_red_result_is_never_within_the_plan() -> None:
    reading = lab(T.POTASSIUM, 0, 6.2)
    result = evaluate(
        default_pathway(), patient(), [], [reading], reading.taken_at + timedelta(minutes=1)
    )
    assert result.advice.code == "red_same_day"
    assert "within your plan" not in result.advice.text


@pytest.mark.parametrize(
    ("after", "expected"),
    [(150.0, NONE), (150.1, {"amber.creatinine_rise"}), (160.0, {"amber.creatinine_rise"})],
)
def test_creatinine_rise_from_before_the_change(after: float, expected: set[str]) -> None:
    rows = [
        lab(T.CREATININE, -20, 90.0),
        lab(T.CREATININE, -10, 100.0),
        lab(T.CREATININE, 0, after),
    ]
    assert fired(rows, who=titrating((-5, DrugClass.ACEI_ARB_ARNI))) == expected


def test_creatinine_rise_without_a_change_uses_the_earliest_result() -> None:
    rows = [
        lab(T.CREATININE, -20, 90.0),
        lab(T.CREATININE, -10, 130.0),
        lab(T.CREATININE, 0, 140.0),
    ]
    assert fired(rows, who=titrating()) == {"amber.creatinine_rise"}


def test_creatinine_rise_with_a_change_before_every_result() -> None:
    rows = [lab(T.CREATININE, -10, 90.0), lab(T.CREATININE, 0, 140.0)]
    assert fired(rows, who=titrating((-30, DrugClass.MRA))) == {"amber.creatinine_rise"}


def test_first_creatinine_has_no_baseline() -> None:
    assert fired([lab(T.CREATININE, 0, 200.0)], who=titrating((-3, DrugClass.MRA))) == NONE


@pytest.mark.parametrize(
    ("change_day", "drug", "bpm", "answers", "expected"),
    [
        (-10, DrugClass.BETA_BLOCKER, 48, {"fatigue": "worse"}, True),
        (-10, DrugClass.BETA_BLOCKER, 50, {"fatigue": "worse"}, False),
        (-10, DrugClass.BETA_BLOCKER, 48, {}, False),
        (-29, DrugClass.BETA_BLOCKER, 48, {"fatigue": "worse"}, False),
        (-10, DrugClass.MRA, 48, {"fatigue": "worse"}, False),
    ],
)
def test_slow_pulse_with_worse_symptoms_after_a_beta_blocker_change(
    change_day: int, drug: DrugClass, bpm: float, answers: dict[str, object], expected: bool
) -> None:
    who = titrating((change_day, drug))
    pulse_last = fired([sym(0, "08:00", **answers), hr(0, bpm, "09:00")], who=who)
    symptoms_last = fired([hr(0, bpm, "08:00"), sym(0, "09:00", **answers)], who=who)
    assert ("amber.beta_blocker_pulse" in pulse_last) is expected
    assert ("amber.beta_blocker_pulse" in symptoms_last) is expected


def test_change_exactly_at_the_edge_of_the_window() -> None:
    who = titrating()
    edge = PatientContext(
        "p1",
        Cohort.MEDICATION_OPTIMISATION,
        medication_changes=(
            MedicationChange(at(0, "09:00") - timedelta(days=28), DrugClass.BETA_BLOCKER),
        ),
    )
    rows = [sym(0, "08:00", fatigue="worse"), hr(0, 48, "09:00")]
    assert "amber.beta_blocker_pulse" in fired(rows, who=edge)
    assert "amber.beta_blocker_pulse" not in fired(rows, who=who)


def test_creatinine_rise_can_be_switched_off_by_a_site() -> None:
    config = default_pathway().with_overrides({"disabled": ["amber.creatinine_rise"]})
    rows = [lab(T.CREATININE, -10, 90.0), lab(T.CREATININE, 0, 140.0)]
    assert fired(rows, config=config, who=titrating()) == NONE
