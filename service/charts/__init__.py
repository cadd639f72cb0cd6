"""Server-rendered SVG line charts for the pages, written as text with no plotting library.

Made to be read without colour: every series has its own marker shape and line style as well as
its colour, reference lines are labelled in words, alert markers differ in shape (triangle for
red, diamond for amber), and each chart carries a ``<title>`` and a ``<desc>`` that say in words
what it shows, for screen readers (the pages add a table of the same data). Colours meet WCAG 2.2
AA non-text contrast (3:1) against the white plot, and text meets 4.5:1.

Everything that comes from data (labels, names) is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from markupsafe import Markup, escape

Shape = Literal["circle", "square", "triangle", "triangle-down", "diamond"]

# NHS identity colours with enough contrast on white: blue 6.4:1, dark grey 7.8:1, red 5.1:1,
# a darkened amber 4.7:1, green 5.1:1, purple 9.2:1.
BLUE = "#005eb8"
DARK = "#212b32"
GREY = "#4c6272"
RED = "#d5281b"
AMBER = "#b35c00"
GREEN = "#007f3b"
PURPLE = "#7c2855"
GRID = "#e8edee"
AXIS = "#768692"

WIDTH, HEIGHT = 720, 230
LEFT, RIGHT, TOP, BOTTOM = 58, 18, 38, 34


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float
    label: str = ""
    # A short key drawn beside the marker (a funnel's site number, read in the table beside it).
    tag: str = ""


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    points: Sequence[Point]
    colour: str = BLUE
    shape: Shape = "circle"
    dashed: bool = False
    # Points further apart than this (in x units) are not joined: a gap in readings shows as a
    # gap, not as a straight line across it.
    max_gap: float | None = None
    # A curve (a funnel's limits) is a line without a marker at each of its points.
    markers: bool = True


@dataclass(frozen=True, slots=True)
class Guide:
    """A labelled horizontal line, e.g. the target weight. A chart draws only the lines of its
    own series: a systolic limit belongs on the systolic plot, never across diastolic points."""

    y: float
    label: str
    colour: str = GREEN
    dash: str = "8 5"


@dataclass(frozen=True, slots=True)
class Event:
    """A labelled moment on the x axis, e.g. an alert being raised."""

    x: float
    label: str
    severity: Literal["red", "amber"]


@dataclass(frozen=True, slots=True)
class Chart:
    chart_id: str
    title: str
    desc: str
    y_label: str
    x_min: float
    x_max: float
    x_ticks: Sequence[tuple[float, str]]
    series: Sequence[Series]
    guides: Sequence[Guide] = ()
    events: Sequence[Event] = ()
    y_min: float | None = None
    y_max: float | None = None
    # x positions with no value to show (e.g. suppressed small numbers), marked on the axis.
    gaps: Sequence[tuple[float, str]] = ()
    width: int = WIDTH
    height: int = HEIGHT
    extra_legend: Sequence[tuple[str, str]] = field(default=())


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering lo..hi: steps of 1, 2, 2.5 or 5 times a power of ten."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(lo / step) * step
    ticks = []
    value = first
    while value <= hi + step * 1e-6:
        ticks.append(round(value, 6))
        value += step
    return ticks


def _fmt(value: float) -> str:
    return f"{value:g}" if abs(value) >= 1 or value == 0 else f"{value:.2g}"


def marker(shape: Shape, x: float, y: float, colour: str, size: float = 4.0) -> str:
    """A marker shape as SVG; shapes tell series apart where colour cannot."""
    s = size
    stroke = f'fill="{colour}" stroke="#ffffff" stroke-width="1"'
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{s * 0.9:.1f}" {stroke}/>'
    if shape == "square":
        return (
            f'<rect x="{x - s * 0.8:.1f}" y="{y - s * 0.8:.1f}" width="{s * 1.6:.1f}" '
            f'height="{s * 1.6:.1f}" {stroke}/>'
        )
    if shape == "triangle":
        return (
            f'<path d="M{x:.1f},{y - s * 1.1:.1f} L{x + s:.1f},{y + s * 0.8:.1f} '
            f'L{x - s:.1f},{y + s * 0.8:.1f} Z" {stroke}/>'
        )
    if shape == "triangle-down":
        return (
            f'<path d="M{x:.1f},{y + s * 1.1:.1f} L{x + s:.1f},{y - s * 0.8:.1f} '
            f'L{x - s:.1f},{y - s * 0.8:.1f} Z" {stroke}/>'
        )
    return (
        f'<path d="M{x:.1f},{y - s * 1.2:.1f} L{x + s * 1.2:.1f},{y:.1f} '
        f'L{x:.1f},{y + s * 1.2:.1f} L{x - s * 1.2:.1f},{y:.1f} Z" {stroke}/>'
    )


def _y_range(chart: Chart) -> tuple[float, float]:
    values = [p.y for s in chart.series for p in s.points] + [g.y for g in chart.guides]
    lo = chart.y_min if chart.y_min is not None else min(values, default=0.0)
    hi = chart.y_max if chart.y_max is not None else max(values, default=1.0)
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    pad = (hi - lo) * 0.08
    if chart.y_min is None:
        lo -= pad
    if chart.y_max is None:
        hi += pad
    ticks = nice_ticks(lo, hi)
    return min(lo, ticks[0]), max(hi, ticks[-1])


# Below this width a chart is the phone layout: a narrower left margin and every other x tick.
NARROW = 480


def render_responsive(chart: Chart) -> Markup:
    """The chart twice: as drawn for a desktop column and for a 390 px phone, where text drawn
    for 720 units would shrink to a few pixels. CSS shows one (``.chart--wide``/``--narrow``);
    the hidden one is ``display: none`` and so not read out twice."""
    narrow = Chart(
        chart_id=f"{chart.chart_id}-narrow",
        title=chart.title,
        desc=chart.desc,
        y_label=chart.y_label,
        x_min=chart.x_min,
        x_max=chart.x_max,
        x_ticks=list(chart.x_ticks)[::2],
        series=chart.series,
        guides=chart.guides,
        events=chart.events,
        y_min=chart.y_min,
        y_max=chart.y_max,
        gaps=chart.gaps,
        width=360,
        height=max(chart.height, 250),
        extra_legend=chart.extra_legend,
    )
    wide = render(chart, "chart chart--wide")
    return Markup(f"{wide}\n{render(narrow, 'chart chart--narrow')}")  # noqa: S704 - escaped


def render(chart: Chart, css_class: str = "chart") -> Markup:
    w, h = chart.width, chart.height
    left = LEFT if w >= NARROW else 44
    legend, legend_rows = _legend(chart, left, w - RIGHT)
    top = TOP + 16 * (legend_rows - 1)
    plot_l, plot_r, plot_t, plot_b = left, w - RIGHT, top, h - BOTTOM
    y_lo, y_hi = _y_range(chart)
    x_span = chart.x_max - chart.x_min or 1.0

    def sx(x: float) -> float:
        return plot_l + (x - chart.x_min) / x_span * (plot_r - plot_l)

    def sy(y: float) -> float:
        return plot_b - (y - y_lo) / (y_hi - y_lo) * (plot_b - plot_t)

    cid = escape(chart.chart_id)
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" viewBox="0 0 {w} {h}" '
        f'role="img" aria-labelledby="{cid}-title {cid}-desc" focusable="false" '
        'font-family="Arial, Helvetica, sans-serif" font-size="12">',
        f'<title id="{cid}-title">{escape(chart.title)}</title>',
        f'<desc id="{cid}-desc">{escape(chart.desc)}</desc>',
        f'<rect x="0" y="0" width="{w}" height="{h}" fill="#ffffff"/>',
    ]
    # Grid and y axis labels.
    for tick in nice_ticks(y_lo, y_hi):
        if tick < y_lo - 1e-9 or tick > y_hi + 1e-9:
            continue
        y = sy(tick)
        out.append(f'<line x1="{plot_l}" y1="{y:.1f}" x2="{plot_r}" y2="{y:.1f}" stroke="{GRID}"/>')
        out.append(
            f'<text x="{plot_l - 8}" y="{y + 4:.1f}" text-anchor="end" fill="{GREY}">'
            f"{_fmt(tick)}</text>"
        )
    out.append(
        f'<text x="14" y="{(plot_t + plot_b) / 2:.1f}" text-anchor="middle" fill="{GREY}" '
        f'transform="rotate(-90 14 {(plot_t + plot_b) / 2:.1f})">{escape(chart.y_label)}</text>'
    )
    # X axis and ticks.
    out.append(f'<line x1="{plot_l}" y1="{plot_b}" x2="{plot_r}" y2="{plot_b}" stroke="{AXIS}"/>')
    for value, label in chart.x_ticks:
        x = sx(value)
        out.append(
            f'<line x1="{x:.1f}" y1="{plot_b}" x2="{x:.1f}" y2="{plot_b + 5}" stroke="{AXIS}"/>'
        )
        out.append(
            f'<text x="{x:.1f}" y="{plot_b + 19}" text-anchor="middle" fill="{GREY}">'
            f"{escape(label)}</text>"
        )
    for value, label in chart.gaps:
        x = sx(value)
        out.append(
            f'<text x="{x:.1f}" y="{plot_b - 6}" text-anchor="middle" fill="{GREY}" '
            f'font-weight="bold">*<title>{escape(label)}</title></text>'
        )
    # Reference lines, named in the legend.
    for guide in chart.guides:
        if not y_lo <= guide.y <= y_hi:
            continue
        y = sy(guide.y)
        out.append(
            f'<line x1="{plot_l}" y1="{y:.1f}" x2="{plot_r}" y2="{y:.1f}" '
            f'stroke="{guide.colour}" stroke-width="2" stroke-dasharray="{guide.dash}"/>'
        )
    # Alert markers: a vertical line and a shape above the plot.
    for event in chart.events:
        x = sx(event.x)
        colour, shape = (RED, "triangle") if event.severity == "red" else (AMBER, "diamond")
        out.append(
            f"<g><title>{escape(event.label)}</title>"
            f'<line x1="{x:.1f}" y1="{plot_t}" x2="{x:.1f}" y2="{plot_b}" stroke="{colour}" '
            f'stroke-width="1.5" stroke-dasharray="3 3"/>'
            f"{marker(shape, x, plot_t - 2, colour, 6)}</g>"  # type: ignore[arg-type]
        )
    # Series: lines broken at gaps, then markers with a tooltip each.
    for series in chart.series:
        pts = sorted(series.points, key=lambda p: p.x)
        segments: list[list[Point]] = []
        for point in pts:
            if segments and (
                series.max_gap is None or point.x - segments[-1][-1].x <= series.max_gap
            ):
                segments[-1].append(point)
            else:
                segments.append([point])
        dash = ' stroke-dasharray="6 4"' if series.dashed else ""
        for segment in segments:
            if len(segment) > 1:
                coords = " ".join(f"{sx(p.x):.1f},{sy(p.y):.1f}" for p in segment)
                out.append(
                    f'<polyline points="{coords}" fill="none" stroke="{series.colour}" '
                    f'stroke-width="2"{dash}/>'
                )
        for point in pts if series.markers else ():
            tip = f"<title>{escape(point.label)}</title>" if point.label else ""
            tag = (
                f'<text x="{sx(point.x) + 6:.1f}" y="{sy(point.y) - 6:.1f}" fill="{DARK}" '
                f'font-weight="bold">{escape(point.tag)}</text>'
                if point.tag
                else ""
            )
            out.append(
                f"<g>{tip}{marker(series.shape, sx(point.x), sy(point.y), series.colour)}{tag}</g>"
            )
    out.append(legend)
    out.append("</svg>")
    return Markup("\n".join(out))  # noqa: S704 - every value from data is escaped above


def _legend(chart: Chart, left: float, right: float) -> tuple[str, int]:
    """Shape, line style and name of each series, line and marker kind, above the plot: in
    rows that wrap at the chart's right edge. Answers the markup and the number of rows."""
    entries: list[tuple[float, Callable[[float, float], str]]] = []
    for series in chart.series:
        if series.name:  # a nameless series is the other half of a named one (lower limits)
            entries.append((40 + 7 * len(series.name), _series_key(series)))
    for guide in chart.guides:
        entries.append((40 + 7 * len(guide.label), _guide_key(guide)))
    severities = {e.severity for e in chart.events}
    for severity, label in (("red", "Red alert"), ("amber", "Amber alert")):
        if severity in severities:
            entries.append((30 + 7 * len(label), _event_key(severity, label)))
    for symbol, label in chart.extra_legend:
        entries.append((20 + 7 * len(label), _text_key(symbol, label)))
    items: list[str] = []
    x, y, rows = left, 14.0, 1
    for width, draw in entries:
        if x > left and x + width - 12 > right:
            x, y, rows = left, y + 16, rows + 1
        items.append(draw(x, y))
        x += width
    return "<g>" + "".join(items) + "</g>", rows


