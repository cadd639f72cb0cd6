"""From pathway findings to alert actions: pure de-duplication, one open alert per patient and rule.

The service evaluates a patient's readings, maps each pathway finding to an ``IncomingFinding``
and loads the patient's unresolved alerts as ``OpenAlert`` keyed by ``rule_id``. ``plan`` then
returns at most one action per rule, sorted by ``rule_id``, which the service applies in the same
transaction through ``alerts.lifecycle``:

- no unresolved alert for the rule -> ``RaiseAlert`` (``lifecycle.raise_alert``);
- an unresolved alert and a worse finding -> ``RaiseSeverity`` (``lifecycle.raise_severity``),
  carrying any evidence not yet attached;
- an unresolved alert and new evidence at the same or a lower severity -> ``AttachEvidence``
  (``lifecycle.attach_evidence``); severity never goes down;
- nothing new -> no action, so re-evaluating the same readings is idempotent.

Several findings of one rule in a batch collapse into one: the worst severity, the union of
their evidence (sorted, de-duplicated) and the text of the most severe, latest finding. The plan
does not depend on the order of the findings.

Resolved alerts must not be passed in: a resolved alert never reopens, so a finding for its rule
starts a new episode, a new alert. Findings without evidence (e.g. missed readings) only raise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from alerts.lifecycle import Severity

__all__ = [
    "Action",
    "AttachEvidence",
    "IncomingFinding",
    "OpenAlert",
    "RaiseAlert",
    "RaiseSeverity",
    "plan",
]


@dataclass(frozen=True, slots=True)
class OpenAlert:
    """An unresolved alert of the patient, as far as de-duplication needs to know it."""

    alert_id: str
    rule_id: str
    severity: Severity
    evidence_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IncomingFinding:
    """One pathway finding, in the service's words; ``evidence_ids`` are reading ids."""

    rule_id: str
    severity: Severity
    pathway_version: str
    evidence_ids: tuple[str, ...]
    summary: str
    title: str
    observed_at: datetime


@dataclass(frozen=True, slots=True)
class RaiseAlert:
    finding: IncomingFinding


@dataclass(frozen=True, slots=True)
class AttachEvidence:
    alert_id: str
    new_evidence_ids: tuple[str, ...]
    # The finding is kept so the service can store it with the alert's findings.
    finding: IncomingFinding


@dataclass(frozen=True, slots=True)
class RaiseSeverity:
    alert_id: str
    from_severity: Severity
    to_severity: Severity
    finding: IncomingFinding
    new_evidence_ids: tuple[str, ...]


Action = RaiseAlert | AttachEvidence | RaiseSeverity


def plan(open_alerts: Mapping[str, OpenAlert], findings: Iterable[IncomingFinding]) -> list[Action]:
    """The actions that bring the patient's alerts in line with ``findings``, sorted by rule id."""
    for rule_id, alert in open_alerts.items():
        if alert.rule_id != rule_id:
            raise ValueError(f"open alert {alert.alert_id} is keyed by {rule_id!r}")
    by_rule: dict[str, list[IncomingFinding]] = {}
    for finding in findings:
        if finding.observed_at.tzinfo is None:
            raise ValueError(f"finding {finding.rule_id}: observed_at must be timezone-aware")
        by_rule.setdefault(finding.rule_id, []).append(finding)

    actions: list[Action] = []
    for rule_id in sorted(by_rule):
        merged = _merge(by_rule[rule_id])
        action = _action_for(open_alerts.get(rule_id), merged)
        if action is not None:
            actions.append(action)
    return actions


def _merge(findings: list[IncomingFinding]) -> IncomingFinding:
    # Every field takes part in the key so that equal-looking findings in any order pick the same
    # representative: the plan must not depend on the order the pathway happened to emit.
    lead = max(
        findings,
        key=lambda f: (
            f.severity.rank,
            f.observed_at,
            f.pathway_version,
            f.title,
            f.summary,
            f.evidence_ids,
        ),
    )
    evidence = tuple(sorted({ev for f in findings for ev in f.evidence_ids}))
    return replace(lead, evidence_ids=evidence)


def _action_for(alert: OpenAlert | None, finding: IncomingFinding) -> Action | None:
    if alert is None:
        return RaiseAlert(finding)
    attached = set(alert.evidence_ids)
    new_evidence = tuple(ev for ev in finding.evidence_ids if ev not in attached)
    if finding.severity > alert.severity:
        return RaiseSeverity(
            alert.alert_id, alert.severity, finding.severity, finding, new_evidence
        )
    if new_evidence:
        return AttachEvidence(alert.alert_id, new_evidence, finding)
    return None
