"""What the pages show, in words: labels, times and the reports' trend charts (the patient
record's charts are ``patient_charts``, its lists ``record``).

Pure shaping of rows the service functions already loaded; no queries here.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from service.reports.shapes import NetworkMetric
from service.timeutil import LONDON
from service.ui import charts

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
SUPPRESSED = "*"


def shown(value: Any, unit: str = "") -> str:
    """A published figure as text: suppressed stays "*", nothing is a dash, % gets its sign."""
    if value is None:
        return "\u2013"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not value.is_integer():
        text = f"{value:,.1f}"
    else:
        text = f"{int(value):,}"
    return f"{text}%" if unit == "%" else text


def _month_start(month: str) -> date:
    year, mon = (int(p) for p in month.split("-"))
    return date(year, mon, 1)


def month_name(month: str) -> str:
    return _month_start(month).strftime("%B %Y")


def month_tick(month: str) -> str:
    """A chart's month label, one style for every report chart: "Nov 2025"."""
    return _month_start(month).strftime("%b %Y")


def trend_chart(
    chart_id: str, metric: NetworkMetric, site_code: str, site_name: str
) -> charts.Chart:
    """A site's 12 months of one metric against the network, from the disclosed figures."""
    trend = metric["trend"]
    site_pts, network_pts, gaps = [], [], []
    for i, row in enumerate(trend):
        label = month_name(row["month"])
        value = row["sites"].get(site_code)
        if isinstance(value, int | float) and not isinstance(value, bool):
            site_pts.append(
                charts.Point(
                    i, float(value), f"{site_code}, {label}: {shown(value, metric['unit'])}"
                )
            )
        elif value == SUPPRESSED:
            gaps.append((float(i), f"{label}: suppressed (small numbers)"))
        network = row["network"]
        if isinstance(network, int | float) and not isinstance(network, bool):
            network_pts.append(
                charts.Point(
                    i, float(network), f"Network, {label}: {shown(network, metric['unit'])}"
                )
            )
    # Every other month labelled (the latest always), so the labels stay readable.
    last = len(trend) - 1
    ticks = [
        (float(i), month_tick(row["month"])) for i, row in enumerate(trend) if (last - i) % 2 == 0
    ]
    suppressed_words = (
        " Suppressed (*) in " + ", ".join(g[1].split(":")[0] for g in gaps) + "." if gaps else ""
    )
    values = [p.y for p in site_pts]
    desc = (
        f"{metric['title']} for {site_name} ({site_code}) and the network, "
        f"{month_name(trend[0]['month'])} to {month_name(trend[-1]['month'])}. "
        + (
            f"Site lowest {shown(min(values), metric['unit'])}, highest "
            f"{shown(max(values), metric['unit'])}."
            if values
            else "No published site figures."
        )
        + suppressed_words
    )
    percent = metric["unit"] == "%"
    return charts.Chart(
        chart_id=chart_id,
        title=f"{site_name}: {metric['title']}",
        desc=desc,
        y_label=metric["unit"],
        x_min=-0.3,
        x_max=len(trend) - 0.7,
        x_ticks=ticks,
        series=[
            charts.Series(site_code, site_pts, charts.BLUE, "circle", max_gap=1),
            charts.Series("Network", network_pts, charts.GREY, "square", True, max_gap=1),
        ],
        y_min=0,
        y_max=100 if percent else None,
        gaps=gaps,
        width=330,
        height=210,
        extra_legend=[("*", "suppressed")] if gaps else [],
    )
