"""The default symptom score: no single stray answer raises amber.symptoms_worse; persistence,
several signs together or a weight above the personal baseline do (issue 15)."""

from __future__ import annotations

import pytest

from pathway import Reading, default_pathway, evaluate, history_lookback
from pathway.model import ReadingType
from pathway.rules.symptom_score import NAMES, signs
from tests.pathway.tables import at, fired, patient, sym, w

SYMPTOMS = "amber.symptoms_worse"
NONE: set[str] = set()
CONFIG = default_pathway()


def test_the_default_scores_symptoms_and_the_version_says_so() -> None:
    assert CONFIG.symptoms.score is True
    assert CONFIG.version == "mhf-2026.2"


@pytest.mark.parametrize(
    "answers",
    [
        {"ankle_swelling": "worse"},
        {"orthopnoea": True},
        {"dizziness": True},
        {"breathlessness": "worse"},
        {"fatigue": "worse"},
        {"breathlessness": "worse", "fatigue": "worse"},
    ],
)
def test_one_stray_answer_is_held_with_advice_to_answer_again(answers: dict[str, object]) -> None:
    result = evaluate(CONFIG, patient(), [], [sym(0, **answers)], at(0, "09:00"))
    assert result.findings == ()
    assert result.advice.code == "symptoms_again"
    assert "again tomorrow" in result.advice.text
    assert "call 111" in result.advice.text
    assert "call 999" in result.advice.text


def test_no_worse_answer_is_green_and_emergencies_stay_red() -> None:
    assert fired([sym(0)], config=CONFIG) == NONE
    result = evaluate(CONFIG, patient(), [], [sym(0, breathlessness="at_rest")], at(0, "09:00"))
    assert {f.rule_id for f in result.findings} == {"red.emergency_symptoms"}
    assert result.advice.code == "emergency"


A = {"ankle_swelling": "worse"}
FLAT = {"orthopnoea": True}
B = {"breathlessness": "worse"}


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # the same congestion sign on each of the last three days
        ([sym(-2, **A), sym(-1, **A), sym(0, **A)], {SYMPTOMS}),
        # ... two days of one sign are not enough on their own
        ([sym(-1, **A), sym(0, **A)], NONE),
        ([sym(-2, **FLAT), sym(0, **FLAT)], NONE),
        # ... nor are answers more than three days apart
        ([sym(-3, **A), sym(-1, **A), sym(0, **A)], NONE),
        # two specific signs the same day, and one of them again
        ([sym(0, **A, **FLAT)], NONE),
        ([sym(-1, **A, **FLAT), sym(0, **A)], {SYMPTOMS}),
        ([sym(-2, **FLAT), sym(-1, **A), sym(0, **A)], {SYMPTOMS}),
        # breathlessness is the least specific sign
        ([sym(-2, **B), sym(-1, **B), sym(0, **B)], NONE),
        ([sym(-1, **B, **A), sym(0, **A)], {SYMPTOMS}),
        # two questionnaires on one day count that day once
        ([sym(-1, **A), sym(0, "08:00", **A), sym(0, "18:00", **A)], NONE),
    ],
)
def test_persistence_and_combinations(rows: list[Reading], expected: set[str]) -> None:
    assert fired(rows, config=CONFIG) == expected


def test_the_finding_names_each_signal_in_plain_words() -> None:
    rows = [sym(-1, **A), sym(0, **A, **FLAT)]
    result = evaluate(CONFIG, patient(), rows[:1], rows[1:], at(0, "09:00"))
    (finding,) = result.findings
    assert finding.rule_id == SYMPTOMS
    assert finding.pathway_version == "mhf-2026.2"
    assert finding.evidence == ("s-1@08:10", "s+0@08:10")
    assert finding.summary == (
        "breathless lying flat today; worse ankle swelling on 2 of the last 3 days "
        "(score 3.0, alert at 2.5)"
    )
    assert result.advice.code == "amber_next_day"
    # a sign given only before today is named as such
    rows = [sym(-2, **FLAT), sym(-1, **A), sym(0, **A)]
    (finding,) = evaluate(CONFIG, patient(), rows[:2], rows[2:], at(0, "09:00")).findings
    assert finding.summary.startswith("breathless lying flat in the last 3 days; ")


def _baseline(kg: float = 80.0) -> list[Reading]:
    # 28 days at the usual weight (alternating 0.4 kg), ending 3 days ago: mean 80.2
    return [w(d, kg if d % 2 else kg + 0.4) for d in range(-30, -2)]


