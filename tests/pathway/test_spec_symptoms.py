"""Symptom questionnaire: emergency answers, new or worse symptoms."""

from __future__ import annotations

import pytest

from pathway import default_pathway, evaluate
from tests.pathway.tables import at, fired, patient, sym

NONE: set[str] = set()


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
    config = default_pathway()
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
        default_pathway(),
        patient(),
        [],
        [sym(0, breathlessness="at_rest", chest_pain=True)],
        at(0, "09:00"),
    )
    (finding,) = [f for f in result.findings if f.rule_id == "red.emergency_symptoms"]
    assert finding.summary == "breathless at rest, chest pain"
    assert result.advice.code == "emergency"
    assert result.advice.text.startswith("Call 999 now.")
