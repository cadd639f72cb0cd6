"""The reports' SPC charts and funnel plots as accessible SVG (``service.charts``).

Special-cause points differ from common-cause ones by shape as well as colour (Making Data
Count's blue for improvement, orange for concern, purple where neither direction is better);
a funnel's sites carry a number read in the key table beside the chart, so labels never print
over each other.
"""

from __future__ import annotations

from service import charts
from service.charts.labels import SUPPRESSED, month_name, month_tick, shown
from service.reports import funnel
from service.reports.metrics import REGISTRY
from service.reports.rate_funnels import rate_spec
from service.reports.shapes import FunnelData, NetworkMetric
from service.reports.spc_view import SpcView

# Making Data Count's icon colours, darkened where needed for 3:1 against white.
IMPROVEMENT_COLOUR = "#005eb8"
CONCERN_COLOUR = "#b35c00"
NEITHER_COLOUR = charts.PURPLE
POINT_STYLES: dict[str, tuple[str, str, charts.Shape]] = {
    "common_cause": ("Common cause", charts.GREY, "circle"),
    "special_cause_improvement": ("Special cause: improvement", IMPROVEMENT_COLOUR, "triangle"),
    "special_cause_concern": ("Special cause: concern", CONCERN_COLOUR, "diamond"),
    "special_cause_neither": ("Special cause: neither", NEITHER_COLOUR, "square"),
}


def positions(data: FunnelData) -> dict[str, str]:
    """Where each drawn site falls, in words: within the 95 % limits, between the 95 % and
    99.8 % limits, or beyond the 99.8 % limits (above or below)."""
    centre = data["network"]
    out: dict[str, str] = {}
    for p in data["points"]:
        value = p["value"]
        if not isinstance(value, int | float) or p["x"] <= 0:
            continue
        if data["kind"] == "proportion":
            num, den = centre["numerator"], centre["denominator"]
            if not isinstance(num, int) or not isinstance(den, int | float) or not den:
                continue
            lo95, hi95 = funnel.limits(num / den, p["x"], funnel.Z_95)
            lo998, hi998 = funnel.limits(num / den, p["x"], funnel.Z_998)
            bounds = [100 * b for b in (lo95, hi95, lo998, hi998)]
        else:
            num, den = centre["numerator"], centre["denominator"]
            if not isinstance(num, int) or not isinstance(den, int | float) or not den:
                continue
            at = funnel.rate_limits(num / den, float(p["x"]))
            spec = rate_spec(REGISTRY[data["metric"]["id"]])
            per = spec.per if spec is not None else 1.0
            bounds = [b * per for b in (at.lower_95, at.upper_95, at.lower_998, at.upper_998)]
        v = float(value)
        if v > bounds[3]:
            out[p["code"]] = "Above the 99.8% limit"
        elif v < bounds[2]:
            out[p["code"]] = "Below the 99.8% limit"
        elif v > bounds[1]:
            out[p["code"]] = "Above the 95% limit"
        elif v < bounds[0]:
            out[p["code"]] = "Below the 95% limit"
        else:
            out[p["code"]] = "Within the 95% limits"
    return out


def icon_class(icon: str | None) -> str:
    """The CSS modifier of a variation icon's badge (the badge always carries its words)."""
    if icon is None or icon == "common_cause":
        return "common"
    return icon.split("_")[0]


def spc_chart(chart_id: str, view: SpcView) -> charts.Chart:
    unit = view["metric"]["unit"]
    where = view["site"]["name"] if view["site"] else "Network"
    points = view["points"]
    line: list[charts.Point] = []
    by_type: dict[str, list[charts.Point]] = {key: [] for key in POINT_STYLES}
    gaps: list[tuple[float, str]] = []
    for i, p in enumerate(points):
        label = month_name(p["month"])
        if p["value"] is None:
            if p["shown"] == "*":
                gaps.append((float(i), f"{label}: suppressed (small numbers)"))
            continue
        words = POINT_STYLES.get(p["point_type"] or "common_cause", POINT_STYLES["common_cause"])
        point = charts.Point(i, p["value"], f"{label}: {shown(p['value'], unit)}, {words[0]}")
        line.append(point)
        by_type[p["point_type"] or "common_cause"].append(point)
    series = [charts.Series(where, line, charts.DARK, "circle", max_gap=1, markers=False)]
    for key, pts in by_type.items():
        if pts:
            name, colour, shape = POINT_STYLES[key]
            series.append(charts.Series(name, pts, colour, shape, max_gap=-1))
    guides = []
    if view["mean"] is not None:
        guides.append(charts.Guide(view["mean"], "Mean", charts.GREEN, "2 3"))
    # A p-chart's limits move with each month's denominator: they are drawn as lines.
    uppers = [charts.Point(i, p["upper"]) for i, p in enumerate(points) if p["upper"] is not None]
    lowers = [charts.Point(i, p["lower"]) for i, p in enumerate(points) if p["lower"] is not None]
    if view["chart"] == "xmr":
        for limit, name in ((view["lower"], "Lower limit"), (view["upper"], "Upper limit")):
            if limit is not None:
                guides.append(charts.Guide(limit, name, charts.AXIS, "6 3"))
    elif uppers:
        series.append(
            charts.Series("Process limits", uppers, charts.AXIS, "circle", True, 1, False)
        )
        series.append(charts.Series("", lowers, charts.AXIS, "circle", True, 1, False))
    last = len(points) - 1
    ticks = [
        (float(i), month_tick(p["month"])) for i, p in enumerate(points) if (last - i) % 2 == 0
    ]
    desc = (
        f"{view['chart_name']} of {view['metric']['title']} for {where}, "
        f"{month_name(points[0]['month'])} to {month_name(points[-1]['month'])}. "
        f"{view['variation']}."
        + (f" Mean {shown(view['mean'], unit)}." if view["mean"] is not None else "")
    )
    return charts.Chart(
        chart_id=chart_id,
        title=f"{where}: {view['metric']['title']}",
        desc=desc,
        y_label=unit,
        x_min=-0.3,
        x_max=len(points) - 0.7,
        x_ticks=ticks,
        series=series,
        guides=guides,
        y_min=0,
        y_max=100 if unit == "%" else None,
        gaps=gaps,
        extra_legend=[("*", "suppressed")] if gaps else [],
    )


