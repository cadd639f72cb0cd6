"""The default symptom score: no single stray answer raises amber.symptoms_worse; persistence,
several signs together or a weight above the personal baseline do (issue 15)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from pathway import Reading, default_pathway, evaluate, history_lookback
from pathway.model import ReadingType
from pathway.rules.symptom_score import NAMES, signs
from tests.pathway.tables import at, fired, hr, o2, patient, sym, w

SYMPTOMS = "amber.symptoms_worse"
NONE: set[str] = set()
CONFIG = default_pathway()


def test_the_default_scores_symptoms_and_the_version_says_so() -> None:
    assert CONFIG.symptoms.score is True
    assert CONFIG.version == "mhf-2026.3"


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
        # ankle swelling and orthopnoea count over 5 days (they build over about a week) ...
        ([sym(-3, **A), sym(-1, **A), sym(0, **A)], {SYMPTOMS}),
        ([sym(-4, **FLAT), sym(-1, **A), sym(0, **A)], {SYMPTOMS}),
        # ... but not from longer ago
        ([sym(-5, **A), sym(-1, **A), sym(0, **A)], NONE),
        # two specific signs the same day, and one of them again
        ([sym(0, **A, **FLAT)], NONE),
        ([sym(-1, **A, **FLAT), sym(0, **A)], {SYMPTOMS}),
        ([sym(-2, **FLAT), sym(-1, **A), sym(0, **A)], {SYMPTOMS}),
        # breathlessness is the least specific sign
        ([sym(-2, **B), sym(-1, **B), sym(0, **B)], NONE),
        ([sym(-1, **B, **A), sym(0, **A)], NONE),
        ([sym(-2, **B), sym(-1, **B, **A), sym(0, **A)], {SYMPTOMS}),
        # ... and counts over the last 3 days only
        ([sym(-3, **B), sym(-1, **B, **A), sym(0, **A)], NONE),
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
    assert finding.pathway_version == "mhf-2026.3"
    assert finding.evidence == ("s-1@08:10", "s+0@08:10")
    assert finding.summary == (
        "breathless lying flat today; worse ankle swelling on 2 of the last 5 days "
        "(score 3.0, alert at 3)"
    )
    assert result.advice.code == "amber_next_day"
    # a sign given only before today is named as such
    rows = [sym(-2, **FLAT), sym(-1, **A), sym(0, **A)]
    (finding,) = evaluate(CONFIG, patient(), rows[:2], rows[2:], at(0, "09:00")).findings
    assert finding.summary.startswith("breathless lying flat in the last 5 days; ")


def _baseline(kg: float = 80.0) -> list[Reading]:
    # 28 days at the usual weight (alternating 0.4 kg), ending 3 days ago: mean 80.2
    return [w(d, kg if d % 2 else kg + 0.4) for d in range(-30, -2)]


def test_a_weight_above_the_personal_baseline_adds_points() -> None:
    # ankles on two days (2 points) and a recent mean 1.6 kg above the baseline mean (1.12)
    def rows(kg: float) -> list[Reading]:
        return [*_baseline(), w(-1, kg), w(0, kg), sym(-1, **A), sym(0, **A)]

    result = evaluate(CONFIG, patient(), rows(81.8)[:-1], rows(81.8)[-1:], at(0, "09:00"))
    (finding,) = result.findings
    assert finding.evidence == ("w+0@08:00", "s-1@08:10", "s+0@08:10")
    assert finding.summary == (
        "worse ankle swelling on 2 of the last 5 days; weight 1.6 kg above usual "
        "(score 3.1, alert at 3)"
    )
    # 1.0 kg is not enough, a weight below the baseline scores nothing
    assert fired(rows(81.2), config=CONFIG) == NONE
    assert fired(rows(79.0), config=CONFIG) == NONE
    # weights too long before the answer, or with no baseline, do not count
    old = [*_baseline(), w(-5, 83.0), w(-4, 83.0), sym(-1, **A), sym(0, **A)]
    assert fired(old, config=CONFIG) == NONE
    new = [w(-1, 90.0), w(0, 90.0), sym(-1, **A), sym(0, **A)]
    assert fired(new, config=CONFIG) == NONE


def test_the_weight_points_are_capped() -> None:
    config = CONFIG.with_overrides({"symptoms": {"weight_cap_kg": 0.5}})
    rows = [*_baseline(), w(-1, 81.8), w(0, 81.8), sym(-1, **A), sym(0, **A)]
    assert fired(rows, config=CONFIG) == {SYMPTOMS}
    assert fired(rows, config=config) == NONE
    # a site can leave weight out of the score
    config = CONFIG.with_overrides({"symptoms": {"points_per_kg": 0, "score_threshold": 1}})
    (finding,) = evaluate(config, patient(), rows[:-1], rows[-1:], at(0, "09:00")).findings
    assert "weight" not in finding.summary


def _often(answer: Mapping[str, object], every: int) -> list[Reading]:
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
    flat = [sym(-1, "09:00", orthopnoea=True), sym(0, "09:00", orthopnoea=True)]
    rows = [*_often(ankles, 15), *recent, *flat]
    result = evaluate(CONFIG, patient(), rows[:-1], rows[-1:], at(0, "09:30"))
    (finding,) = result.findings
    assert "worse ankle swelling on 3 of the last 5 days (often answered)" in finding.summary


def test_the_threshold_is_the_sites_one_setting() -> None:
    rows = [sym(0, ankle_swelling="worse")]
    assert fired(rows, config=CONFIG) == NONE
    config = CONFIG.with_overrides({"symptoms": {"score_threshold": 1.0}})
    assert fired(rows, config=config) == {SYMPTOMS}
    assert config.version.startswith("mhf-2026.3+")


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


# --- signs that build over a week, and home vitals against their personal baselines ---


def test_orthopnoea_and_ankle_swelling_count_over_the_slow_sign_days() -> None:
    slow = CONFIG.symptoms.slow_sign_days
    rows = [sym(-(slow - 1), **FLAT), sym(-1, **A), sym(0, **A)]
    assert fired(rows, config=CONFIG.with_overrides({"symptoms": {"score_threshold": 3}})) == {
        SYMPTOMS
    }
    # ... one day further back it has dropped out
    rows = [sym(-slow, **FLAT), sym(-1, **A), sym(0, **A)]
    assert fired(rows, config=CONFIG.with_overrides({"symptoms": {"score_threshold": 3}})) == NONE
    # breathlessness counts over persist_days only
    rows = [sym(-(CONFIG.symptoms.persist_days), **B), sym(-1, **A), sym(0, **A)]
    config = CONFIG.with_overrides({"symptoms": {"score_threshold": 2.5}})
    assert fired(rows, config=config) == NONE
    # ... and the words say over how many days each sign was counted
    rows = [sym(-4, **FLAT), sym(-1, **A, **FLAT), sym(0, **A)]
    (finding,) = evaluate(CONFIG, patient(), rows[:2], rows[2:], at(0, "09:00")).findings
    assert f"breathless lying flat on 2 of the last {slow} days" in finding.summary


def _vitals(spo2: float, pulse: float, recent_spo2: float, recent_pulse: float) -> list[Reading]:
    usual = [r for d in range(-40, -8) for r in (o2(d, spo2), hr(d, pulse))]
    return [*usual, o2(-1, recent_spo2), hr(-1, recent_pulse), o2(0, recent_spo2)]


VITALS = {
    "symptoms": {
        "spo2_points_per_percent": 1.0,
        "spo2_free_percent": 1.0,
        "pulse_points_per_10_bpm": 1.0,
        "pulse_free_bpm": 5,
        "score_threshold": 3.0,
    }
}


def test_oxygen_saturation_below_the_personal_baseline_adds_points() -> None:
    config = CONFIG.with_overrides(VITALS)
    ankles = [sym(-1, **A), sym(0, **A)]  # 2 points
    # SpO2 usually 97 %, now 95 %: 1 % beyond the free 1 % -> 1 point
    rows = [*_vitals(97, 70, 95, 70), *ankles]
    (finding,) = evaluate(config, patient(), rows[:-1], rows[-1:], at(0, "09:00")).findings
    assert "oxygen saturation 2.0 % below usual" in finding.summary
    assert "(score 3.0, alert at 3)" in finding.summary
    # 1 % below is the day-to-day spread: no points
    assert fired([*_vitals(97, 70, 96, 70), *ankles], config=config) == NONE
    # off by default in a site that sets the points to 0
    off = config.with_overrides({"symptoms": {"spo2_points_per_percent": 0}})
    assert fired(rows, config=off) == NONE


def test_a_pulse_above_the_personal_baseline_adds_points() -> None:
    config = CONFIG.with_overrides(VITALS)
    ankles = [sym(-1, **A), sym(0, **A)]
    rows = [*_vitals(97, 70, 97, 85), *ankles]  # 15 bpm up: 10 beyond the free 5 -> 1 point
    (finding,) = evaluate(config, patient(), rows[:-1], rows[-1:], at(0, "09:00")).findings
    assert "pulse 15 bpm above usual" in finding.summary
    assert fired([*_vitals(97, 70, 97, 74), *ankles], config=config) == NONE
    off = config.with_overrides({"symptoms": {"pulse_points_per_10_bpm": 0}})
    assert fired(rows, config=off) == NONE


def test_vitals_need_a_baseline_and_a_recent_reading() -> None:
    config = CONFIG.with_overrides(VITALS)
    ankles = [sym(-1, **A), sym(0, **A)]
    # four baseline readings are too few to call anything usual
    few = [o2(d, 97) for d in range(-12, -8)]
    assert fired([*few, o2(0, 90), *ankles], config=config) == NONE
    # no reading in the last persist_days: nothing recent to compare
    usual = [o2(d, 97) for d in range(-40, -8)]
    assert fired([*usual, *ankles], config=config) == NONE
    # a reading after the answer being judged does not count for it
    late = [*usual, sym(-1, **A), sym(0, "08:00", **A), o2(0, 90, "10:00")]
    result = evaluate(config, patient(), late[:-2], late[-2:-1], at(0, "08:30"))
    assert [f.rule_id for f in result.findings] == []


def test_the_lookback_reads_vitals_only_when_they_score() -> None:
    config = CONFIG.with_overrides(VITALS)
    s = config.symptoms
    back = history_lookback(config, [ReadingType.SYMPTOMS])
    assert back[ReadingType.SPO2].days == s.baseline_gap_days + s.baseline_days + 1
    assert back[ReadingType.HEART_RATE].days == s.baseline_gap_days + s.baseline_days + 1
    off = config.with_overrides(
        {"symptoms": {"spo2_points_per_percent": 0, "pulse_points_per_10_bpm": 0}}
    )
    assert history_lookback(off, [ReadingType.SYMPTOMS])[ReadingType.SPO2].days < s.baseline_days
