"""Symptom questionnaire: emergency answers, new or worse symptoms."""

from __future__ import annotations

import pytest

from pathway import Reading, default_pathway, evaluate
from tests.pathway.tables import at, fired, o2, patient, sym, w

NONE: set[str] = set()
# The first build's single-answer rules, which a site can still choose (symptoms.score off);
# the default symptom score has its own spec (test_spec_symptom_score.py).
LEGACY = default_pathway().with_overrides({"symptoms": {"score": False}})


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"breathlessness": "at_rest"}, {"red.emergency_symptoms"}),
        ({"chest_pain": True}, {"red.emergency_symptoms"}),
        ({"fainting": True}, {"red.emergency_symptoms"}),
        ({"confusion": True}, {"red.emergency_symptoms"}),
        ({"breathlessness": "usual"}, NONE),
        ({"breathlessness": "none"}, NONE),
        ({"breathlessness": "worse"}, {"amber.symptoms_worse"}),
        ({"orthopnoea": True}, {"amber.symptoms_worse"}),
        ({"ankle_swelling": "worse"}, {"amber.symptoms_worse"}),
        ({"ankle_swelling": "usual"}, NONE),
        ({"dizziness": True}, {"amber.symptoms_worse"}),
        ({"fatigue": "worse"}, {"amber.symptoms_worse"}),
    ],
)
def test_single_answer(answers: dict[str, object], expected: set[str]) -> None:
    assert fired([sym(0, **answers)]) == expected


@pytest.mark.parametrize(
    ("yesterday", "today", "expected"),
    [
        # a yes/no symptom already there yesterday is not new
        ({"orthopnoea": True}, {"orthopnoea": True}, NONE),
        ({"dizziness": True}, {"dizziness": True}, NONE),
        ({}, {"orthopnoea": True}, {"amber.symptoms_worse"}),
        # "worse" answers are a change by definition, every time
        ({"ankle_swelling": "worse"}, {"ankle_swelling": "worse"}, {"amber.symptoms_worse"}),
    ],
)
def test_new_means_not_in_the_previous_answer(
    yesterday: dict[str, object], today: dict[str, object], expected: set[str]
) -> None:
    assert fired([sym(-1, **yesterday), sym(0, **today)]) == expected


def test_previous_answer_older_than_a_week_does_not_count() -> None:
    assert fired([sym(-8, orthopnoea=True), sym(0, orthopnoea=True)]) == {"amber.symptoms_worse"}


def test_default_tiredness_alone_is_not_an_alert_but_with_a_congestion_sign_is() -> None:
    config = LEGACY
    assert fired([sym(0, fatigue="worse")], config=config) == NONE
    assert fired([sym(0, fatigue="worse", ankle_swelling="worse")], config=config) == {
        "amber.symptoms_worse"
    }
    assert fired([sym(0, dizziness=True)], config=config) == {"amber.symptoms_worse"}
    assert (
        fired(
            [sym(0, dizziness=True)],
            config=config.with_overrides({"symptoms": {"dizziness_alone": False}}),
        )
        == NONE
    )


def test_emergency_advice_and_summary() -> None:
    result = evaluate(
        LEGACY,
        patient(),
        [],
        [sym(0, breathlessness="at_rest", chest_pain=True)],
        at(0, "09:00"),
    )
    (finding,) = [f for f in result.findings if f.rule_id == "red.emergency_symptoms"]
    assert finding.summary == "breathless at rest, chest pain"
    assert result.advice.code == "emergency"
    assert result.advice.text.startswith("Call 999 now.")


