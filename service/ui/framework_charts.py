"""An outcome's 12 months as a chart: the framework's figure, its target, and where SPC limits
are known, the process mean and limits (Making Data Count)."""

from __future__ import annotations

from service import charts
from service.charts.labels import SUPPRESSED, month_name, month_tick, shown
from service.stewardship.shapes import OutcomeJson


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def outcome_chart(chart_id: str, outcome: OutcomeJson) -> charts.Chart:
    trend = outcome["trend"]
    unit = outcome["unit"]
    points, gaps = [], []
    for i, row in enumerate(trend):
        label = month_name(row["month"])
        value = _number(row["value"])
        if value is not None:
            points.append(charts.Point(i, value, f"{label}: {shown(value, unit)}"))
        elif row["value"] == SUPPRESSED:
            gaps.append((float(i), f"{label}: suppressed (small numbers)"))
    guides = [charts.Guide(outcome["target"], "Target")]
    spc = outcome["spc"]
    if spc is not None:
        if spc["mean"] is not None:
            guides.append(charts.Guide(spc["mean"], "Mean", charts.GREY, "2 3"))
        for limit, name in ((spc["lower"], "Lower limit"), (spc["upper"], "Upper limit")):
            if limit is not None:
                guides.append(charts.Guide(limit, name, charts.GREY, "6 3"))
    last = len(trend) - 1
    ticks = [
        (float(i), month_tick(row["month"])) for i, row in enumerate(trend) if (last - i) % 3 == 0
    ]
    values = [p.y for p in points]
    desc = (
        f"{outcome['title']}, {month_name(trend[0]['month'])} to {month_name(trend[-1]['month'])}"
        f", target {shown(outcome['target'], unit)}. "
        + (
            f"Lowest {shown(min(values), unit)}, highest {shown(max(values), unit)}."
            if values
            else "No published figures."
        )
    )
    return charts.Chart(
        chart_id=chart_id,
        title=outcome["title"],
        desc=desc,
        y_label=unit,
        x_min=-0.3,
        x_max=len(trend) - 0.7,
        x_ticks=ticks,
        series=[charts.Series("Value", points, charts.BLUE, "circle", max_gap=1)],
        guides=guides,
        y_min=0,
        y_max=100 if unit == "%" else None,
        gaps=gaps,
        width=330,
        height=210,
        extra_legend=[("*", "suppressed")] if gaps else [],
    )
