"""The patient record in words: medicines by pillar, blood results with their findings, KCCQ
scores, hospital events and the symptom answers that changed. Newest first everywhere.

Pure shaping of rows the use cases loaded; no queries here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from service.alerting.schemas import AlertDetailOut
from service.models import Reading
from service.ui.views import london

PILLARS = {
    "acei_arb_arni": "ACE inhibitor, ARB or ARNI",
    "beta_blocker": "Beta-blocker",
    "mra": "MRA (mineralocorticoid receptor antagonist)",
    "sglt2i": "SGLT2 inhibitor",
}
MEDICINE_STATUSES = {
    "started": "Started or dose changed",
    "stopped": "Stopped",
    "not_tolerated": "Not tolerated",
    "contraindicated": "Contraindicated",
}
KCCQ_TIMEPOINTS = {"start": "At enrolment", "discharge": "At discharge", "other": "Other review"}
EVENT_NAMES = {"admission": "Hospital admission", "ae_attendance": "A&E visit", "death": "Death"}
CONTACT_KINDS = {"call": "Telephone call", "visit": "Visit", "message": "Message"}
DISCHARGE_REASONS = {
    "stable_optimised": "Stable and medicines optimised",
    "admitted": "Admitted to hospital",
    "died": "Died",
    "withdrew": "Withdrew or declined",
    "other": "Other reason",
}
BLOODS = {
    "potassium": ("Potassium", "mmol/L"),
    "creatinine": ("Creatinine", "µmol/L"),
    "egfr": ("eGFR", "mL/min/1.73m²"),
}


def _day(value: date) -> str:
    return value.strftime("%d %b %Y")


# --- medicines ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MedicineChange:
    on: str
    what: str
    drug: str


@dataclass(frozen=True)
class Pillar:
    key: str
    label: str
    now: str
    changes: list[MedicineChange]


def _medicine_words(status: str, at_target: bool) -> str:
    words = MEDICINE_STATUSES.get(status, status)
    return f"{words}: at target or the most tolerated dose" if at_target else words


def _medicine_text(row: Any) -> str:
    """The medicine as written, its dose and dm+d code, as far as each was recorded."""
    parts = [row.drug] if row.drug else []
    if row.dose_value is not None and row.dose_unit is not None:
        parts.append(f"{row.dose_value:g} {row.dose_unit}")
    text = " ".join(parts)
    if row.dmd_code:
        text += f"{', ' if text else ''}dm+d {row.dmd_code}"
    return text


def medicines_by_pillar(rows: Iterable[Any]) -> list[Pillar]:
    """The four pillars in order, each with where it stands now and its changes, newest first."""
    ordered = sorted(rows, key=lambda r: (r.changed_on, r.recorded_at), reverse=True)
    pillars = []
    for key, label in PILLARS.items():
        mine = [r for r in ordered if r.pillar == key]
        if mine:
            latest = mine[0]
            now = _medicine_words(latest.status, latest.at_target_or_max_tolerated)
            text = _medicine_text(latest)
            now += f" ({text})" if text else ""
            now += f" since {_day(latest.changed_on)}"
        else:
            now = "Nothing recorded"
        changes = [
            MedicineChange(
                _day(r.changed_on),
                _medicine_words(r.status, r.at_target_or_max_tolerated),
                _medicine_text(r),
            )
            for r in mine
        ]
        pillars.append(Pillar(key, label, now, changes))
    return pillars


# --- blood results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BloodResult:
    taken: str
    test: str
    value: str
    findings: list[tuple[str, str]]  # (level, summary)


def findings_by_reading(alerts: Sequence[AlertDetailOut]) -> dict[str, list[tuple[str, str]]]:
    """Each reading's findings (level and words), from the alerts they were evidence for."""
    out: dict[str, list[tuple[str, str]]] = {}
    for alert in alerts:
        for finding in alert.findings:
            for reading_id in finding.evidence:
                found = out.setdefault(reading_id, [])
                if (finding.level, finding.summary) not in found:
                    found.append((finding.level, finding.summary))
    return out


def blood_results(
    readings: Iterable[Reading], findings: dict[str, list[tuple[str, str]]]
) -> list[BloodResult]:
    rows = sorted((r for r in readings if r.type in BLOODS), key=lambda r: r.taken_at)
    out = []
    for r in reversed(rows):
        test, unit = BLOODS[r.type]
        value = "" if r.value is None else f"{r.value:g} {unit}"
        out.append(BloodResult(london(r.taken_at), test, value, findings.get(str(r.id), [])))
    return out


# --- KCCQ-12 -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KccqRow:
    on: str
    score: str
    timepoint: str
    change: str


