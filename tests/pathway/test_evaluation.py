"""The evaluation toolkit: generator calibration, replay semantics, metrics, sweep, SVG."""

from __future__ import annotations

import statistics
import xml.etree.ElementTree as ET
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pathway import Level, Reading, ReadingType, default_pathway
from pathway.evaluation import cohort as synthetic
from pathway.evaluation.cohort import CohortParams, Event
from pathway.evaluation.metrics import measure
from pathway.evaluation.replay import Alert, only, replay_patient
from pathway.evaluation.report import compare, every_rule, merge, replay_both, rule_of_thumb, table
from pathway.evaluation.svg import trade_off
from pathway.evaluation.sweep import sweep
from service.pathway.cli import _chunks, _synthetic_chunk
from tests.pathway.tables import at, o2, patient, w

L = ZoneInfo("Europe/London")
SMALL = CohortParams(patients=40, days=365, seed=7)


@pytest.fixture(scope="module")
def small() -> list[synthetic.SyntheticPatient]:
    return synthetic.cohort(SMALL)


def test_generator_is_reproducible(small: list[synthetic.SyntheticPatient]) -> None:
    again = synthetic.patient(SMALL, 3)
    assert again == small[3]
    assert synthetic.patient(CohortParams(seed=8), 3).readings != small[3].readings


def test_generator_is_calibrated_to_the_domain_reference(
    small: list[synthetic.SyntheticPatient],
) -> None:
    years = len(small) * SMALL.days / 365.25
    events = sum(len(p.events) for p in small)
    assert 0.25 <= events / years <= 0.7
    weight_days = [
        len({r.taken_at.date() for r in p.readings if r.type is ReadingType.WEIGHT}) for p in small
    ]
    assert 0.45 <= statistics.mean(weight_days) / SMALL.days <= 0.8
    ramps = [flag for p in small for flag in p.ramp]
    assert 0.25 <= sum(ramps) / len(ramps) <= 0.75
    for p in small:
        for r in p.readings:
            assert r.taken_at.tzinfo is not None


def test_day_to_day_weight_noise_is_in_the_reference_range() -> None:
    params = CohortParams(patients=30, days=120, seed=3, event_rate=(0.0001, 0.0001))
    diffs = []
    for p in synthetic.cohort(params):
        weights = {r.taken_at.date(): r.value for r in p.readings if r.type is ReadingType.WEIGHT}
        for day, kg in weights.items():
            nxt = weights.get(day + timedelta(days=1))
            if nxt is not None and kg is not None:
                diffs.append(nxt - kg)
    # consecutive-day differences have SD about sqrt(2) x noise SD (0.35-0.5) plus a little cycle
    assert 0.45 <= statistics.pstdev(diffs) <= 0.8


def test_replay_one_open_alert_per_problem_resolved_at_its_response_time() -> None:
    config = only(
        default_pathway().with_overrides({"confirm": {"amber.spo2": 1}}), ["amber.spo2", "red.spo2"]
    )
    # Amber SpO2 every day from Monday 2 March: an alert is open until the end of the next
    # working day, and the first reading after that raises again (no quiet period).
    rows = [o2(d, 94) for d in range(10)]
    alerts = replay_patient(config, patient(), rows)
    assert [a.raised_at for a in alerts] == [at(d, "08:06") for d in (0, 2, 4, 8)]
    assert {(a.rule_id, a.problem, a.pathway_version) for a in alerts} == {
        ("amber.spo2", "spo2", config.version)
    }
    # Friday's amber is due Monday 18:00; Saturday's red joins it, and makes it due as a red
    # raised then would be (Monday 12:00): Monday 13:00's amber is a new alert.
    rows = [o2(4, 94), o2(5, 91), o2(7, 94, "13:00")]
    alerts = replay_patient(config, patient(), rows)
    assert [(a.raised_at, a.rule_id) for a in alerts] == [
        (at(4, "08:06"), "amber.spo2"),
        (at(7, "13:00"), "amber.spo2"),
    ]
    # A day's readings arrive together: the alert is raised after the last of them, and the
    # most severe finding speaks for it.
    rows = [o2(0, 91, "08:00"), o2(0, 94, "09:00"), w(0, 80.0, "09:30")]
    alerts = replay_patient(config, patient(), rows)
    assert [(a.raised_at, a.rule_id, a.level) for a in alerts] == [
        (at(0, "09:30"), "red.spo2", Level.RED)
    ]


