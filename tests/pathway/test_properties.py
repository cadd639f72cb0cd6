"""Hypothesis properties of evaluate(): deterministic, order-independent, never raises on a
valid reading sequence, and a reading that changes nothing raises nothing new."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from pathway import (
    AnkleSwelling,
    Breathlessness,
    Cohort,
    DrugClass,
    Fatigue,
    MedicationChange,
    PatientContext,
    PersonalThresholds,
    Reading,
    ReadingType,
    SymptomAnswers,
    default_pathway,
    evaluate,
    history_lookback,
)
from pathway.history import History
from tests.hypothesis_profiles import scaled
from tests.pathway.tables import LONDON, domain_table

# Spans the spring clock change so London days and DST are exercised.
START = datetime.combine(date(2026, 3, 20), time(0), LONDON)
NOW = START + timedelta(days=21)

answers = st.builds(
    SymptomAnswers,
    breathlessness=st.sampled_from(Breathlessness),
    orthopnoea=st.booleans(),
    ankle_swelling=st.sampled_from(AnkleSwelling),
    dizziness=st.booleans(),
    chest_pain=st.booleans(),
    fatigue=st.sampled_from(Fatigue),
    fainting=st.booleans(),
    confusion=st.booleans(),
)

VALUES = {
    ReadingType.WEIGHT: st.floats(70, 76),
    ReadingType.HEART_RATE: st.integers(35, 140),
    ReadingType.SPO2: st.integers(85, 100),
    ReadingType.POTASSIUM: st.floats(3.5, 6.5),
    ReadingType.CREATININE: st.floats(60, 400),
    ReadingType.EGFR: st.floats(10, 90),
}


@st.composite
def reading(draw: st.DrawFn, index: int) -> Reading:
    kind = draw(st.sampled_from(ReadingType))
    taken = START + timedelta(minutes=draw(st.integers(0, 21 * 24 * 60 - 1)))
    rid = f"r{index}"
    if kind is ReadingType.SYMPTOMS:
        return Reading(rid, kind, taken, symptoms=draw(answers))
    if kind is ReadingType.BLOOD_PRESSURE:
        return Reading(rid, kind, taken, systolic=draw(st.integers(70, 180)), diastolic=70)
    return Reading(rid, kind, taken, value=float(draw(VALUES[kind])))


@st.composite
def readings(draw: st.DrawFn) -> list[Reading]:
    count = draw(st.integers(0, 40))
    return [draw(reading(i)) for i in range(count)]


PATIENTS = [
    PatientContext("a", Cohort.POST_DISCHARGE, PersonalThresholds(target_weight_kg=72.0)),
    PatientContext(
        "b",
        Cohort.MEDICATION_OPTIMISATION,
        medication_changes=(MedicationChange(START + timedelta(days=5), DrugClass.BETA_BLOCKER),),
    ),
]
CONFIGS = [default_pathway(), domain_table()]


@settings(max_examples=scaled(60), deadline=None)
@given(
    rows=readings(),
    split=st.integers(0, 40),
    who=st.sampled_from(PATIENTS),
    config=st.sampled_from(CONFIGS),
    data=st.data(),
)
def test_properties(rows: list[Reading], split: int, who, config, data) -> None:
    history, new = rows[:split], rows[split:]
    first = evaluate(config, who, history, new, NOW)
    # deterministic
    assert evaluate(config, who, history, new, NOW) == first
    # independent of arrival order
    shuffled_history = data.draw(st.permutations(history))
    shuffled_new = data.draw(st.permutations(new))
    assert evaluate(config, who, shuffled_history, shuffled_new, NOW) == first
    # every finding involves a new reading
    new_ids = {r.id for r in new}
    for finding in first.findings:
        assert new_ids & set(finding.evidence)
        assert finding.level.value in {"red", "amber"}
    # a prepared History gives exactly the same answer, for any `now`
    prepared = History(history)
    assert evaluate(config, who, prepared, new, NOW) == first
    earlier = NOW - timedelta(days=data.draw(st.integers(0, 20)))
    assert evaluate(config, who, prepared, new, earlier) == evaluate(
        config, who, history, new, earlier
    )
    # re-sending what is stored raises nothing new
    again = evaluate(config, who, rows, new, NOW)
    assert again.findings == ()
    assert again.advice.code == "green"


@settings(max_examples=scaled(60), deadline=None)
@given(
    rows=readings(),
    split=st.integers(0, 40),
    who=st.sampled_from(PATIENTS),
    config=st.sampled_from(CONFIGS),
)
def test_history_lookback_is_all_the_history_needed(
    rows: list[Reading], split: int, who, config
) -> None:
    # What a service loading only history_lookback() of the history gets must be what the
    # whole history gives.
    history, new = rows[:split], rows[split:]
    if not new:
        return
    earliest = min(r.taken_at for r in new)
    reach = history_lookback(config, {r.type for r in new})
    needed = [r for r in history if r.type in reach and r.taken_at >= earliest - reach[r.type]]
    # The reference reads the whole window for every type, so it does not trust the look-backs.
    everything = {kind: NOW - config.history_window for kind in ReadingType}
    with patch("pathway.engine._reach", lambda *_: everything):
        whole = evaluate(config, who, history, new, NOW)
    assert evaluate(config, who, needed, new, NOW) == whole