SYMPTOMS = "amber.symptoms_worse"


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # worse breathlessness on exertion alone, first time: held, the patient asked again
        ([sym(0, breathlessness="worse")], NONE),
        ([sym(-1), sym(0, breathlessness="worse")], NONE),
        # ... and raised when the previous questionnaire, within 3 days, also showed congestion
        ([sym(-1, breathlessness="worse"), sym(0, breathlessness="worse")], {SYMPTOMS}),
        ([sym(-3, breathlessness="worse"), sym(0, breathlessness="worse")], {SYMPTOMS}),
        ([sym(-4, breathlessness="worse"), sym(0, breathlessness="worse")], NONE),
        ([sym(-2, orthopnoea=True), sym(0, breathlessness="worse")], {SYMPTOMS}),
        # more specific signs of fluid raise it at once, as does breathlessness with them
        ([sym(0, breathlessness="worse", ankle_swelling="worse")], {SYMPTOMS}),
        ([sym(0, breathlessness="worse", orthopnoea=True)], {SYMPTOMS}),
        # tiredness does not corroborate; new dizziness raises on its own (dizziness_alone)
        ([sym(0, breathlessness="worse", fatigue="worse")], NONE),
        ([sym(0, breathlessness="worse", dizziness=True)], {SYMPTOMS}),
    ],
)
def test_default_worse_breathlessness_alone_needs_a_repeat(
    rows: list[Reading], expected: set[str]
) -> None:
    assert fired(rows, config=LEGACY) == expected


def test_held_breathlessness_asks_for_the_questions_again_tomorrow() -> None:
    config = LEGACY
    first = evaluate(config, patient(), [], [sym(0, breathlessness="worse")], at(0, "09:00"))
    assert first.findings == ()
    assert first.advice.code == "symptoms_again"
    assert "again tomorrow" in first.advice.text
    assert "call 999" in first.advice.text
    second = evaluate(
        config,
        patient(),
        [sym(0, breathlessness="worse")],
        [sym(1, breathlessness="worse")],
        at(1, "09:00"),
    )
    (finding,) = second.findings
    assert finding.rule_id == SYMPTOMS
    assert finding.evidence == ("s+0@08:10", "s+1@08:10")
    assert finding.summary == "worse breathlessness again"
    assert second.advice.code == "amber_next_day"


def test_a_borderline_reading_re_measure_comes_before_the_questions_tomorrow() -> None:
    result = evaluate(
        LEGACY,
        patient(),
        [],
        [o2(0, 94), sym(0, breathlessness="worse")],
        at(0, "09:00"),
    )
    assert result.advice.code == "remeasure"


def _baseline(kg: float = 80.0) -> list[Reading]:
    # 28 days at the usual weight (alternating 0.4 kg), ending 3 days ago
    return [w(d, kg if d % 2 else kg + 0.4) for d in range(-30, -2)]


@pytest.mark.parametrize(
    ("recent", "expected"),
    [
        # baseline mean 80.2: the recent mean must be >= 1.0 kg above it
        ((81.1, 81.1), NONE),
        ((81.2, 81.2), {SYMPTOMS}),
        ((81.0, 81.5), {SYMPTOMS}),
    ],
)
def test_worse_breathlessness_with_weight_up_on_the_baseline_is_raised_at_once(
    recent: tuple[float, float], expected: set[str]
) -> None:
    rows = [*_baseline(), w(-1, recent[0]), w(0, recent[1]), sym(0, breathlessness="worse")]
    config = LEGACY
    assert fired(rows, config=config) == expected
    if expected:
        result = evaluate(config, patient(), rows[:-1], rows[-1:], at(0, "09:00"))
        (finding,) = [f for f in result.findings if f.rule_id == SYMPTOMS]
        assert finding.evidence == ("w+0@08:00", "s+0@08:10")
        assert finding.summary == "worse breathlessness with weight up"


def test_weight_corroborates_only_within_the_symptom_days() -> None:
    # the raised weights are 4 days before the answer: too long ago to corroborate it
    rows = [*_baseline(), w(-5, 82.0), w(-4, 82.0), sym(0, breathlessness="worse")]
    assert fired(rows, config=LEGACY) == NONE
    # with no baseline to compare with, there is no corroboration either
    assert fired([w(-1, 90.0), w(0, 90.0), sym(0, breathlessness="worse")]) == {SYMPTOMS}
    assert fired([w(-1, 90.0), w(0, 90.0), sym(0, breathlessness="worse")], config=LEGACY) == NONE


def test_a_site_can_raise_worse_breathlessness_at_once() -> None:
    config = LEGACY.with_overrides({"symptoms": {"breathlessness_alone_repeat": False}})
    assert fired([sym(0, breathlessness="worse")], config=config) == {SYMPTOMS}