def test_a_weight_above_the_personal_baseline_adds_points() -> None:
    # ankles on two days (2 points) and a recent mean 1.0 kg above the baseline mean (0.7)
    def rows(kg: float) -> list[Reading]:
        return [*_baseline(), w(-1, kg), w(0, kg), sym(-1, **A), sym(0, **A)]

    result = evaluate(CONFIG, patient(), rows(81.2)[:-1], rows(81.2)[-1:], at(0, "09:00"))
    (finding,) = result.findings
    assert finding.evidence == ("w+0@08:00", "s-1@08:10", "s+0@08:10")
    assert finding.summary == (
        "worse ankle swelling on 2 of the last 3 days; weight 1.0 kg above usual "
        "(score 2.7, alert at 2.5)"
    )
    # 0.6 kg is not enough, a weight below the baseline scores nothing
    assert fired(rows(80.8), config=CONFIG) == NONE
    assert fired(rows(79.0), config=CONFIG) == NONE
    # weights too long before the answer, or with no baseline, do not count
    old = [*_baseline(), w(-5, 83.0), w(-4, 83.0), sym(-1, **A), sym(0, **A)]
    assert fired(old, config=CONFIG) == NONE
    new = [w(-1, 90.0), w(0, 90.0), sym(-1, **A), sym(0, **A)]
    assert fired(new, config=CONFIG) == NONE


def test_the_weight_points_are_capped() -> None:
    config = CONFIG.with_overrides({"symptoms": {"weight_cap_kg": 0.5}})
    rows = [*_baseline(), w(-1, 81.2), w(0, 81.2), sym(-1, **A), sym(0, **A)]
    assert fired(rows, config=CONFIG) == {SYMPTOMS}
    assert fired(rows, config=config) == NONE
    # a site can leave weight out of the score
    config = CONFIG.with_overrides({"symptoms": {"points_per_kg": 0, "score_threshold": 1}})
    (finding,) = evaluate(config, patient(), rows[:-1], rows[-1:], at(0, "09:00")).findings
    assert "weight" not in finding.summary


def _often(answer: dict[str, object], every: int) -> list[Reading]:
    # a questionnaire each day for six weeks before the last week, the answer every n-th day
    return [sym(d, **(answer if d % every == 0 else {})) for d in range(-50, -7)]


def test_an_answer_this_patient_gives_often_scores_less() -> None:
    ankles = {"ankle_swelling": "worse"}
    recent = [sym(-2, **A), sym(-1, **A), sym(0, **A)]
    # stable (no ankle answers before): three days raise it
    assert fired([*_often({}, 1), *recent], config=CONFIG) == {SYMPTOMS}
    # a chronic over-reporter (every second day): usual for them, held
    assert fired([*_often(ankles, 2), *recent], config=CONFIG) == NONE
    # a stray answer now and then keeps the full points
    assert fired([*_often(ankles, 40), *recent], config=CONFIG) == {SYMPTOMS}
    # ... and the summary says when an answer is often given
    rows = [*_often(ankles, 10), *recent, sym(0, "09:00", orthopnoea=True)]
    result = evaluate(CONFIG, patient(), rows[:-1], rows[-1:], at(0, "09:30"))
    (finding,) = result.findings
    assert "worse ankle swelling on 3 of the last 3 days (often answered)" in finding.summary


def test_the_threshold_is_the_sites_one_setting() -> None:
    rows = [sym(0, ankle_swelling="worse")]
    assert fired(rows, config=CONFIG) == NONE
    config = CONFIG.with_overrides({"symptoms": {"score_threshold": 1.0}})
    assert fired(rows, config=config) == {SYMPTOMS}
    assert config.version.startswith("mhf-2026.2+")


def test_signs_read_each_answer() -> None:
    assert signs(sym(0)) == (False,) * 5
    assert signs(sym(0, breathlessness="at_rest")) == (True, False, False, False, False)
    every = sym(
        0,
        breathlessness="worse",
        orthopnoea=True,
        ankle_swelling="worse",
        dizziness=True,
        fatigue="worse",
    )
    assert signs(every) == (True,) * 5
    assert len(NAMES) == 5


def test_the_lookback_covers_the_personal_baseline() -> None:
    back = history_lookback(CONFIG, [ReadingType.SYMPTOMS])
    s = CONFIG.symptoms
    assert back[ReadingType.SYMPTOMS].days == s.baseline_gap_days + s.baseline_days + 1
    legacy = CONFIG.with_overrides({"symptoms": {"score": False}})
    assert history_lookback(legacy, [ReadingType.SYMPTOMS])[ReadingType.SYMPTOMS].days == 8
