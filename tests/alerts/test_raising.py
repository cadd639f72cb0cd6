"""De-duplication of findings into alerts: one open alert per patient and rule."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alerts.lifecycle import Severity
from alerts.raising import (
    AttachEvidence,
    IncomingFinding,
    OpenAlert,
    RaiseAlert,
    RaiseSeverity,
    plan,
)

AMBER, RED = Severity.AMBER, Severity.RED
T0 = datetime(2026, 11, 20, 7, 45, tzinfo=UTC)


def finding(
    rule: str, severity: Severity, *evidence: str, minutes: int = 0, version: str = "2026.1"
) -> IncomingFinding:
    return IncomingFinding(
        rule_id=rule,
        severity=severity,
        pathway_version=version,
        evidence_ids=evidence,
        summary=f"{rule} summary",
        title=f"{rule} title",
        observed_at=T0 + timedelta(minutes=minutes),
    )


def open_alert(rule: str, severity: Severity, *evidence: str) -> OpenAlert:
    return OpenAlert(
        alert_id=f"alert-{rule}", rule_id=rule, severity=severity, evidence_ids=evidence
    )


def keyed(*alerts: OpenAlert) -> dict[str, OpenAlert]:
    return {a.rule_id: a for a in alerts}


def test_no_open_alert_raises_one() -> None:
    f = finding("weight_gain_3d", AMBER, "r1", "r2")
    assert plan({}, [f]) == [RaiseAlert(f)]


def test_same_rule_with_new_evidence_attaches_only_the_new_ids() -> None:
    f = finding("weight_gain_3d", AMBER, "r1", "r2", "r3")
    existing = open_alert("weight_gain_3d", AMBER, "r1", "r2")
    assert plan(keyed(existing), [f]) == [AttachEvidence("alert-weight_gain_3d", ("r3",), f)]


def test_same_rule_with_nothing_new_does_nothing() -> None:
    f = finding("weight_gain_3d", AMBER, "r2", "r1")
    assert plan(keyed(open_alert("weight_gain_3d", AMBER, "r1", "r2")), [f]) == []


def test_finding_without_evidence_on_an_open_alert_does_nothing() -> None:
    # Missed readings: one alert per gap, however often the job runs.
    f = finding("missed_weight", AMBER)
    assert plan(keyed(open_alert("missed_weight", AMBER)), [f]) == []
    assert plan({}, [f]) == [RaiseAlert(f)]


def test_worse_finding_raises_severity_and_carries_new_evidence() -> None:
    f = finding("spo2", RED, "r1", "r5")
    existing = open_alert("spo2", AMBER, "r1")
    assert plan(keyed(existing), [f]) == [RaiseSeverity("alert-spo2", AMBER, RED, f, ("r5",))]


def test_worse_finding_raises_severity_even_without_new_evidence() -> None:
    f = finding("spo2", RED, "r1")
    [action] = plan(keyed(open_alert("spo2", AMBER, "r1")), [f])
    assert action == RaiseSeverity("alert-spo2", AMBER, RED, f, ())


def test_milder_finding_never_lowers_severity_but_attaches_evidence() -> None:
    f = finding("spo2", AMBER, "r1", "r9")
    existing = open_alert("spo2", RED, "r1")
    assert plan(keyed(existing), [f]) == [AttachEvidence("alert-spo2", ("r9",), f)]


def test_findings_of_one_rule_in_a_batch_collapse_into_one_action() -> None:
    amber = finding("hr", AMBER, "r2", "r1", minutes=0)
    red = finding("hr", RED, "r3", minutes=5)
    amber_later = finding("hr", AMBER, "r4", "r1", minutes=9)
    [action] = plan({}, [amber, red, amber_later])
    assert action == RaiseAlert(replace(red, evidence_ids=("r1", "r2", "r3", "r4")))


def test_collapsed_batch_against_an_open_alert() -> None:
    a = finding("hr", AMBER, "r1", "r2")
    b = finding("hr", AMBER, "r2", "r3", minutes=1)
    [action] = plan(keyed(open_alert("hr", AMBER, "r1")), [a, b])
    assert action == AttachEvidence(
        "alert-hr", ("r2", "r3"), replace(b, evidence_ids=("r1", "r2", "r3"))
    )


def test_ties_pick_the_latest_finding_text() -> None:
    early = finding("hr", AMBER, "r1", minutes=0)
    late = replace(finding("hr", AMBER, "r2", minutes=3), summary="newer")
    [action] = plan({}, [late, early])
    assert isinstance(action, RaiseAlert)
    assert action.finding.summary == "newer"


def test_several_rules_each_get_their_own_action_sorted_by_rule() -> None:
    findings = [
        finding("weight_gain_3d", AMBER, "w1"),
        finding("chest_pain", RED, "s1"),
        finding("bp_low", RED, "b2"),
        finding("hr", AMBER, "h1"),
    ]
    alerts = keyed(open_alert("bp_low", AMBER, "b1"), open_alert("hr", AMBER, "h1"))
    actions = plan(alerts, findings)
    assert [type(a) for a in actions] == [RaiseSeverity, RaiseAlert, RaiseAlert]
    assert [a.finding.rule_id for a in actions] == ["bp_low", "chest_pain", "weight_gain_3d"]


def test_open_alerts_of_other_rules_are_left_alone() -> None:
    assert plan(keyed(open_alert("hr", RED, "h1")), []) == []


def test_mis_keyed_open_alerts_are_refused() -> None:
    with pytest.raises(ValueError, match="keyed"):
        plan({"hr": open_alert("spo2", AMBER)}, [])


def test_naive_observation_time_is_refused() -> None:
    naive = replace(finding("hr", AMBER), observed_at=datetime(2026, 11, 20, 7, 45))
    with pytest.raises(ValueError, match="aware"):
        plan({}, [naive])


RULES = ["bp_low", "hr", "spo2"]
findings_strategy = st.lists(
    st.builds(
        finding,
        st.sampled_from(RULES),
        st.sampled_from(list(Severity)),
        st.sampled_from(["r1", "r2", "r3"]),
        minutes=st.integers(0, 3),
    ),
    max_size=8,
)
open_alerts_strategy = st.dictionaries(
    st.sampled_from(RULES),
    st.tuples(st.sampled_from(list(Severity)), st.sets(st.sampled_from(["r1", "r2"]))),
).map(
    lambda d: {
        rule: OpenAlert(f"alert-{rule}", rule, severity, tuple(sorted(ev)))
        for rule, (severity, ev) in d.items()
    }
)


@given(open_alerts_strategy, findings_strategy, st.randoms())
def test_plan_properties(
    alerts: dict[str, OpenAlert], findings: list[IncomingFinding], rnd: random.Random
) -> None:
    actions = plan(alerts, findings)
    shuffled = list(findings)
    rnd.shuffle(shuffled)
    assert plan(alerts, shuffled) == actions, "order of findings must not matter"
    rules = [a.finding.rule_id for a in actions]
    assert rules == sorted(set(rules)), "one action per rule, sorted"
    for action in actions:
        rule = action.finding.rule_id
        batch = [f for f in findings if f.rule_id == rule]
        worst = max(f.severity for f in batch)
        assert action.finding.severity == worst
        if isinstance(action, RaiseAlert):
            assert rule not in alerts
        elif isinstance(action, RaiseSeverity):
            assert action.from_severity < action.to_severity == worst
            assert not set(action.new_evidence_ids) & set(alerts[rule].evidence_ids)
        else:
            assert worst <= alerts[rule].severity
            assert action.new_evidence_ids
            assert not set(action.new_evidence_ids) & set(alerts[rule].evidence_ids)
    # Applying the plan and planning again changes nothing: re-evaluation is idempotent.
    after = dict(alerts)
    for action in actions:
        rule = action.finding.rule_id
        after[rule] = OpenAlert(
            f"alert-{rule}",
            rule,
            max([action.finding.severity, *([after[rule].severity] if rule in after else [])]),
            tuple(
                sorted(
                    {
                        *action.finding.evidence_ids,
                        *(after[rule].evidence_ids if rule in after else ()),
                    }
                )
            ),
        )
    assert plan(after, findings) == []