def _series_key(series: Series) -> Callable[[float, float], str]:
    def draw(x: float, y: float) -> str:
        dash = ' stroke-dasharray="6 4"' if series.dashed else ""
        return (
            f'<line x1="{x:.1f}" y1="{y}" x2="{x + 22:.1f}" y2="{y}" stroke="{series.colour}" '
            f'stroke-width="2"{dash}/>'
            + marker(series.shape, x + 11, y, series.colour)
            + f'<text x="{x + 28:.1f}" y="{y + 4}" fill="{DARK}">{escape(series.name)}</text>'
        )

    return draw


def _guide_key(guide: Guide) -> Callable[[float, float], str]:
    def draw(x: float, y: float) -> str:
        return (
            f'<line x1="{x:.1f}" y1="{y}" x2="{x + 22:.1f}" y2="{y}" stroke="{guide.colour}" '
            f'stroke-width="2" stroke-dasharray="{guide.dash}"/>'
            f'<text x="{x + 28:.1f}" y="{y + 4}" fill="{DARK}">{escape(guide.label)}</text>'
        )

    return draw


def _event_key(severity: str, label: str) -> Callable[[float, float], str]:
    colour, shape = (RED, "triangle") if severity == "red" else (AMBER, "diamond")

    def draw(x: float, y: float) -> str:
        return (
            marker(shape, x + 6, y, colour, 5.5)  # type: ignore[arg-type]
            + f'<text x="{x + 16:.1f}" y="{y + 4}" fill="{DARK}">{label}</text>'
        )

    return draw


def _text_key(symbol: str, label: str) -> Callable[[float, float], str]:
    def draw(x: float, y: float) -> str:
        return (
            f'<text x="{x:.1f}" y="{y + 4}" fill="{DARK}"><tspan font-weight="bold">'
            f"{escape(symbol)}</tspan> {escape(label)}</text>"
        )

    return draw
