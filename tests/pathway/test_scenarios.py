"""The scenario matrix: named cohort models, their confounders, the matrix, its bootstrap."""

from __future__ import annotations

import dataclasses
import itertools
import json
import statistics
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pathway import Finding, Level, ReadingType, default_pathway
from pathway.evaluation import matrix
from pathway.evaluation.cohort import CohortParams, patient
from pathway.evaluation.metrics import Metrics
from pathway.evaluation.replay import Arrival
from pathway.evaluation.scenarios import SCENARIOS, named
from pathway.evaluation.seeds import HELD_OUT_SEEDS, TUNING_SEEDS, check_tuning
from pathway.evaluation.tuning import judge_candidate, record
from pathway.rules.symptom_score import signs
from pathway.units import KG_PER_LB

L = ZoneInfo("Europe/London")
RECORD = Path(__file__).resolve().parents[2] / "pathway" / "evaluation" / "tuning-record.json"


def test_at_least_eight_named_scenarios_with_valid_parameters() -> None:
    assert len(SCENARIOS) >= 8
    for name in (
        "literature-central",
        "noisy-symptoms",
        "small-gains",
        "low-adherence",
        "scale-swap",
        "under-reporters",
        "high-risk-post-discharge",
        "frail-low-signal",
    ):
        params = SCENARIOS[name].params(10, 30, 5)
        assert (params.stream, params.patients, params.days, params.seed) == (name, 10, 30, 5)
    assert [s.name for s in named("all")] == list(SCENARIOS)
    assert named("small-gains") == [SCENARIOS["small-gains"]]
    with pytest.raises(KeyError, match="unknown scenario"):
        named("easy")


def test_scenarios_sharing_a_seed_draw_different_patients() -> None:
    a = patient(SCENARIOS["literature-central"].params(2, 60, 1), 0)
    b = patient(SCENARIOS["under-reporters"].params(2, 60, 1), 0)
    assert a.context.patient_id != b.context.patient_id
    assert a.readings != b.readings
    assert patient(CohortParams(patients=2, days=60), 0).context.patient_id == "syn-1-00000"


def _weights(p: object) -> list[float]:
    return [r.value for r in p.readings if r.type is ReadingType.WEIGHT and r.value]  # type: ignore[attr-defined]


def test_confounders_appear_in_the_readings() -> None:
    params = dataclasses.replace(
        SCENARIOS["scale-swap"].params(80, 120, 11),
        late_share=1.0,
        evening_share=0.5,
        lb_share=0.4,
        st_share=0.4,
    )
    people = [patient(params, i) for i in range(80)]
    hours = [r.taken_at.astimezone(L).hour for p in people for r in p.readings]
    assert any(h >= 19 for h in hours) and any(h < 10 for h in hours)
    steps = {0.1: 0, KG_PER_LB * 0.2: 0, KG_PER_LB: 0}
    for p in people:
        ws = _weights(p)
        for step in steps:
            if all(abs(v / step - round(v / step)) < 0.01 for v in ws):
                steps[step] += 1
    assert all(count > 0 for count in steps.values())
    assert sum(bool(p.late) for p in people) > 60
    for p in people:
        for first, last, arrival in p.late:
            assert first <= last < arrival.date()


def test_symptom_answer_rates_of_stable_patients_match_issue_15() -> None:
    params = dataclasses.replace(
        CohortParams(patients=150, days=120, seed=4, stream="rates"),
        event_rate=(0.0001, 0.0001),
        spells_per_year=0,
        over_reporter_share=0.0,
        under_reporter_share=0.0,
    )
    answers = [
        signs(r)
        for i in range(150)
        for r in patient(params, i).readings
        if r.type is ReadingType.SYMPTOMS
    ]
    rate = [statistics.mean(a[k] for a in answers) for k in range(5)]
    assert 0.015 <= rate[2] <= 0.025  # ankles more swollen, about 2 %
    assert 0.015 <= rate[3] <= 0.025  # dizzy, about 2 %
    assert 0.006 <= rate[1] <= 0.014  # breathless lying flat, about 1 %