def test_one_judging_gives_every_rule_set(small: list[synthetic.SyntheticPatient]) -> None:
    """replay_both judges once with every rule on and picks each rule set's findings from
    that; a rule whose findings depended on which other rules are on would break this."""
    config = default_pathway()
    few = small[:8]
    replayed = replay_both(config, ((p.context, p.readings) for p in few))
    assert replayed.default == [
        a for p in few for a in replay_patient(config, p.context, p.readings)
    ]
    assert replayed.alone
    for rule_id, alerts in replayed.alone.items():
        alone = only(every_rule(config), [rule_id])
        assert alerts == [a for p in few for a in replay_patient(alone, p.context, p.readings)]


def test_metrics_on_a_hand_made_case() -> None:
    def alert(day: int) -> Alert:
        return Alert("p", "amber.spo2", Level.AMBER, datetime(2026, 1, day, 9, tzinfo=L), "v")

    events = [
        Event("p", date(2026, 1, 20)),
        Event("p", date(2026, 1, 28)),
        Event("q", date(2026, 1, 5)),
    ]
    alerts = [
        alert(1),
        alert(6),
        alert(14),
        alert(20),
        Alert("r", "x", Level.RED, alert(1).raised_at, "v"),
    ]
    m = measure("x", alerts, events, patient_days=365, rule_ids=["amber.spo2"])
    # day 1: no event within 14 days (false); day 6 -> event 20 (14 days, true);
    # day 14 -> 20 and 28; day 20 -> 20 (same day) and 28
    assert (m.events, m.detected, m.alerts, m.false_alerts) == (3, 2, 4, 1)
    assert m.sensitivity == pytest.approx(2 / 3)
    assert m.false_per_patient_year == pytest.approx(365.25 / 365)
    assert m.burden_per_100_days == pytest.approx(400 / 365)
    assert m.median_warning_days == pytest.approx((14 + 14) / 2)
    empty = measure("none", [], [], 0)
    assert (empty.sensitivity, empty.false_per_patient_year, empty.burden_per_100_days) == (0, 0, 0)
    assert empty.median_warning_days is None


def test_compare_table_and_rule_of_thumb(small: list[synthetic.SyntheticPatient]) -> None:
    config = default_pathway()
    replayed = replay_both(config, ((p.context, p.readings) for p in small))
    events = [e for p in small for e in p.events]
    rows = compare(config, replayed, events, sum(p.days for p in small))
    assert rows[0].name == "default pathway"
    assert rows[1].name.startswith("rule of thumb")
    assert {a.rule_id for a in replayed.thumb} <= {"amber.weight_gain_3d"}
    # The default groups its rules by problem: not more alerts than its rules alone here.
    enabled = [r for r in replayed.alone if config.enabled(r)]
    assert 0 < len(replayed.default) <= sum(len(replayed.alone[r]) for r in enabled)
    assert table(rows).splitlines()[0].startswith("rule set")
    text = table(rows, {"data": "test"})
    assert text.splitlines()[0] == "data: test"
    assert "(off in default)" in text
    assert rule_of_thumb(config).confirm == {}
    assert "amber.missed_weight" in every_rule(config).disabled


def test_sweep_and_svg(small: list[synthetic.SyntheticPatient]) -> None:
    points = sweep(
        default_pathway(), small[:15], "trend.moving_average", "moving_average.k_sd", [2, 3]
    )
    assert [p.value for p in points] == [2, 3]
    assert points[0].metrics.alerts >= points[1].metrics.alerts
    svg = trade_off(
        {"moving average": [(f"{p.value:g}", p.metrics) for p in points]},
        marks=[points[0].metrics],
    )
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert "moving average" in svg


def test_replay_ignores_unusable_readings() -> None:
    rows = [Reading("x", ReadingType.WEIGHT, at(0), value=None), w(1, 80.0)]
    assert replay_patient(default_pathway(), patient(), rows) == []


def _evaluate_cohort(patients: int, workers: int, seed: int = 1) -> list:  # type: ignore[type-arg]

    config = default_pathway()
    params = CohortParams(patients=patients, days=365, seed=seed)
    jobs = _chunks(params, config, workers)
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            parts = list(pool.map(_synthetic_chunk, jobs))
    else:
        parts = [_synthetic_chunk(job) for job in jobs]
    replayed = merge(p[0] for p in parts)
    events = [e for p in parts for e in p[1]]
    return compare(config, replayed, events, sum(p[2] for p in parts))


def test_two_hundred_patient_year_cohort() -> None:
    """The default finds far more events than the rule of thumb within a workable alert
    budget (the scenario matrix, `make slow`, is the real test; tuning seed 1)."""
    default, thumb, *_ = _evaluate_cohort(200, 2)
    assert default.events > 50
    assert default.sensitivity > 1.5 * thumb.sensitivity
    assert default.sensitivity >= 0.35
    assert default.false_per_patient_year <= 2.0
