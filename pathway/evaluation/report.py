"""The comparison the issue asks for: default pathway, rule of thumb and each detector."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pathway.catalogue import RULES
from pathway.config import PathwayConfig
from pathway.evaluation.cohort import Event
from pathway.evaluation.metrics import Metrics, measure
from pathway.evaluation.replay import (
    DEFAULT_POLICY,
    Alert,
    alerts_from,
    arrivals,
    only,
    replay_patient,
)
from pathway.model import PatientContext, Reading
from pathway.response import ResponsePolicy

RULE_OF_THUMB = "amber.weight_gain_3d"


def rule_of_thumb(config: PathwayConfig, gain_kg: float = 2.0) -> PathwayConfig:
    """The plain published rule: 2 kg in 3 days, alert on the first reading, nothing else."""
    plain = config.with_overrides({"weight": {"gain_3d_kg": gain_kg, "gain_3d_days": 3}})
    return only(dataclasses.replace(plain, confirm={}), [RULE_OF_THUMB])


def every_rule(config: PathwayConfig) -> PathwayConfig:
    """All rules on with the pathway's own settings: judged once, a patient's findings give
    the default pathway's alerts and each rule's alone (a rule's findings do not depend on
    which other rules are on; ``test_one_judging_gives_every_rule_set`` checks it)."""
    return dataclasses.replace(config, disabled=frozenset({"amber.missed_weight"}))


@dataclass(frozen=True, slots=True)
class Replayed:
    default: list[Alert]
    thumb: list[Alert]
    # Each rule on its own, as its own alert: what the rule alone would cost a team.
    alone: dict[str, list[Alert]]


def replay_both(
    config: PathwayConfig,
    patients: Iterable[tuple[PatientContext, Sequence[Reading]]],
    policy: ResponsePolicy = DEFAULT_POLICY,
) -> Replayed:
    every, thumb = every_rule(config), rule_of_thumb(config)
    out = Replayed([], [], {})
    for context, readings in patients:
        pid = context.patient_id
        found = arrivals(every, context, readings)
        out.default.extend(alerts_from(pid, found, policy, config.enabled))
        for rule_id in sorted({f.rule_id for day in found for f in day.findings}):
            alone = alerts_from(pid, found, policy, rule_id.__eq__)
            out.alone.setdefault(rule_id, []).extend(alone)
        out.thumb.extend(replay_patient(thumb, context, readings, policy))
    return out


def merge(parts: Iterable[Replayed]) -> Replayed:
    """One cohort's results from the parts replayed in separate processes."""
    out = Replayed([], [], {})
    for part in parts:
        out.default.extend(part.default)
        out.thumb.extend(part.thumb)
        for rule_id, alerts in part.alone.items():
            out.alone.setdefault(rule_id, []).extend(alerts)
    return out


def compare(
    config: PathwayConfig, replayed: Replayed, events: Sequence[Event], patient_days: int
) -> list[Metrics]:
    rows = [
        measure("default pathway", replayed.default, events, patient_days),
        measure("rule of thumb (2 kg in 3 days)", replayed.thumb, events, patient_days),
    ]
    for rule_id in RULES:
        if replayed.alone.get(rule_id):
            label = rule_id + ("" if config.enabled(rule_id) else " (off in default)")
            rows.append(measure(label, replayed.alone[rule_id], events, patient_days))
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