def test_over_and_under_reporters() -> None:
    base = CohortParams(patients=40, days=120, seed=6, stream="reporters", event_rate=(2, 3))
    over = dataclasses.replace(base, over_reporter_share=1.0, under_reporter_share=0.0)
    under = dataclasses.replace(base, under_reporter_share=1.0)

    def worse(params: CohortParams) -> float:
        return statistics.mean(
            any(signs(r))
            for i in range(40)
            for r in patient(params, i).readings
            if r.type is ReadingType.SYMPTOMS
        )

    assert worse(over) > 2 * worse(under)


def test_zhang_weight_change_before_admission() -> None:
    """Mean change over the 14 days before a heart-failure admission near Zhang 2009's +0.9 kg
    (literature-central; the ramp share is the assumption)."""
    params = SCENARIOS["literature-central"].params(200, 365, 8)
    changes = []
    for i in range(200):
        p = patient(params, i)
        by_day = {r.taken_at.date(): r.value for r in p.readings if r.type is ReadingType.WEIGHT}
        for e in p.events:
            first = [by_day.get(e.day - timedelta(days=k)) for k in (15, 14, 13)]
            last = [by_day.get(e.day - timedelta(days=k)) for k in (1, 2)]
            a = next((v for v in first if v), None)
            b = next((v for v in last if v), None)
            if a and b:
                changes.append(b - a)
    assert 0.5 <= statistics.mean(changes) <= 1.8
    assert statistics.stdev(changes) >= 1.0


def test_a_scale_change_is_a_lasting_step() -> None:
    params = dataclasses.replace(
        CohortParams(patients=30, days=90, seed=9, stream="step"),
        scale_swap_share=1.0,
        scale_step_sd_kg=5.0,
        event_rate=(0.0001, 0.0001),
        dietary_per_year=0,
    )
    jumps = []
    for i in range(30):
        ws = _weights(patient(params, i))
        jumps.append(max(abs(b - a) for a, b in itertools.pairwise(ws)))
    assert max(jumps) > 4


def _arrival(day: int, *rules: str, level: Level = Level.AMBER) -> Arrival:
    at = datetime(2026, 1, day, 9, tzinfo=L)
    return Arrival(
        at,
        tuple(
            Finding(r, level, "v", (f"{r}@{day}",), "", "", observed_at=at)
            for r in rules or ("amber.spo2",)
        ),
    )


def test_readings_sent_late_are_judged_on_arrival_as_one_batch() -> None:
    arrival = datetime(2026, 1, 8, 6, tzinfo=L)
    late = [(date(2026, 1, 5), date(2026, 1, 7), arrival)]
    found = [
        _arrival(4),
        _arrival(5, "red.spo2", level=Level.RED),
        _arrival(6, "amber.spo2", "trend.macd"),
        _arrival(9),
    ]
    out = matrix.late_arrivals(found, late)
    assert [a.at for a in out] == [found[0].at, arrival, found[3].at]
    batch = out[1].findings
    # red first; each rule's latest finding
    assert [(f.rule_id, f.evidence) for f in batch] == [
        ("red.spo2", ("red.spo2@5",)),
        ("amber.spo2", ("amber.spo2@6",)),
        ("trend.macd", ("trend.macd@6",)),
    ]
    assert matrix.late_arrivals(found, []) == found


def _result(events: int, detected: int, false: int, days: int = 365) -> matrix.PatientResult:
    return matrix.PatientResult(days, events, (detected, 0), (detected + false, 1), (false, 1), ())


