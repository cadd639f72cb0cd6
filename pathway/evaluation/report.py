"""The comparison the issue asks for: default pathway, rule of thumb and each detector."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pathway.catalogue import RULES
from pathway.config import PathwayConfig
from pathway.evaluation.cohort import Event
from pathway.evaluation.metrics import Metrics, measure
from pathway.evaluation.replay import Alert, only, replay_patient
from pathway.model import PatientContext, Reading

RULE_OF_THUMB = "amber.weight_gain_3d"


def rule_of_thumb(config: PathwayConfig, gain_kg: float = 2.0) -> PathwayConfig:
    """The plain published rule: 2 kg in 3 days, alert on the first reading, nothing else."""
    plain = config.with_overrides({"weight": {"gain_3d_kg": gain_kg, "gain_3d_days": 3}})
    return only(dataclasses.replace(plain, confirm={}), [RULE_OF_THUMB])


def every_rule(config: PathwayConfig) -> PathwayConfig:
    """All rules on with the pathway's own settings. Alerts are per rule, so each rule's
    alerts here are exactly what it raises within any rule set."""
    return dataclasses.replace(config, disabled=frozenset({"amber.missed_weight"}))


@dataclass(frozen=True, slots=True)
class Replayed:
    every: list[Alert]
    thumb: list[Alert]


def replay_both(
    config: PathwayConfig, patients: Iterable[tuple[PatientContext, Sequence[Reading]]]
) -> Replayed:
    every, thumb = every_rule(config), rule_of_thumb(config)
    out = Replayed([], [])
    for context, readings in patients:
        out.every.extend(replay_patient(every, context, readings))
        out.thumb.extend(replay_patient(thumb, context, readings))
    return out


def compare(
    config: PathwayConfig, replayed: Replayed, events: Sequence[Event], patient_days: int
) -> list[Metrics]:
    enabled = [r for r in RULES if config.enabled(r) and r != "amber.missed_weight"]
    rows = [
        measure("default pathway", replayed.every, events, patient_days, enabled),
        measure("rule of thumb (2 kg in 3 days)", replayed.thumb, events, patient_days),
    ]
    seen = {a.rule_id for a in replayed.every}
    for rule_id in RULES:
        if rule_id in seen:
            label = rule_id + ("" if config.enabled(rule_id) else " (off in default)")
            rows.append(measure(label, replayed.every, events, patient_days, [rule_id]))
    return rows


def table(rows: Sequence[Metrics], header: Mapping[str, str] | None = None) -> str:
    lines = [
        f"{'rule set':44} {'sens':>6} {'FA/pt-yr':>9} {'per100d':>8} {'warn d':>7} {'alerts':>7}",
    ]
    if header:
        lines = [f"{k}: {v}" for k, v in header.items()] + lines
    for m in rows:
        warn = "-" if m.median_warning_days is None else f"{m.median_warning_days:g}"
        lines.append(
            f"{m.name:44} {m.sensitivity:6.1%} {m.false_per_patient_year:9.2f} "
            f"{m.burden_per_100_days:8.2f} {warn:>7} {m.alerts:7d}"
        )
    return "\n".join(lines)
