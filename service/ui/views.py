"""What the pages show, in words: labels, times, and the patient record's charts and timeline.

Pure shaping of rows the service functions already loaded; no queries here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from service.models import Reading
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
CHART_DAYS = 90


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


# --- symptoms ---------------------------------------------------------------------------------

_ANSWER_WORDS: dict[str, dict[Any, str]] = {
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
_CONCERNING: dict[str, set[Any]] = {
    "breathlessness": {"worse", "at_rest"},
    "orthopnoea": {True},
    "ankle_swelling": {"worse"},
    "dizziness": {True},
    "chest_pain": {True},
    "fatigue": {"worse"},
    "fainting": {True},
    "confusion": {True},
}


@dataclass(frozen=True)
class SymptomEntry:
    taken_at: datetime
    when: str
    concerns: list[str]
    usual: list[str]


def symptom_timeline(readings: Sequence[Reading], limit: int = 30) -> list[SymptomEntry]:
    """Newest first; each answer in words, the ones that matter first."""
    entries = []
    for reading in sorted(
        (r for r in readings if r.type == "symptoms"), key=lambda r: r.taken_at, reverse=True
    )[:limit]:
        concerns: list[str] = []
        usual: list[str] = []
        for key, value in (reading.answers or {}).items():
            words = _ANSWER_WORDS.get(key, {}).get(value, f"{key.replace('_', ' ')}: {value}")
            (concerns if value in _CONCERNING.get(key, set()) else usual).append(words)
        entries.append(
            SymptomEntry(reading.taken_at, london(reading.taken_at, with_day=True), concerns, usual)
        )
    return entries


# --- charts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartView:
    svg: Any
    caption: str
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class AlertMark:
    raised_at: datetime
    severity: str
    title: str


def _x(start: datetime, at: datetime) -> float:
    return (at - start).total_seconds() / 86400


def _day_ticks(start: datetime, days: int) -> list[tuple[float, str]]:
    first = start.astimezone(LONDON).date()
    return [
        (float(offset), short_day(first + timedelta(days=offset)))
        for offset in range(0, days + 1, 14)
    ]


def _range_words(values: list[float], unit: str) -> str:
    if not values:
        return "no readings"
    return f"lowest {min(values):g} {unit}, highest {max(values):g} {unit}"


def patient_charts(
    readings: Sequence[Reading],
    alerts: Sequence[AlertMark],
    thresholds: dict[str, Any],
    defaults: dict[str, Any],
    now: datetime,
) -> dict[str, ChartView]:
    start = now - timedelta(days=CHART_DAYS)
    window = [r for r in readings if r.taken_at >= start]
    ticks = _day_ticks(start, CHART_DAYS)
    span = f"the last {CHART_DAYS} days to {now.astimezone(LONDON):%d %b %Y}"
    events = [
        charts.Event(
            _x(start, a.raised_at),
            f"{a.severity.title()} alert raised {london(a.raised_at)}: {a.title}",
            "red" if a.severity == "red" else "amber",
        )
        for a in alerts
        if a.raised_at >= start
    ]

    def points(kind: str, attr: str, unit: str) -> list[charts.Point]:
        out = []
        for r in window:
            value = getattr(r, attr)
            if r.type == kind and value is not None:
                out.append(
                    charts.Point(
                        _x(start, r.taken_at),
                        float(value),
                        f"{london(r.taken_at)}: {value:g} {unit}",
                    )
                )
        return out

    def latest(pts: list[charts.Point], unit: str) -> str:
        return f"Latest {pts[-1].label.split(': ')[-1]}." if pts else ""

    out: dict[str, ChartView] = {}

    # Weight, with the target weight line and alert markers.
    weights = sorted(points("weight", "value", "kg"), key=lambda p: p.x)
    target = thresholds.get("target_weight_kg")
    guides = [charts.Guide(float(target), f"Target {float(target):g} kg")] if target else []
    alert_words = (
        f" {len(events)} alerts marked: " + "; ".join(e.label for e in events) + "."
        if events
        else " No alerts in this period."
    )
    out["weight"] = ChartView(
        charts.render(
            charts.Chart(
                chart_id="chart-weight",
                title=f"Weight (kg), {span}",
                desc=(
                    f"{len(weights)} weights, {_range_words([p.y for p in weights], 'kg')}. "
                    f"{latest(weights, 'kg')} "
                    + (f"Target weight {float(target):g} kg." if target else "No target weight.")
                    + alert_words
                ),
                y_label="Weight (kg)",
                x_min=0,
                x_max=CHART_DAYS,
                x_ticks=ticks,
                series=[charts.Series("Weight", weights, charts.BLUE, "circle", max_gap=3)],
                guides=guides,
                events=events,
            )
        ),
        "Weight",
        ["Taken", "Weight (kg)"],
        [[london(r.taken_at), f"{r.value:.1f}"] for r in window if r.type == "weight" and r.value],
    )

    # Blood pressure: systolic and diastolic told apart by shape and line style.
    systolic = points("blood_pressure", "systolic", "mmHg systolic")
    diastolic = points("blood_pressure", "diastolic", "mmHg diastolic")
    red_sys = thresholds.get("systolic_red_below", defaults.get("systolic_red_below"))
    out["blood_pressure"] = ChartView(
        charts.render(
            charts.Chart(
                chart_id="chart-bp",
                title=f"Blood pressure (mmHg), {span}",
                desc=(
                    f"{len(systolic)} readings. "
                    f"Systolic {_range_words([p.y for p in systolic], 'mmHg')}; "
                    f"diastolic {_range_words([p.y for p in diastolic], 'mmHg')}. "
                    + (f"Red line: systolic below {red_sys} mmHg." if red_sys else "")
                ),
                y_label="mmHg",
                x_min=0,
                x_max=CHART_DAYS,
                x_ticks=ticks,
                series=[
                    charts.Series("Systolic", systolic, charts.BLUE, "triangle", max_gap=3),
                    charts.Series(
                        "Diastolic", diastolic, charts.PURPLE, "triangle-down", True, max_gap=3
                    ),
                ],
                guides=[charts.Guide(float(red_sys), f"Red below {red_sys}", charts.RED, "4 3")]
                if red_sys
                else [],
            )
        ),
        "Blood pressure",
        ["Taken", "Systolic (mmHg)", "Diastolic (mmHg)"],
        [
            [london(r.taken_at), str(r.systolic), str(r.diastolic)]
            for r in window
            if r.type == "blood_pressure"
        ],
    )

    pulse = points("heart_rate", "value", "per minute")
    out["pulse"] = ChartView(
        charts.render(
            charts.Chart(
                chart_id="chart-pulse",
                title=f"Pulse (beats per minute), {span}",
                desc=f"{len(pulse)} readings, {_range_words([p.y for p in pulse], 'per minute')}. "
                f"{latest(pulse, 'per minute')}",
                y_label="Beats per minute",
                x_min=0,
                x_max=CHART_DAYS,
                x_ticks=ticks,
                series=[charts.Series("Pulse", pulse, charts.DARK, "square", max_gap=3)],
            )
        ),
        "Pulse",
        ["Taken", "Pulse (per minute)"],
        [
            [london(r.taken_at), f"{r.value:g}"]
            for r in window
            if r.type == "heart_rate" and r.value
        ],
    )

    spo2 = points("spo2", "value", "%")
    red_spo2 = thresholds.get("spo2_red_at_or_below", defaults.get("spo2_red_at_or_below"))
    out["spo2"] = ChartView(
        charts.render(
            charts.Chart(
                chart_id="chart-spo2",
                title=f"Oxygen saturation SpO2 (%), {span}",
                desc=f"{len(spo2)} readings, {_range_words([p.y for p in spo2], '%')}. "
                f"{latest(spo2, '%')} "
                + (f"Red line: SpO2 at or below {red_spo2}%." if red_spo2 else ""),
                y_label="SpO2 (%)",
                x_min=0,
                x_max=CHART_DAYS,
                x_ticks=ticks,
                series=[charts.Series("SpO2", spo2, charts.BLUE, "diamond", max_gap=3)],
                guides=[charts.Guide(float(red_spo2), f"Red at {red_spo2}%", charts.RED, "4 3")]
                if red_spo2
                else [],
                y_max=100,
            )
        ),
        "SpO2",
        ["Taken", "SpO2 (%)"],
        [[london(r.taken_at), f"{r.value:g}"] for r in window if r.type == "spo2" and r.value],
    )
    return out


# --- reports ----------------------------------------------------------------------------------

SECTIONS = {
    "caseload": "Caseload and flow",
    "adherence": "Adherence",
    "alerts": "Alerts",
    "outcomes": "Outcomes",
    "medicines": "Medicines",
    "patient_reported": "Patient-reported outcomes",
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
        (float(i), _month_start(row["month"]).strftime("%b"))
        for i, row in enumerate(trend)
        if (last - i) % 2 == 0
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