def kccq_rows(rows: Iterable[Any]) -> list[KccqRow]:
    """Newest first, each with its change from the one before (5 points is a change a patient
    notices)."""
    ordered = sorted(rows, key=lambda r: (r.assessed_on, r.recorded_at))
    out = []
    previous = None
    for r in ordered:
        if previous is None:
            change = "First score"
        else:
            delta = r.score - previous.score
            direction = "better" if delta > 0 else "worse" if delta < 0 else "no change"
            change = f"{delta:+g} points since {_day(previous.assessed_on)} ({direction})"
        out.append(
            KccqRow(
                _day(r.assessed_on),
                f"{r.score:g}",
                KCCQ_TIMEPOINTS.get(r.timepoint, r.timepoint),
                change,
            )
        )
        previous = r
    return out[::-1]


# --- events --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventRow:
    id: Any
    kind: str
    what: str
    on: str
    details: str


def event_rows(rows: Iterable[Any], today: date) -> list[EventRow]:
    out = []
    for e in sorted(rows, key=lambda e: (e.occurred_on, e.recorded_at), reverse=True):
        details: list[str] = []
        if e.kind == "admission":
            if e.discharged_on is None:
                days = (today - e.occurred_on).days
                details.append(f"Still in hospital ({days} days so far)")
            else:
                days = (e.discharged_on - e.occurred_on).days
                details.append(f"Discharged {_day(e.discharged_on)} after {days} days")
            details.append("heart failure" if e.hf_related else "not heart failure")
            details.append("emergency" if e.emergency else "planned")
        out.append(
            EventRow(
                e.id,
                e.kind,
                EVENT_NAMES.get(e.kind, e.kind),
                _day(e.occurred_on),
                "; ".join(details),
            )
        )
    return out


# --- symptoms: only what changed -----------------------------------------------------------------

ANSWER_WORDS: dict[str, dict[Any, str]] = {
    "breathlessness": {
        "none": "No breathlessness",
        "usual": "Usual breathlessness",
        "worse": "Breathlessness worse",
        "at_rest": "Breathless at rest",
    },
    "orthopnoea": {True: "Breathless lying flat", False: "Not breathless lying flat"},
    "ankle_swelling": {
        "none": "No ankle swelling",
        "usual": "Usual ankle swelling",
        "worse": "Ankle swelling worse",
    },
    "dizziness": {True: "Dizzy", False: "Not dizzy"},
    "chest_pain": {True: "Chest pain", False: "No chest pain"},
    "fatigue": {"usual": "Usual tiredness", "worse": "More tired than usual"},
    "fainting": {True: "Fainted or collapsed", False: "No fainting"},
    "confusion": {True: "New confusion", False: "No confusion"},
}
CONCERNING: dict[str, set[Any]] = {
    "breathlessness": {"worse", "at_rest"},
    "orthopnoea": {True},
    "ankle_swelling": {"worse"},
    "dizziness": {True},
    "chest_pain": {True},
    "fatigue": {"worse"},
    "fainting": {True},
    "confusion": {True},
}


def answer_words(key: str, value: Any) -> str:
    return ANSWER_WORDS.get(key, {}).get(value, f"{key.replace('_', ' ')}: {value}")


@dataclass
class SymptomChange:
    """Answers that differ from the day before; the days after with the same answers are
    folded into ``same_until``."""

    taken_at: datetime
    when: str
    concerns: list[str]
    better: list[str]
    first: bool
    same_days: int = 0
    same_until: str = ""
    all_answers: list[str] = field(default_factory=list)


def symptom_changes(readings: Iterable[Reading], limit: int = 30) -> list[SymptomChange]:
    """Newest first: the first answers, then each day something changed, with how long the
    answers then stayed the same."""
    days = sorted((r for r in readings if r.type == "symptoms"), key=lambda r: r.taken_at)
    out: list[SymptomChange] = []
    previous: dict[str, Any] | None = None
    for reading in days:
        answers = dict(reading.answers or {})
        if previous is not None and answers == previous and out:
            out[-1].same_days += 1
            out[-1].same_until = london(reading.taken_at)
            continue
        changed = (
            answers
            if previous is None
            else {k: v for k, v in answers.items() if previous.get(k) != v}
        )
        concerns = [answer_words(k, v) for k, v in changed.items() if v in CONCERNING.get(k, ())]
        better = [answer_words(k, v) for k, v in changed.items() if v not in CONCERNING.get(k, ())]
        out.append(
            SymptomChange(
                reading.taken_at,
                london(reading.taken_at, with_day=True),
                concerns,
                better if previous is not None else [],
                previous is None,
                all_answers=[answer_words(k, v) for k, v in answers.items()],
            )
        )
        previous = answers
    return out[::-1][:limit]
