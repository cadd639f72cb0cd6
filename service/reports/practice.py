"""Practice beside results: the pathway a site ran in a month, in words.

For a site and a month: the pathway version in force at the month's end, each of the site's
overrides as a sentence ("Weight gain over 3 days: 2.5 kg (default 2.0 kg)"), and every change
made to them during the month from the site's settings history (who, when, before, after).
The words come from the pathway's rule titles (``pathway.catalogue``); the units are those the
pathway's settings are kept in (their names end in them: ``_kg``, ``_days``).
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

import pathway
from pathway.catalogue import RULES
from service.models import SettingChange, Site, User
from service.readings.evaluation import config_for
from service.reports.figures import sites as all_sites
from service.reports.period import london_midnight, parse_month, shift_month

SETTING = "pathway_overrides"
# Each setting a site may override: the rule it tunes, what of the rule it is (None: the rule's
# own limit) and its unit. Settings not listed are named from their section's rule and own name.
_LABELS: dict[str, tuple[str, str | None, str]] = {
    "thresholds.spo2_emergency_at_or_below": ("emergency.spo2", None, "%"),
    "thresholds.systolic_emergency_below": ("emergency.systolic", None, "mmHg"),
    "thresholds.pulse_low_emergency": ("emergency.pulse", "low", "bpm"),
    "thresholds.pulse_high_emergency": ("emergency.pulse", "high", "bpm"),
    "thresholds.spo2_red_at_or_below": ("red.spo2", None, "%"),
    "thresholds.spo2_amber_at_or_below": ("amber.spo2", None, "%"),
    "thresholds.systolic_red_below": ("red.systolic", None, "mmHg"),
    "thresholds.systolic_amber_below": ("amber.systolic", None, "mmHg"),
    "thresholds.pulse_low_red": ("red.pulse", "low", "bpm"),
    "thresholds.pulse_high_red": ("red.pulse", "high", "bpm"),
    "thresholds.pulse_low_amber": ("amber.pulse", "low", "bpm"),
    "thresholds.pulse_high_amber": ("amber.pulse", "high", "bpm"),
    "thresholds.pulse_dizzy_below": ("red.pulse_dizzy", None, "bpm"),
    "thresholds.target_weight_kg": ("amber.weight_above_target", "target weight", "kg"),
    "thresholds.weight_above_target_kg": ("amber.weight_above_target", None, "kg"),
    "weight.gain_3d_kg": ("amber.weight_gain_3d", None, "kg"),
    "weight.gain_3d_days": ("amber.weight_gain_3d", "days compared", "days"),
    "weight.gain_2d_kg": ("amber.weight_gain_2d", None, "kg"),
    "weight.gain_2d_days": ("amber.weight_gain_2d", "days compared", "days"),
    "weight.with_symptoms_kg": ("red.weight_gain_symptoms", None, "kg"),
    "weight.with_symptoms_days": ("red.weight_gain_symptoms", "days compared", "days"),
    "weight.symptom_days": ("red.weight_gain_symptoms", "days of symptoms", "days"),
    "symptoms.score_threshold": ("amber.symptoms_worse", "score to raise", "points"),
    "titration.potassium_amber_above": ("amber.potassium", None, "mmol/L"),
    "titration.potassium_red_above": ("red.potassium", None, "mmol/L"),
    "titration.creatinine_amber_above": ("amber.creatinine", None, "µmol/L"),
    "titration.creatinine_red_above": ("red.creatinine", None, "µmol/L"),
    "titration.creatinine_rise_pct": ("amber.creatinine_rise", None, "%"),
    "titration.egfr_amber_below": ("amber.egfr", None, "mL/min/1.73 m²"),
    "titration.egfr_red_below": ("red.egfr", None, "mL/min/1.73 m²"),
    "titration.beta_blocker_days": ("amber.beta_blocker_pulse", "days after the change", "days"),
    "titration.beta_blocker_pulse_below": ("amber.beta_blocker_pulse", None, "bpm"),
    "missed.expected_days": ("amber.missed_weight", None, "days"),
}
_SECTION_RULES = {
    "symptoms": "amber.symptoms_worse",
    "moving_average": "trend.moving_average",
    "macd": "trend.macd",
    "titration": "amber.creatinine_rise",
    "weight": "amber.weight_gain_3d",
    "thresholds": "amber.weight_above_target",
    "missed": "amber.missed_weight",
}
_UNIT_SUFFIXES = {"kg": "kg", "days": "days", "pct": "%", "bpm": "bpm", "points": "points"}


class OverrideWords(TypedDict):
    setting: str
    text: str


class ChangeWords(TypedDict):
    changed_at: str
    changed_by: str | None
    before: list[OverrideWords]
    after: list[OverrideWords]
    text: list[str]


class Practice(TypedDict):
    site_id: str
    code: str
    month: str
    default_version: str
    pathway_version: str
    overrides: list[OverrideWords]
    changes: list[ChangeWords]


def rule_title(rule_id: str) -> str:
    """A rule's title without its advice or its aside: "Weight gain over 3 days"."""
    title = RULES[rule_id].title.split(":")[0]
    # An aside in lower case goes ("(rule of thumb)"); a name stays ("(MACD)").
    return re.sub(r"\s*\([a-z][^)]*\)$", "", title).strip()


