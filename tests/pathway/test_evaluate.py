"""evaluate(): which readings count as new, the bounded window, re-measures and advice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pathway import (
    Cohort,
    DrugClass,
    MedicationChange,
    PatientContext,
    Reading,
    ReadingType,
    default_pathway,
    evaluate,
    history_lookback,
)
from pathway.history import History
from tests.pathway.tables import at, domain_table, o2, patient, sym, w


def test_resending_stored_readings_raises_nothing() -> None:
    rows = [w(-3, 80.0), w(0, 83.0)]
    result = evaluate(domain_table(), patient(), rows, rows, at(1))
    assert result.findings == ()
    assert result.advice.code == "green"


def test_nothing_new_is_green() -> None:
    result = evaluate(default_pathway(), patient(), [w(0, 90.0)], [], at(1))
    assert result.findings == ()
    assert result.advice.text == "Thank you. All your readings are within your plan."


def test_a_late_reading_can_complete_a_gain_on_a_later_stored_weight() -> None:
    # Day 0 was stored first; the day -2 weight arrives late (offline) and is the comparator.
    result = evaluate(domain_table(), patient(), [w(0, 82.0)], [w(-2, 80.0)], at(0, "12:00"))
    gains = {f.rule_id: f for f in result.findings}
    assert set(gains) == {"amber.weight_gain_3d", "amber.weight_gain_2d"}
    assert gains["amber.weight_gain_3d"].evidence == ("w-2@08:00", "w+0@08:00")
    assert gains["amber.weight_gain_3d"].observed_at == at(0)


def test_findings_from_history_alone_are_not_repeated() -> None:
    history = [w(-3, 80.0), w(-1, 83.0)]
    result = evaluate(domain_table(), patient(), history, [o2(0, 97)], at(0, "12:00"))
    assert result.findings == ()


def test_one_finding_per_rule_the_latest() -> None:
    batch = [o2(-2, 91), o2(-1, 90), o2(0, 89)]
    result = evaluate(domain_table(), patient(), [], batch, at(0, "12:00"))
    (finding,) = result.findings
    assert finding.summary == "SpO2 89 %"
    assert finding.observed_at == at(0, "08:06")


def test_readings_outside_the_window_or_in_the_future_are_ignored() -> None:
    config = domain_table()
    now = at(0, "12:00")
    old = o2(-61, 80)
    future = Reading("f", ReadingType.SPO2, now + timedelta(minutes=5), value=80)
    assert evaluate(config, patient(), [], [old, future], now).findings == ()
    # history older than the window never takes part either
    assert evaluate(config, patient(), [w(-70, 60.0)], [w(0, 80.0)], now).findings == ()


def test_unusable_readings_are_ignored_not_errors() -> None:
    now = at(0, "12:00")
    broken = [
        Reading("a", ReadingType.WEIGHT, at(0), value=None),
        Reading("b", ReadingType.WEIGHT, at(0), value=float("nan")),
        Reading("c", ReadingType.SPO2, at(0), value=-1),
        Reading("d", ReadingType.BLOOD_PRESSURE, at(0)),
        Reading("e", ReadingType.SYMPTOMS, at(0)),
    ]
    assert evaluate(domain_table(), patient(), broken, broken, now).findings == ()
    # a late reading re-judges the stored ones after it, but never an unusable one
    late = evaluate(domain_table(), patient(), [*broken, w(-2, 80.0)], [w(-1, 83.0)], now)
    assert {f.rule_id for f in late.findings} == {"amber.weight_gain_3d", "amber.weight_gain_2d"}


def test_duplicate_ids_in_one_batch_resolve_the_same_way_in_any_order() -> None:
    a = Reading("x", ReadingType.SPO2, at(0), value=97)
    b = Reading("x", ReadingType.SPO2, at(0), value=91)
    now = at(0, "12:00")
    first = evaluate(domain_table(), patient(), [], [a, b], now)
    second = evaluate(domain_table(), patient(), [], [b, a], now)
    assert first == second


def test_borderline_reading_asks_for_a_re_measure_then_confirms() -> None:
    config = default_pathway()
    first = evaluate(config, patient(), [], [o2(0, 94, "08:00")], at(0, "08:01"))
    assert first.findings == ()
    assert first.advice.code == "remeasure"
    second = evaluate(config, patient(), [o2(0, 94, "08:00")], [o2(0, 93, "08:30")], at(0, "09:00"))
    (finding,) = second.findings
    assert finding.rule_id == "amber.spo2"
    assert finding.evidence == ("o2+0@08:00", "o2+0@08:30")
    assert finding.summary == "SpO2 93 % (2 readings in a row)"
    assert second.advice.code == "amber_next_day"


def test_re_measure_must_also_be_borderline_and_close_in_time() -> None:
    config = default_pathway()
    ok_then_low = evaluate(config, patient(), [o2(-1, 97)], [o2(0, 94)], at(0, "09:00"))
    assert ok_then_low.findings == ()
    long_gap = evaluate(config, patient(), [o2(-4, 94)], [o2(0, 94)], at(0, "09:00"))
    assert long_gap.findings == ()
    first_ever = evaluate(config, patient(), [], [o2(0, 94)], at(0, "09:00"))
    assert first_ever.findings == ()


def test_red_is_never_held_back_for_a_re_measure() -> None:
    result = evaluate(default_pathway(), patient(), [], [o2(0, 92)], at(0, "09:00"))
    assert [f.rule_id for f in result.findings] == ["red.spo2"]
    assert result.advice.code == "red_same_day"


def test_findings_sorted_red_first() -> None:
    rows = [w(-3, 80.0), w(0, 82.0)]
    result = evaluate(
        domain_table(), patient(), rows, [sym(0, breathlessness="worse")], at(0, "09:00")
    )
    assert [f.level.value for f in result.findings] == ["red", "amber"]


def test_evaluate_reads_only_the_window_of_a_long_history() -> None:
    config = domain_table()
    long_history = [w(-d, 80.0) for d in range(1, 400)]
    short_history = [r for r in long_history if r.taken_at >= at(0) - config.history_window]
    new = [w(0, 82.5)]
    assert evaluate(config, patient(), long_history, new, at(0, "09:00")) == evaluate(
        config, patient(), short_history, new, at(0, "09:00")
    )


def test_duplicate_ids_in_the_history_resolve_by_a_fixed_order() -> None:
    a = Reading("x", ReadingType.WEIGHT, at(-3), value=80.0)
    b = Reading("x", ReadingType.WEIGHT, at(-3), value=79.0)
    now = at(0, "12:00")
    first = evaluate(domain_table(), patient(), [a, b], [w(0, 81.5)], now)
    second = evaluate(domain_table(), patient(), [b, a], [w(0, 81.5)], now)
    assert first == second


def test_naive_datetimes_are_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Reading("n", ReadingType.SPO2, at(0).replace(tzinfo=None), value=97)


def test_history_lookback_of_the_default_pathway() -> None:
    config = default_pathway()
    days = timedelta(days=1)
    # MACD's slow average reads 3 x 18 days of weight; a day more for clock changes. The
    # symptom score's personal baseline reads 7 + 42 days of questionnaires.
    assert history_lookback(config, [ReadingType.WEIGHT]) == {
        ReadingType.WEIGHT: 55 * days,
        ReadingType.SYMPTOMS: 50 * days,
    }
    assert history_lookback(config, {ReadingType.SPO2, ReadingType.POTASSIUM}) == {
        ReadingType.SPO2: 7 * days,
        ReadingType.POTASSIUM: config.history_window,
    }
    # ... and judging an answer reads pulse and SpO2 over the same baseline (mhf-2026.3).
    assert history_lookback(config, [ReadingType.SYMPTOMS]) == {
        ReadingType.SYMPTOMS: 50 * days,
        ReadingType.WEIGHT: 55 * days,
        ReadingType.HEART_RATE: 50 * days,
        ReadingType.SPO2: 50 * days,
    }
    assert history_lookback(config, [ReadingType.HEART_RATE])[ReadingType.HEART_RATE] == 7 * days
    assert history_lookback(config, []) == {}


def test_a_prepared_history_answers_as_the_plain_readings() -> None:
    config = domain_table()
    rows = [w(-d, 80.0) for d in range(1, 90)] + [o2(-1, 97), o2(-70, 97)]
    prepared = History(rows)
    for new, now in [
        ([w(0, 82.5)], at(0, "09:00")),
        ([o2(0, 91)], at(0, "09:00")),
        ([w(-1, 80.0)], at(0, "09:00")),  # re-sent: stored, so not new
        ([w(-80, 80.0)], at(-20, "09:00")),  # stored, but outside that window: new again
        ([w(-3, 83.0, "09:00")], at(0, "09:00")),  # late: the later stored weights re-judged
        ([w(-5, 77.0, "09:00")], at(-4, "09:00")),  # stored weights after `now` take no part
    ]:
        assert evaluate(config, patient(), prepared, new, now) == evaluate(
            config, patient(), rows, new, now
        )


def test_a_prepared_history_reads_laboratory_results_only_within_the_window() -> None:
    who = PatientContext(
        "t",
        Cohort.MEDICATION_OPTIMISATION,
        medication_changes=(MedicationChange(at(-5), DrugClass.ACEI_ARB_ARNI),),
    )
    # 62 days ago is outside the window: the rise is judged from the result of 20 days ago.
    rows = [
        Reading("c1", ReadingType.CREATININE, at(-62), value=50.0),
        Reading("c2", ReadingType.CREATININE, at(-20), value=100.0),
    ]
    new = [Reading("c3", ReadingType.CREATININE, at(-10), value=120.0)]
    plain = evaluate(domain_table(), who, rows, new, at(0, "09:00"))
    assert plain.findings == ()
    assert evaluate(domain_table(), who, History(rows), new, at(0, "09:00")) == plain


def test_a_prepared_history_with_a_shared_id_resolves_by_each_window() -> None:

    # The same id stored twice, once 70 days ago: only the window of each call decides.
    rows = [
        Reading("x", ReadingType.WEIGHT, at(-70), value=70.0),
        Reading("x", ReadingType.WEIGHT, at(-3), value=80.0),
    ]
    new = [w(0, 82.5)]
    for now in (at(0, "09:00"), at(-60, "09:00")):
        assert evaluate(domain_table(), patient(), History(rows), new, now) == evaluate(
            domain_table(), patient(), rows, new, now
        )
    assert evaluate(domain_table(), patient(), History(rows), new, at(0, "09:00")).findings
