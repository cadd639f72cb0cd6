"""The pathway in force as JSON-ready data, served by GET /api/v1/pathway."""

from __future__ import annotations

import dataclasses

from pathway.catalogue import RULES
from pathway.config import PathwayConfig

_SECTIONS = {
    "red.spo2": "thresholds",
    "amber.spo2": "thresholds",
    "red.systolic": "thresholds",
    "amber.systolic": "thresholds",
    "red.pulse": "thresholds",
    "amber.pulse": "thresholds",
    "red.pulse_dizzy": "thresholds",
    "amber.weight_above_target": "thresholds",
    "amber.weight_gain_3d": "weight",
    "amber.weight_gain_2d": "weight",
    "red.weight_gain_symptoms": "weight",
    "amber.symptoms_worse": "symptoms",
    "trend.moving_average": "moving_average",
    "trend.macd": "macd",
    "amber.missed_weight": "missed",
}


def describe(config: PathwayConfig) -> dict[str, object]:
    sections = {
        name: dataclasses.asdict(getattr(config, name))
        for name in (
            "thresholds",
            "weight",
            "symptoms",
            "moving_average",
            "macd",
            "titration",
            "missed",
        )
    }
    rules = [
        {
            "id": spec.rule_id,
            "level": str(spec.level),
            "title": spec.title,
            "source": spec.source,
            "enabled": config.enabled(spec.rule_id),
            "cohort": "medication_optimisation" if spec.titration else "all",
            "parameters": _SECTIONS.get(spec.rule_id, "titration" if spec.titration else None),
        }
        for spec in RULES.values()
    ]
    return {
        "version": config.version,
        "rules": rules,
        "parameters": sections,
        "weight_gain_comparator": (
            "latest weight minus the lowest weight on the N preceding Europe/London calendar days"
        ),
        "confirm": dict(sorted(config.confirm.items())),
        "history_window_days": config.history_window.total_seconds() / 86400,
        "response_times": {
            str(level): dataclasses.asdict(rt) for level, rt in config.response_times.items()
        },
        "advice": {
            code: {"level": str(a.level), "text": a.text} for code, a in config.advice.items()
        },
    }
