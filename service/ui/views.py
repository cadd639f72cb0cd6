"""What the pages show, in words: labels and times (figures and months are
``service.charts.labels``; the charts themselves are ``service.charts``).

Pure shaping of rows the service functions already loaded; no queries here.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from service.timeutil import LONDON

COHORTS = {
    "new_diagnosis": "New diagnosis",
    "post_discharge": "Post-discharge",
    "medication_optimisation": "Medicines optimisation",
    "palliative": "Supportive and palliative care",
}
OUTCOMES = {
    "advice_given": "Advice given",
    "diuretic_adjusted": "Diuretic adjusted",
    "medication_titrated": "Medication titrated",
    "seen_in_person": "Seen in person",
    "referred": "Referred",
    "admitted": "Admitted",
    "no_action_needed": "No action needed",
    "patient_unreachable": "Patient unreachable",
}
# Outcomes only the service records (alerts.lifecycle.SYSTEM_OUTCOMES): shown, never offered.
OUTCOME_NAMES = {
    **OUTCOMES,
    "patient_died": "Closed: the patient's death was recorded",
    "no_longer_due": "Closed: no longer due",
}
STATUSES = {"open": "Open", "acknowledged": "Acknowledged", "resolved": "Resolved"}
EVENT_KINDS = {
    "raised": "Raised",
    "evidence_added": "New readings added",
    "severity_raised": "Severity raised",
    "acknowledged": "Acknowledged",
    "assigned": "Assigned",
    "note_added": "Note",
    "resolved": "Resolved",
    "escalated": "Escalated (not acted on in time)",
}
SEX = {"female": "Female", "male": "Male", "other": "Other", "unknown": "Not known"}
THRESHOLD_FIELDS: list[tuple[str, str, str, str]] = [
    # (field, label, unit, input step)
    ("target_weight_kg", "Target (dry) weight", "kg", "0.1"),
    ("systolic_red_below", "Red: systolic below", "mmHg", "1"),
    ("systolic_amber_below", "Amber: systolic below", "mmHg", "1"),
    ("pulse_low_red", "Red: pulse at or below", "per minute", "1"),
    ("pulse_low_amber", "Amber: pulse at or below", "per minute", "1"),
    ("pulse_high_amber", "Amber: pulse at or above", "per minute", "1"),
    ("pulse_high_red", "Red: pulse at or above", "per minute", "1"),
    ("spo2_red_at_or_below", "Red: SpO2 at or below", "%", "0.5"),
    ("spo2_amber_at_or_below", "Amber: SpO2 at or below", "%", "0.5"),
]
THRESHOLD_NAMES = [name for name, *_ in THRESHOLD_FIELDS]


def london(value: datetime | None, *, with_day: bool = False) -> str:
    if value is None:
        return ""
    local = value.astimezone(LONDON)
    return local.strftime("%a %d %b %Y, %H:%M" if with_day else "%d %b %Y, %H:%M")


def short_day(value: date) -> str:
    return value.strftime("%d %b")


def duration(delta: timedelta) -> str:
    """A waiting time a nurse reads at a glance: "45 min", "3 h 10 min", "2 days 4 h"."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    unit = "day" if days == 1 else "days"
    return f"{days} {unit} {hours} h" if hours else f"{days} {unit}"


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


# --- reports ----------------------------------------------------------------------------------

SECTIONS = {
    "caseload": "Caseload and flow",
    "adherence": "Adherence",
    "alerts": "Alerts",
    "outcomes": "Outcomes",
    "medicines": "Medicines",
    "patient_reported": "Patient-reported outcomes",
    "resources": "Resources: patient-months and staff time",
}
EQUITY_LABELS = {
    "imd_quintile": "IMD quintile (1 = most deprived)",
    "ethnicity": "Ethnic group",
    "age_band": "Age band",
    "sex": "Sex",
}
