"""The patient record's charts: weight, blood pressure, pulse and SpO2 over 90 days.

Each chart carries the limits the pathway judges that series by (red and amber, as the patient's
personal thresholds or the site's pathway set them) and a marker at each reading an alert was
raised or raised again on, taken from the alert's findings' evidence, not from the day the
alert was first raised. Pure shaping of rows already loaded; no queries here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from service import charts
from service.alerting.schemas import AlertDetailOut
from service.models import Reading
from service.timeutil import LONDON
from service.ui.views import london, short_day

CHART_DAYS = 90
# Which chart shows a reading of each type (blood pressure: the systolic plot).
CHART_OF = {
    "weight": "weight",
    "blood_pressure": "blood_pressure",
    "heart_rate": "pulse",
    "spo2": "spo2",
}


@dataclass(frozen=True)
class ChartView:
    svg: Any
    caption: str
    headers: list[str]
    # Newest first, as every list on the record.
    rows: list[list[str]]
    # A second plot on the same card (blood pressure: diastolic below systolic).
    extra_svg: Any = None


@dataclass(frozen=True)
class Mark:
    """A reading an alert was raised or raised again on."""

    at: datetime
    chart: str
    severity: str
    label: str


def alert_marks(
    alerts: Sequence[AlertDetailOut], readings: Sequence[Reading], start: datetime
) -> list[Mark]:
    """One mark per reading behind each alert's findings, on the chart of that reading's type.
    A finding whose evidence is not charted (symptoms, bloods) is marked on the weight chart
    at the time it was observed."""
    by_id = {str(r.id): r for r in readings}
    marks: dict[tuple[str, datetime, str], Mark] = {}
    for alert in alerts:
        for n, finding in enumerate(sorted(alert.findings, key=lambda f: f.observed_at)):
            severity = "red" if finding.level == "red" else "amber"
            what = "raised" if n == 0 else "raised again"
            charted = [
                (CHART_OF[r.type], r.taken_at)
                for r in (by_id.get(e) for e in finding.evidence)
                if r is not None and r.type in CHART_OF
            ] or [("weight", finding.observed_at)]
            for chart, at in charted:
                if at < start or (chart, at, severity) in marks:
                    continue
                label = (
                    f"{severity.title()} alert {what} {london(at)}: {alert.title} "
                    f"({finding.summary})"
                )
                marks[(chart, at, severity)] = Mark(at, chart, severity, label)
    return sorted(marks.values(), key=lambda m: m.at)


def _x(start: datetime, at: datetime) -> float:
    return (at - start).total_seconds() / 86400


def _ticks(start: datetime, days: int) -> list[tuple[float, str]]:
    first = start.astimezone(LONDON).date()
    return [
        (float(offset), short_day(first + timedelta(days=offset)))
        for offset in range(0, days + 1, 14)
    ]


def _range_words(values: list[float], unit: str) -> str:
    if not values:
        return "no readings"
    return f"lowest {min(values):g} {unit}, highest {max(values):g} {unit}"


def _guide(value: Any, label: str, colour: str) -> list[charts.Guide]:
    if value is None:
        return []
    dash = "4 3" if colour == charts.RED else "9 4"
    return [charts.Guide(float(value), label, colour, dash)]


def _words(guides: Sequence[charts.Guide]) -> str:
    return " ".join(f"Line: {g.label}." for g in guides)


def patient_charts(
    readings: Sequence[Reading],
    marks: Sequence[Mark],
    limits: Mapping[str, Any],
    now: datetime,
) -> dict[str, ChartView]:
    """``limits``: the thresholds the pathway applies to this patient (personal over the
    site's), with ``target_weight_kg`` and ``weight_above_target_kg``."""
    start = now - timedelta(days=CHART_DAYS)
    window = sorted((r for r in readings if r.taken_at >= start), key=lambda r: r.taken_at)
    newest = window[::-1]
    ticks = _ticks(start, CHART_DAYS)
    span = f"the last {CHART_DAYS} days to {now.astimezone(LONDON):%d %b %Y}"

    def points(kind: str, attr: str, unit: str) -> list[charts.Point]:
        return [
            charts.Point(
                _x(start, r.taken_at),
                float(getattr(r, attr)),
                f"{london(r.taken_at)}: {getattr(r, attr):g} {unit}",
            )
            for r in window
            if r.type == kind and getattr(r, attr) is not None
        ]

    def events(chart: str) -> list[charts.Event]:
        return [
            charts.Event(_x(start, m.at), m.label, "red" if m.severity == "red" else "amber")
            for m in marks
            if m.chart == chart and m.at >= start
        ]

    def event_words(found: list[charts.Event]) -> str:
        if not found:
            return " No alerts raised on these readings in this period."
        return f" {len(found)} alert markers: " + "; ".join(e.label for e in found) + "."

    def chart(
        key: str,
        title: str,
        unit: str,
        series: list[charts.Series],
        guides: list[charts.Guide],
        y_label: str,
    ) -> charts.Chart:
        pts = [p for s in series for p in s.points]
        found = events(key)
        latest = max(pts, key=lambda p: p.x).label.split(": ")[-1] if pts else ""
        desc = (
            f"{len(pts)} readings, {_range_words([p.y for p in pts], unit)}. "
            + (f"Latest {latest}. " if latest else "")
            + _words(guides)
            + event_words(found)
        )
        return charts.Chart(
            chart_id=f"chart-{key}",
            title=f"{title}, {span}",
            desc=desc,
            y_label=y_label,
            x_min=0,
            x_max=CHART_DAYS,
            x_ticks=ticks,
            series=series,
            guides=guides,
            events=found,
            y_max=100 if unit == "%" else None,
        )

    out: dict[str, ChartView] = {}

    target = limits.get("target_weight_kg")
    above = limits.get("weight_above_target_kg")
    weight_guides = _guide(target, f"Target {target:g} kg" if target else "", charts.GREEN)
    if target is not None and above is not None:
        amber_at = round(float(target) + float(above), 1)
        weight_guides += _guide(amber_at, f"Amber at {amber_at:g} kg", charts.AMBER)
    weights = points("weight", "value", "kg")
    weight_chart = chart(
        "weight",
        "Weight (kg)",
        "kg",
        [charts.Series("Weight", weights, charts.BLUE, "circle", max_gap=3)],
        weight_guides,
        "Weight (kg)",
    )
    if target is None:
        weight_chart = _with_desc(weight_chart, " No target weight: no amber line.")
    out["weight"] = ChartView(
        charts.render_responsive(weight_chart),
        "Weight",
        ["Taken", "Weight (kg)"],
        [[london(r.taken_at), f"{r.value:.1f}"] for r in newest if r.type == "weight" and r.value],
    )

    # Systolic and diastolic on plots of their own: the limits are the systolic pressure's.
    systolic = points("blood_pressure", "systolic", "mmHg")
    diastolic = points("blood_pressure", "diastolic", "mmHg")
    red_sys, amber_sys = limits.get("systolic_red_below"), limits.get("systolic_amber_below")
    systolic_chart = chart(
        "blood_pressure",
        "Systolic blood pressure (mmHg)",
        "mmHg",
        [charts.Series("Systolic", systolic, charts.BLUE, "triangle", max_gap=3)],
        _guide(red_sys, f"Red below {red_sys}", charts.RED)
        + _guide(amber_sys, f"Amber below {amber_sys}", charts.AMBER),
        "Systolic (mmHg)",
    )
    diastolic_chart = charts.Chart(
        chart_id="chart-diastolic",
        title=f"Diastolic blood pressure (mmHg), {span}",
        desc=f"{len(diastolic)} readings, {_range_words([p.y for p in diastolic], 'mmHg')}. "
        "The pathway sets no limit on the diastolic pressure.",
        y_label="Diastolic (mmHg)",
        x_min=0,
        x_max=CHART_DAYS,
        x_ticks=ticks,
        series=[charts.Series("Diastolic", diastolic, charts.PURPLE, "triangle-down", True, 3)],
        height=180,
    )
    out["blood_pressure"] = ChartView(
        charts.render_responsive(systolic_chart),
        "Blood pressure",
        ["Taken", "Systolic (mmHg)", "Diastolic (mmHg)"],
        [
            [london(r.taken_at), str(r.systolic), str(r.diastolic)]
            for r in newest
            if r.type == "blood_pressure"
        ],
        extra_svg=charts.render_responsive(diastolic_chart),
    )

    pulse_guides = (
        _guide(limits.get("pulse_high_red"), f"Red at {limits.get('pulse_high_red')}+", charts.RED)
        + _guide(
            limits.get("pulse_high_amber"),
            f"Amber at {limits.get('pulse_high_amber')}+",
            charts.AMBER,
        )
        + _guide(
            limits.get("pulse_low_amber"),
            f"Amber at {limits.get('pulse_low_amber')} or less",
            charts.AMBER,
        )
        + _guide(
            limits.get("pulse_low_red"), f"Red at {limits.get('pulse_low_red')} or less", charts.RED
        )
    )

    def single(
        kind: str, title: str, unit: str, style: tuple[str, str, charts.Shape], y_label: str
    ) -> ChartView:
        """A chart of one value per reading (pulse, SpO2) with its own limits, and its table."""
        key, name, shape = style
        colour = charts.DARK if key == "pulse" else charts.BLUE
        series = [charts.Series(name, points(kind, "value", unit), colour, shape, max_gap=3)]
        guides = pulse_guides if key == "pulse" else spo2_guides
        return ChartView(
            charts.render_responsive(chart(key, title, unit, series, guides, y_label)),
            name,
            ["Taken", y_label],
            [[london(r.taken_at), f"{r.value:g}"] for r in newest if r.type == kind and r.value],
        )

    red_spo2, amber_spo2 = limits.get("spo2_red_at_or_below"), limits.get("spo2_amber_at_or_below")
    spo2_guides = _guide(
        red_spo2, f"Red at {red_spo2:g}% or less" if red_spo2 else "", charts.RED
    ) + _guide(amber_spo2, f"Amber at {amber_spo2:g}% or less" if amber_spo2 else "", charts.AMBER)
    out["pulse"] = single(
        "heart_rate",
        "Pulse (beats per minute)",
        "per minute",
        ("pulse", "Pulse", "square"),
        "Pulse (per minute)",
    )
    out["spo2"] = single(
        "spo2", "Oxygen saturation SpO2 (%)", "%", ("spo2", "SpO2", "diamond"), "SpO2 (%)"
    )
    return out


def _with_desc(chart: charts.Chart, more: str) -> charts.Chart:
    return replace(chart, desc=chart.desc + more)


def kccq_chart(scores: Sequence[Any]) -> Any:
    """KCCQ-12 summary scores over time (0-100, higher is better), from two scores up."""
    ordered = sorted(scores, key=lambda r: (r.assessed_on, r.recorded_at))
    if len(ordered) < 2:
        return None
    first = ordered[0].assessed_on
    span = max((ordered[-1].assessed_on - first).days, 1)
    points = [
        charts.Point(
            (r.assessed_on - first).days, r.score, f"{r.assessed_on:%d %b %Y}: {r.score:g}"
        )
        for r in ordered
    ]
    ticks = [(points[0].x, f"{first:%b %Y}"), (points[-1].x, f"{ordered[-1].assessed_on:%b %Y}")]
    change = ordered[-1].score - ordered[0].score
    return charts.render_responsive(
        charts.Chart(
            chart_id="chart-kccq",
            title="KCCQ-12 overall summary score (0 to 100, higher is better)",
            desc=f"{len(points)} scores from {first:%d %b %Y} to "
            f"{ordered[-1].assessed_on:%d %b %Y}: {change:+g} points overall. "
            + "; ".join(p.label for p in points)
            + ".",
            y_label="Score",
            x_min=-span * 0.03,
            x_max=span * 1.03,
            x_ticks=ticks,
            series=[charts.Series("KCCQ-12", points, charts.GREEN, "circle")],
            y_min=0,
            y_max=100,
            height=180,
        )
    )
