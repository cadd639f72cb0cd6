"""Run one rule over a range of parameter values to draw its trade-off curve."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pathway.config import PathwayConfig
from pathway.evaluation.cohort import SyntheticPatient
from pathway.evaluation.metrics import Metrics, measure
from pathway.evaluation.replay import DEFAULT_POLICY, Alert, only, replay_patient
from pathway.evaluation.report import RULE_OF_THUMB, rule_of_thumb
from pathway.model import PatientContext, Reading
from pathway.response import ResponsePolicy

# Each detector's main parameter: curve name -> (rule, "section.field", values swept).
SWEEPS: dict[str, tuple[str, str, tuple[float, ...]]] = {
    "rule of thumb: gain kg in 3 days": (
        RULE_OF_THUMB,
        "weight.gain_3d_kg",
        (1.0, 1.5, 2.0, 2.5, 3.0),
    ),
    "moving average: k x SD": (
        "trend.moving_average",
        "moving_average.k_sd",
        (1.5, 2.0, 2.5, 3.0, 4.0),
    ),
    "MACD: threshold kg": ("trend.macd", "macd.threshold_kg", (0.5, 0.75, 1.0, 1.25, 1.5)),
}


@dataclass(frozen=True, slots=True)
class SweepPoint:
    value: float
    metrics: Metrics


def run(config: PathwayConfig, patients: Sequence[SyntheticPatient]) -> list[Alert]:
    return [a for p in patients for a in replay_patient(config, p.context, p.readings)]


def current(config: PathwayConfig, setting: str) -> float:
    """The value a pathway (a site's, say) uses now for a "section.field" setting."""
    section, _, name = setting.partition(".")
    return float(getattr(getattr(config, section), name))


def tuned(config: PathwayConfig, rule_id: str, setting: str, value: float) -> PathwayConfig:
    """The rule alone at this value, everything else as in ``config``."""
    if rule_id == RULE_OF_THUMB:
        return rule_of_thumb(config, value)
    section, _, name = setting.partition(".")
    return only(config.with_overrides({section: {name: value}}), [rule_id])


def points(config: PathwayConfig) -> dict[str, tuple[float, ...]]:
    """Each curve's values: the standard ones and the pathway's own, so it can be marked."""
    return {
        name: tuple(sorted({*values, current(config, setting)}))
        for name, (_rule, setting, values) in SWEEPS.items()
    }


def sweep_alerts(
    config: PathwayConfig,
    patients: Sequence[tuple[PatientContext, Sequence[Reading]]],
    policy: ResponsePolicy = DEFAULT_POLICY,
) -> dict[tuple[str, float], list[Alert]]:
    """Every curve's alerts over these patients, keyed by (curve, value)."""
    out: dict[tuple[str, float], list[Alert]] = {}
    for name, values in points(config).items():
        rule_id, setting, _ = SWEEPS[name]
        for value in values:
            rules = tuned(config, rule_id, setting, value)
            out[(name, value)] = [
                a
                for ctx, readings in patients
                for a in replay_patient(rules, ctx, readings, policy)
            ]
    return out


def sweep(
    config: PathwayConfig,
    patients: Sequence[SyntheticPatient],
    rule_id: str,
    setting: str,
    values: Sequence[float],
) -> list[SweepPoint]:
    """setting is "section.field", e.g. "moving_average.k_sd"; only rule_id runs."""
    events = [e for p in patients for e in p.events]
    days = sum(p.days for p in patients)
    out = []
    for value in values:
        alerts = run(tuned(config, rule_id, setting, value), patients)
        out.append(SweepPoint(value, measure(f"{setting}={value:g}", alerts, events, days)))
    return out