def _label(setting: str) -> tuple[str, str]:
    known = _LABELS.get(setting)
    if known is not None:
        rule_id, what, unit = known
        title = rule_title(rule_id)
        return (f"{title}, {what}" if what else title), unit
    section, _, name = setting.partition(".")
    suffix = name.rsplit("_", 1)[-1]
    unit = _UNIT_SUFFIXES.get(suffix, "")
    words = (name.removesuffix(f"_{suffix}") if unit else name).replace("_", " ")
    section_rule = _SECTION_RULES.get(section)
    return (f"{rule_title(section_rule)}, {words}" if section_rule else words), unit


def _amount(value: Any, unit: str, like: Any = None) -> str:
    """A value in its unit, written as the pathway's default is (a stored 4 of a setting
    whose default is 3.0 is the pathway's 4.0)."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(like, float) and isinstance(value, int):
        value = float(value)
    if isinstance(value, float):
        number = f"{value:.1f}" if round(value, 1) == value else f"{value:g}"
    else:
        number = str(value)
    return f"{number} {unit}" if unit else number


def _flat(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """The overrides as one value per setting: ``weight.gain_3d_kg``, ``disabled.<rule>``,
    ``advice.<code>``, ``confirm.<rule>``, ``history_window_days``."""
    flat: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        if key == "disabled":
            flat.update({f"disabled.{rule}": True for rule in value})
        elif isinstance(value, Mapping):
            flat.update({f"{key}.{name}": inner for name, inner in value.items()})
        else:
            flat[key] = value
    return flat


def _default(setting: str) -> Any:
    base = pathway.default_pathway()
    section, _, name = setting.partition(".")
    if section == "confirm":
        return base.confirm.get(name)
    if section == "advice":
        found = base.advice.get(name)
        return found.text if found else None
    if setting == "history_window_days":
        return base.history_window / timedelta(days=1)
    if dataclasses.is_dataclass(getattr(base, section, None)):
        return getattr(getattr(base, section), name, None)
    return None


def setting_words(setting: str, value: Any) -> str:
    """One override as a sentence, with the pathway's default beside it."""
    section, _, name = setting.partition(".")
    if section == "disabled":
        title = rule_title(name) if name in RULES else name
        return f"{title}: switched off" if value else f"{title}: on"
    if section == "advice":
        return f"Advice '{name}' reworded: \u201c{value}\u201d"
    if section == "confirm":
        title = rule_title(name) if name in RULES else name
        return f"{title}, readings to confirm: {value} (default {_default(setting) or 1})"
    if setting == "history_window_days":
        label, unit = "Days of history the rules read", "days"
    else:
        label, unit = _label(setting)
    default = _default(setting)
    return f"{label}: {_amount(value, unit, default)} (default {_amount(default, unit)})"