def test_summary_worst_median_and_floor() -> None:
    good = [_result(1, 1, 0), _result(1, 1, 1), _result(0, 0, 0)]
    bad = [_result(1, 0, 3), _result(1, 1, 2)]
    summary = matrix.summarise({"a": good, "b": good, "c": bad}, resamples=200, seed=1)
    assert summary.worst_sensitivity[:2] == ("c", 0.5)
    assert summary.worst_false[0] == "c"
    assert summary.worst_false[1] == pytest.approx(5 / (730 / 365.25))
    assert summary.median_sensitivity[0] == 1.0
    assert summary.median_false[0] == pytest.approx(1 / (1095 / 365.25))
    lo, hi = summary.worst_sensitivity[2:]
    assert 0 <= lo <= 0.5 <= hi <= 1
    assert summary.meets_floor() is False
    assert matrix.summarise({"a": good, "b": good}, resamples=50, seed=1).meets_floor() is True
    again = matrix.summarise({"a": good, "b": good, "c": bad}, resamples=200, seed=1)
    assert again == summary
    empty = matrix.summarise({"e": [_result(0, 0, 0, days=0)]}, resamples=5)
    assert (empty.worst_sensitivity[1], empty.worst_false[1]) == (0.0, 0.0)


def test_rows_workload_and_table() -> None:
    results = [_result(1, 1, 0, days=700), _result(1, 0, 1, days=700)]
    row = matrix.row("x", results)
    assert row.default.events == 2 and row.default.detected == 1
    assert row.thumb.false_alerts == 2
    # 2 alerts over 200 patient-weeks
    assert row.alerts_per_100_per_week() == pytest.approx(1.0)
    assert row.nurse_hours_per_100_per_week(30) == pytest.approx(0.5)
    assert row.beats_thumb() is True
    worse = matrix.Row("y", row.thumb, row.default)
    assert worse.beats_thumb() is False
    summary = matrix.summarise({"x": results}, resamples=20)
    text = matrix.table([row, worse], summary, minutes=30)
    lines = text.splitlines()
    assert lines[0].startswith("scenario")
    assert lines[1].split()[0] == "x" and lines[1].endswith("yes")
    assert lines[2].endswith("NO")
    assert "nurse time at 30 minutes per alert" in text
    assert text.endswith("NOT MET")
    no_warning = matrix.Row("z", Metrics("z", 0, 0, 0, 0, 7, ()), row.thumb)
    assert " - " in matrix.table([no_warning], summary)


def test_a_small_matrix_end_to_end() -> None:
    config = default_pathway()
    jobs = matrix.jobs(config, named("all")[:2], 6, 120, TUNING_SEEDS[0], chunk=4)
    assert len(jobs) == 4
    results: dict[str, list[matrix.PatientResult]] = {}
    for job in jobs:
        results.setdefault(job[1].name, []).extend(matrix.run_chunk(job))
    assert [len(v) for v in results.values()] == [6, 6]
    assert matrix.events_of([patient(SCENARIOS["small-gains"].params(3, 120, 1), 0)]) is not None


def test_tuning_refuses_held_out_seeds_and_records_its_own() -> None:
    assert set(TUNING_SEEDS).isdisjoint(HELD_OUT_SEEDS)
    with pytest.raises(ValueError, match="held-out"):
        check_tuning((TUNING_SEEDS[0], HELD_OUT_SEEDS[0]))
    with pytest.raises(ValueError, match="held-out"):
        judge_candidate(default_pathway(), named("all")[:1], 2, 30, HELD_OUT_SEEDS)
    rows, summary = judge_candidate(default_pathway(), named("all")[:1], 3, 60, (TUNING_SEEDS[0],))
    assert rows[0].scenario == "literature-central"
    out = record((1,), 3, 60, {"default": {}}, "default", {"default": summary})
    assert out["seeds"] == [1]
    assert json.loads(json.dumps(out))["chosen"] == "default"


def test_the_committed_tuning_record_used_no_held_out_seed() -> None:
    runs = json.loads(RECORD.read_text(encoding="utf-8"))
    assert runs, "the tuning record must list the runs that chose the default"
    used = {seed for run in runs for seed in run["seeds"]}
    assert used <= set(TUNING_SEEDS)
    assert used.isdisjoint(HELD_OUT_SEEDS)
