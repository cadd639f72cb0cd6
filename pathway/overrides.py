"""Site overrides layered on the pathway, read from a plain mapping (e.g. a TOML file)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from datetime import timedelta

from pathway.config import AdviceText, PathwayConfig, UnsafeConfiguration
from pathway.validation import validate

# pathway.alert_policy: after an alert is resolved the next finding raises at once.
_NO_QUIET_PERIOD = "no longer a setting: a finding after an alert is resolved raises a new one"

_SECTIONS = (
    "thresholds",
    "weight",
    "symptoms",
    "moving_average",
    "macd",
    "titration",
    "missed",
)


def apply_overrides(config: PathwayConfig, overrides: Mapping[str, object]) -> PathwayConfig:
    changes: dict[str, object] = {}
    for key, value in overrides.items():
        if key in _SECTIONS:
            changes[key] = _replace_section(getattr(config, key), key, value)
        elif key == "disabled":
            changes[key] = _rule_ids(value)
        elif key == "quiet_period_days":
            raise UnsafeConfiguration(key, _NO_QUIET_PERIOD)
        elif key == "history_window_days":
            changes[key.removesuffix("_days")] = timedelta(days=_number(key, value))
        elif key == "advice":
            changes[key] = _advice(config, value)
        elif key == "confirm":
            changes[key] = _confirm(config, value)
        else:
            raise UnsafeConfiguration(key, "unknown setting")
    digest = hashlib.sha256(
        json.dumps(overrides, sort_keys=True, default=str).encode()
    ).hexdigest()[:8]
    changes["version"] = f"{config.version}+{digest}"
    return validate(dataclasses.replace(config, **changes))  # type: ignore[arg-type]


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UnsafeConfiguration(name, f"must be a number, not {value!r}")
    return float(value)


def _replace_section(section: object, name: str, values: object) -> object:
    if not isinstance(values, Mapping):
        raise UnsafeConfiguration(name, "must be a table of settings")
    known = {f.name for f in dataclasses.fields(section)}  # type: ignore[arg-type]
    updates: dict[str, object] = {}
    for key, value in values.items():
        path = f"{name}.{key}"
        if key not in known:
            raise UnsafeConfiguration(path, "unknown setting")
        current = getattr(section, key)
        if value is None and key == "target_weight_kg":
            updates[key] = None
            continue
        if isinstance(current, bool):
            if not isinstance(value, bool):
                raise UnsafeConfiguration(path, f"must be true or false, not {value!r}")
            updates[key] = value
            continue
        number = _number(path, value)
        if isinstance(current, int) and not number.is_integer():
            raise UnsafeConfiguration(path, f"must be a whole number, not {value!r}")
        updates[key] = int(number) if isinstance(current, int) else number
    return dataclasses.replace(section, **updates)  # type: ignore[type-var]


def _rule_ids(value: object) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, list | tuple | frozenset | set):
        raise UnsafeConfiguration("disabled", "must be a list of rule ids")
    return frozenset(str(item) for item in value)


def _advice(config: PathwayConfig, value: object) -> dict[str, AdviceText]:
    if not isinstance(value, Mapping):
        raise UnsafeConfiguration("advice", "must be a table of advice codes to text")
    merged = dict(config.advice)
    for code, text in value.items():
        if code not in merged:
            raise UnsafeConfiguration(f"advice.{code}", "unknown advice code")
        if not isinstance(text, str) or not text.strip():
            raise UnsafeConfiguration(f"advice.{code}", "must be non-empty text")
        merged[code] = AdviceText(merged[code].level, text)
    return merged


def _confirm(config: PathwayConfig, value: object) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise UnsafeConfiguration("confirm", "must be a table of rule ids to reading counts")
    merged = dict(config.confirm)
    for rule_id, count in value.items():
        number = _number(f"confirm.{rule_id}", count)
        merged[str(rule_id)] = int(number)
    return merged