def overrides_in_words(overrides: Mapping[str, Any] | None) -> list[OverrideWords]:
    flat = _flat(overrides)
    return [{"setting": s, "text": setting_words(s, flat[s])} for s in sorted(flat)]


def _change_words(before: Any, after: Any) -> list[str]:
    """What a change did, setting by setting: "<before> \u2192 <after>"."""
    old, new = _flat(before), _flat(after)
    lines = []
    for setting in sorted(old.keys() | new.keys()):
        if old.get(setting) == new.get(setting):
            continue
        if setting not in new:
            lines.append(f"{setting_words(setting, old[setting])}; back to the default")
        elif setting not in old:
            lines.append(f"{setting_words(setting, new[setting])}; was the default")
        else:
            _, unit = _label(setting) if "." in setting else ("", "days")
            was = _amount(old[setting], unit, _default(setting))
            lines.append(f"{setting_words(setting, new[setting])}; was {was}")
    return lines


@dataclasses.dataclass(frozen=True, slots=True)
class _Change:
    changed_at: datetime
    changed_by: str | None
    before: Any
    after: Any


def _history(session: Session, site_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[_Change]]:
    """Each site's override changes, oldest first, with who made them, in one query."""
    rows = session.execute(
        select(
            SettingChange.subject_id,
            SettingChange.before,
            SettingChange.after,
            SettingChange.changed_at,
            User.display_name,
            User.username,
        )
        .outerjoin(User, User.id == SettingChange.changed_by)
        .where(
            SettingChange.subject == "site",
            SettingChange.setting == SETTING,
            SettingChange.subject_id.in_(site_ids),
        )
        .order_by(SettingChange.changed_at, SettingChange.id)
    ).all()
    out: dict[uuid.UUID, list[_Change]] = {s: [] for s in site_ids}
    for row in rows:
        who = row.display_name or row.username
        out[row.subject_id].append(_Change(row.changed_at, who, row.before, row.after))
    return out


def _in_force(changes: list[_Change], current: Any, at: datetime) -> Any:
    """The overrides in force just before ``at``: the last change before it, else what the
    first change replaced, else what the site holds now (never changed)."""
    earlier = [c for c in changes if c.changed_at < at]
    if earlier:
        return earlier[-1].after
    return changes[0].before if changes else current


def _practice(site: Site, month: str, changes: list[_Change]) -> Practice:
    year, number = parse_month(month)
    start = london_midnight(date(year, number, 1))
    next_year, next_number = parse_month(shift_month(month, 1))
    end = london_midnight(date(next_year, next_number, 1))
    at_end = _in_force(changes, site.pathway_overrides, end)
    return {
        "site_id": str(site.id),
        "code": site.code,
        "month": month,
        "default_version": pathway.default_pathway().version,
        "pathway_version": config_for(at_end).version,
        "overrides": overrides_in_words(at_end),
        "changes": [
            {
                "changed_at": c.changed_at.isoformat(),
                "changed_by": c.changed_by,
                "before": overrides_in_words(c.before),
                "after": overrides_in_words(c.after),
                "text": _change_words(c.before, c.after),
            }
            for c in changes
            if start <= c.changed_at < end
        ],
    }


def site_practice(session: Session, site: Site, month: str) -> Practice:
    """The pathway ``site`` ran in ``month``: as at the month's end, and its changes then."""
    return _practice(site, month, _history(session, [site.id])[site.id])


def site_practice_months(session: Session, site: Site, months: Sequence[str]) -> list[Practice]:
    """The site's practice for each of ``months``, from one read of its history."""
    history = _history(session, [site.id])[site.id]
    return [_practice(site, month, history) for month in months]


def network_practice(session: Session, month: str) -> list[Practice]:
    """Each site's practice for ``month``, in the order the reports list sites."""
    listed = all_sites(session)
    history = _history(session, [s.id for s in listed])
    return [_practice(site, month, history[site.id]) for site in listed]
