"""A metric's months as a Making Data Count chart, from the disclosed figures.

The network's (or one site's) published figures of each trend month go into ``service.reports.spc``
as they are released: a proportion with its shown (rounded) numerator and denominator as a
p-chart (Laney's p'-chart where over-dispersed), anything else as an XmR chart of its shown
values. A hidden month (``*``) or a month with nothing to report is a gap, so nothing derived
from a suppressed figure is published. The registry has no targets, so there is no assurance
icon: the improvement direction comes from the metric's ``higher_is_better``.
"""

from __future__ import annotations

from typing import TypedDict

from service.models import Site
from service.reports import spc
from service.reports.build import disclosure_meta, metric_header
from service.reports.disclosure import Cell
from service.reports.figures import FigureStore
from service.reports.metrics import Metric
from service.reports.period import last_months
from service.reports.shapes import DisclosureMeta, MetricHeader, SiteRef

RUN_LENGTHS = (7, 6)
DEFAULT_RUN_LENGTH = 7

VARIATION_WORDS: dict[str, str] = {
    "improvement_high": "Special cause: improvement (high)",
    "improvement_low": "Special cause: improvement (low)",
    "concern_high": "Special cause: concern (high)",
    "concern_low": "Special cause: concern (low)",
    "neither_high": "Special cause: higher, neither better nor worse",
    "neither_low": "Special cause: lower, neither better nor worse",
    "common_cause": "Common cause: no significant change",
}
NO_READING = "Not enough published months to read"
NO_TARGET = "No assurance: the measure has no target"
CHART_NAMES = {
    "xmr": "XmR chart",
    "p": "p-chart",
    "p_prime": "Laney p\u2032-chart (over-dispersed)",
}
RULE_WORDS = {
    "beyond_limits": "beyond a process limit",
    "trend": "trend",
    "two_of_three": "two of three near a limit",
    "run": "run on one side of the mean",
}


class SpcPointJson(TypedDict):
    month: str
    value: float | None
    numerator: int | None
    denominator: int | None
    shown: float | str | None
    mean: float | None
    lower: float | None
    upper: float | None
    rules: list[str]
    point_type: str | None


class SpcView(TypedDict):
    metric: MetricHeader
    month: str
    site: SiteRef | None
    chart: str
    chart_name: str
    improvement: str
    run_length: int
    trend_length: int
    mean: float | None
    lower: float | None
    upper: float | None
    sigma_z: float | None
    too_few_points: bool
    variation_icon: str | None
    variation: str
    assurance_icon: str | None
    assurance: str
    points: list[SpcPointJson]
    disclosure: DisclosureMeta


def improvement_of(metric: Metric) -> spc.Improvement:
    if metric.higher_is_better is None:
        return "neutral"
    return "increase" if metric.higher_is_better else "decrease"


def variation_words(icon: str | None) -> str:
    return NO_READING if icon is None else VARIATION_WORDS[icon]


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _scaled(value: float | None, scale: float) -> float | None:
    return None if value is None else round(value * scale, 4)


def chart_of_cells(
    metric: Metric, cells: list[Cell], run_length: int = DEFAULT_RUN_LENGTH
) -> spc.SpcChart:
    """The chart of one series of published cells, oldest first."""
    improvement = improvement_of(metric)
    if metric.is_proportion:
        numerators: list[int | None] = []
        denominators: list[int | None] = []
        for cell in cells:
            num, den = _count(cell.numerator), _count(cell.denominator)
            published = (
                num is not None
                and den is not None
                and 0 <= num <= den
                and _number(cell.value) is not None
            )
            numerators.append(num if published else None)
            denominators.append(den if published else None)
        return spc.p_chart(numerators, denominators, improvement=improvement, run_length=run_length)
    return spc.xmr(
        [_number(c.value) for c in cells],
        target=None,
        improvement=improvement,
        run_length=run_length,
    )


def spc_view(
    store: FigureStore,
    metric: Metric,
    month: str,
    site: Site | None,
    trend_months: int,
    run_length: int = DEFAULT_RUN_LENGTH,
) -> SpcView:
    months = last_months(month, max(trend_months, 1))
    disclosed = store.by_site(months)
    cells = [
        disclosed[m][metric.id].network if site is None else disclosed[m][metric.id].sites[site.id]
        for m in months
    ]
    chart = chart_of_cells(metric, cells, run_length)
    # A p-chart works in proportions (0-1); the page and the JSON speak the metric's unit.
    scale = metric.scale if chart.kind != "xmr" else 1.0
    points: list[SpcPointJson] = []
    for m, cell, point in zip(months, cells, chart.points, strict=True):
        points.append(
            {
                "month": m,
                "value": _scaled(point.value, scale),
                "numerator": _count(cell.numerator) if metric.is_proportion else None,
                "denominator": _count(cell.denominator) if metric.is_proportion else None,
                "shown": cell.value,
                "mean": _scaled(point.mean, scale),
                "lower": _scaled(point.lower, scale),
                "upper": _scaled(point.upper, scale),
                "rules": list(point.rules),
                "point_type": point.point_type,
            }
        )
    return {
        "metric": metric_header(metric),
        "month": month,
        "site": None
        if site is None
        else {"id": str(site.id), "code": site.code, "name": site.name},
        "chart": chart.kind,
        "chart_name": CHART_NAMES[chart.kind],
        "improvement": chart.improvement,
        "run_length": chart.run_length,
        "trend_length": chart.trend_length,
        "mean": _scaled(chart.mean, scale),
        "lower": _scaled(chart.lower, scale),
        "upper": _scaled(chart.upper, scale),
        "sigma_z": None if chart.sigma_z is None else round(chart.sigma_z, 4),
        "too_few_points": chart.too_few_points,
        "variation_icon": chart.variation_icon,
        "variation": variation_words(chart.variation_icon),
        "assurance_icon": chart.assurance_icon,
        "assurance": NO_TARGET,
        "points": points,
        "disclosure": disclosure_meta(),
    }


def network_readings(
    store: FigureStore, metrics: list[Metric], month: str, trend_months: int
) -> dict[str, str | None]:
    """Each metric's network variation icon over the trend months (None: no reading)."""
    months = last_months(month, max(trend_months, 1))
    disclosed = store.by_site(months)
    return {
        metric.id: chart_of_cells(
            metric, [disclosed[m][metric.id].network for m in months]
        ).variation_icon
        for metric in metrics
    }
