"""Replay readings day by day and raise alerts the way the live service does.

A day's readings arrive together, after the last of them, as the app sends them; they are
judged with every earlier reading as history, as the service judges a posted batch. The
findings then go through ``pathway.alert_policy``, the policy the live service follows: one
open alert per patient and clinical problem, resolved at its response time (the site's
``ResponsePolicy``), and the next finding after that a new alert. The counts are the team's
workload, and ``tests/service/test_replay_is_live.py`` holds the replay to the live service.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from pathway.alert_policy import OpenAlerts, problem_of
from pathway.catalogue import RULES
from pathway.config import PathwayConfig
from pathway.engine import judge
from pathway.history import usable
from pathway.model import Finding, Level, PatientContext, Reading
from pathway.response import ResponsePolicy, due_at
from pathway.window import Window, london_day, order_key

DEFAULT_POLICY = ResponsePolicy()


@dataclass(frozen=True, slots=True)
class Alert:
    patient_id: str
    rule_id: str
    level: Level
    raised_at: datetime
    pathway_version: str

    @property
    def problem(self) -> str:
        return problem_of(self.rule_id)


@dataclass(frozen=True, slots=True)
class Arrival:
    """One batch of readings as the service receives it, and what the pathway found in it."""

    at: datetime
    findings: tuple[Finding, ...]


def only(config: PathwayConfig, rule_ids: Iterable[str]) -> PathwayConfig:
    """The same pathway with every other rule off; for evaluation only (skips validation,
    which would refuse to switch red rules off)."""
    keep = frozenset(rule_ids)
    return dataclasses.replace(config, disabled=frozenset(RULES) - keep)


def arrivals(
    config: PathwayConfig, patient: PatientContext, readings: Sequence[Reading]
) -> list[Arrival]:
    """The patient's days that produced findings, each judged as the service judges a batch."""
    window = Window()
    out: list[Arrival] = []
    ordered = sorted((r for r in readings if usable(r)), key=order_key)
    days = [london_day(r.taken_at) for r in ordered]
    thresholds = config.thresholds_for(patient)
    i = 0
    while i < len(ordered):
        day = days[i]
        batch = []
        while i < len(ordered) and days[i] == day:
            batch.append(ordered[i])
            window.append(ordered[i], day)
            i += 1
        findings = judge(config, patient, window, batch, thresholds=thresholds)
        if findings:
            out.append(Arrival(batch[-1].taken_at, findings))
    return out


def alerts_from(
    patient_id: str,
    days: Iterable[Arrival],
    policy: ResponsePolicy = DEFAULT_POLICY,
    keep: Callable[[str], bool] | None = None,
) -> list[Alert]:
    """The alerts the live service raises from these arrivals (only rules ``keep`` accepts)."""
    book = OpenAlerts(lambda level, at: due_at(at, level, policy))
    alerts = []
    for arrival in days:
        findings = [f for f in arrival.findings if keep is None or keep(f.rule_id)]
        for raised in book.offer(findings, arrival.at):
            lead = raised.finding
            alerts.append(
                Alert(patient_id, lead.rule_id, lead.level, raised.raised_at, lead.pathway_version)
            )
    return alerts


def replay_patient(
    config: PathwayConfig,
    patient: PatientContext,
    readings: Sequence[Reading],
    policy: ResponsePolicy = DEFAULT_POLICY,
) -> list[Alert]:
    return alerts_from(patient.patient_id, arrivals(config, patient, readings), policy)