def funnel_numbers(data: FunnelData) -> dict[str, int]:
    """Each drawn site's number on a funnel plot, in the order the funnel lists them."""
    return {point["code"]: i for i, point in enumerate(data["points"], start=1)}


def funnel_chart(
    chart_id: str, data: FunnelData, numbers: dict[str, int], *, key_in_legend: bool = False
) -> charts.Chart:
    """``numbers``: each site's number, read in a key; the page prints the key as a table
    beside the chart, a standalone SVG file (``key_in_legend``) in its own legend."""
    limits = data["limits"]
    # Sites at the same spot share one label ("1, 2"), so numbers never print over each other.
    spots: dict[tuple[float, float], list[str]] = {}
    for p in data["points"]:
        if isinstance(p["value"], int | float):
            spot = (round(float(p["x"]), 1), round(float(p["value"]), 1))
            spots.setdefault(spot, []).append(p["code"])
    sites = [
        charts.Point(
            x,
            y,
            "; ".join(f"{numbers[c]}. {c}: {shown(y)} at {shown(x)}" for c in codes),
            ", ".join(str(numbers[c]) for c in codes),
        )
        for (x, y), codes in spots.items()
    ]
    series = [charts.Series("Site (number in the key)", sites, charts.BLUE, "circle", max_gap=-1)]
    for key, name, colour, dash in (
        ("95", "95% limits", AMBER_LIMIT, False),
        ("998", "99.8% limits", charts.RED, True),
    ):
        for side, shown_name in (("upper", name), ("lower", "")):
            curve = [
                charts.Point(float(row["denominator"]), float(row[f"{side}_{key}"]))  # type: ignore[literal-required]
                for row in limits
            ]
            series.append(charts.Series(shown_name, curve, colour, "circle", dash, None, False))
    guides = []
    centre = data["network"]["value"]
    if isinstance(centre, int | float):
        guides.append(charts.Guide(float(centre), "Network", charts.GREEN, "2 3"))
    largest = max([*(p.x for p in sites), *(float(r["denominator"]) for r in limits), 1.0])
    ticks = [(t, shown(t)) for t in charts.nice_ticks(0, largest) if t <= largest]
    proportion = data["kind"] == "proportion"
    top = 100.0 if proportion else max([*(p.y for p in sites), _upper_at(data, largest), 1.0])
    return charts.Chart(
        chart_id=chart_id,
        title=f"{data['metric']['title']}, {month_name(data['month'])}: funnel plot",
        desc=(
            f"Funnel plot: {data['y_label']} of each site against {data['x_label']}, with the "
            f"network's figure and its 95% and 99.8% limits. {len(sites)} sites shown."
        ),
        y_label=data["y_label"],
        x_min=0,
        x_max=largest,
        x_ticks=ticks,
        series=[_clipped(s, top * 1.1) if not s.markers else s for s in series],
        guides=guides,
        y_min=0,
        y_max=top * (1.0 if proportion else 1.1),
        height=320,
        extra_legend=[(str(n), code) for code, n in numbers.items()] if key_in_legend else [],
    )


AMBER_LIMIT = charts.AMBER


def _clipped(series: charts.Series, top: float) -> charts.Series:
    """A limit curve cut at the top of the plot (a rate's upper limit soars at tiny exposures)."""
    points = [p for p in series.points if p.y <= top]
    return charts.Series(
        series.name, points, series.colour, series.shape, series.dashed, None, False
    )


def _upper_at(data: FunnelData, largest: float) -> float:
    """The 99.8 % upper limit at a tenth of the largest exposure: a rate's funnel is unbounded
    at tiny exposures, so the axis stops where the sites are."""
    rows = [r for r in data["limits"] if float(r["denominator"]) >= largest / 10]
    return float(rows[0]["upper_998"]) if rows else 1.0


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
