"""Run one rule over a range of parameter values to draw its trade-off curve."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pathway.config import PathwayConfig
from pathway.evaluation.cohort import SyntheticPatient
from pathway.evaluation.metrics import Metrics, measure
from pathway.evaluation.replay import Alert, only, replay_patient


@dataclass(frozen=True, slots=True)
class SweepPoint:
    value: float
    metrics: Metrics


def run(config: PathwayConfig, patients: Sequence[SyntheticPatient]) -> list[Alert]:
    return [a for p in patients for a in replay_patient(config, p.context, p.readings)]


def sweep(
    config: PathwayConfig,
    patients: Sequence[SyntheticPatient],
    rule_id: str,
    setting: str,
    values: Sequence[float],
) -> list[SweepPoint]:
    """setting is "section.field", e.g. "moving_average.k_sd"; only rule_id runs."""
    section, _, name = setting.partition(".")
    events = [e for p in patients for e in p.events]
    days = sum(p.days for p in patients)
    points = []
    for value in values:
        tuned = only(config.with_overrides({section: {name: value}}), [rule_id])
        alerts = run(tuned, patients)
        points.append(SweepPoint(value, measure(f"{setting}={value:g}", alerts, events, days)))
    return points
