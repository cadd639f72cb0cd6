"""Replay readings day by day and raise alerts the way the live service does.

One open alert per patient and rule; the team closes each alert at its response time; a rule
still firing in the same episode raises a new alert only once `config.quiet_period` has passed
since the last one. An episode ends when a reading the rule judges arrives and the rule does not
fire (missing days do not end it). The counts are the team's workload.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from pathway.catalogue import RULES
from pathway.config import PathwayConfig
from pathway.engine import judge
from pathway.history import usable
from pathway.model import Finding, Level, PatientContext, Reading
from pathway.response import response_due
from pathway.window import Window, london_day, order_key


@dataclass(frozen=True, slots=True)
class Alert:
    patient_id: str
    rule_id: str
    level: Level
    raised_at: datetime


@dataclass(slots=True)
class _RuleState:
    open_until: datetime | None = None
    last_raised: datetime | None = None
    in_episode: bool = False


def only(config: PathwayConfig, rule_ids: Iterable[str]) -> PathwayConfig:
    """The same pathway with every other rule off; for evaluation only (skips validation,
    which would refuse to switch red rules off)."""
    keep = frozenset(rule_ids)
    return dataclasses.replace(config, disabled=frozenset(RULES) - keep)


def replay_patient(
    config: PathwayConfig,
    patient: PatientContext,
    readings: Sequence[Reading],
) -> list[Alert]:
    window = Window()
    state: dict[str, _RuleState] = {}
    alerts: list[Alert] = []
    ordered = sorted((r for r in readings if usable(r)), key=order_key)
    days = [london_day(r.taken_at) for r in ordered]
    thresholds = config.thresholds_for(patient)
    i = 0
    while i < len(ordered):
        # A day's readings arrive together, as the app sends them.
        day = days[i]
        batch = []
        while i < len(ordered) and days[i] == day:
            batch.append(ordered[i])
            window.append(ordered[i], day)
            i += 1
        findings = judge(config, patient, window, batch, thresholds=thresholds)
        fired = {f.rule_id for f in findings}
        for finding in findings:
            alert = _raise(config, state, finding, patient.patient_id)
            if alert is not None:
                alerts.append(alert)
        kinds = {r.type for r in batch}
        for rule_id, rule_state in state.items():
            if rule_id not in fired and not kinds.isdisjoint(RULES[rule_id].inputs):
                rule_state.in_episode = False
    return alerts


def _raise(
    config: PathwayConfig,
    states: dict[str, _RuleState],
    finding: Finding,
    patient_id: str,
) -> Alert | None:
    s = states.setdefault(finding.rule_id, _RuleState())
    now = finding.observed_at
    same_episode = s.in_episode
    s.in_episode = True
    if s.open_until is not None and now < s.open_until:
        return None
    if same_episode and s.last_raised is not None and now - s.last_raised < config.quiet_period:
        return None
    s.open_until = response_due(config, finding.level, now)
    s.last_raised = now
    return Alert(patient_id, finding.rule_id, finding.level, now)
