"""The uptake page: who is being missed, per site and equity group, with the funnel of sites'
uptake (programme leads), built by ``service.reports.uptake`` as the API's is."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from service import charts
from service.deps import NowDep, SessionDep
from service.problems import Problem
from service.reports.figures import FigureStore
from service.reports.groups import EQUITY_DIMENSIONS
from service.reports.period import current_month, report_month, shift_month
from service.reports.uptake import ENROLLED_METRIC, UptakeFunnel, uptake_report
from service.ui import views
from service.ui.pages import Lead, error_page, render

router = APIRouter(prefix="/ui", include_in_schema=False)
MONTHS_LISTED = 25
LIMIT_STEP = 5


def funnel_chart(funnel: UptakeFunnel) -> charts.Chart | None:
    """Sites' uptake against their eligible people, with the 95 % and 99.8 % limits around
    the pooled uptake; None when no site's uptake is published."""
    if not funnel["points"] or funnel["target"] is None:
        return None
    # The curve from half the smallest site's eligible people: below that the limits open to
    # 0-100 % and flatten the part of the plot where the sites are.
    smallest = min(p["eligible"] for p in funnel["points"])
    limits = [row for row in funnel["limits"] if row["denominator"] >= smallest / 2]

    # Every fifth step of the curve: the limits are drawn with a marker at each point.
    steps = [*limits[::LIMIT_STEP], limits[-1]]

    def line(key: str) -> list[charts.Point]:
        return [charts.Point(row["denominator"], row[key]) for row in steps]  # type: ignore[literal-required]

    sites = [
        charts.Point(
            p["eligible"],
            p["uptake"],
            f"{p['code']}: {p['uptake']:g} % of {p['eligible']:,} eligible ({p['position']})",
        )
        for p in funnel["points"]
    ]
    top = max([p.y for p in sites] + [row["upper_998"] for row in limits])
    largest = max(row["denominator"] for row in limits)
    ticks = charts.nice_ticks(limits[0]["denominator"], largest)
    below = [p["code"] for p in funnel["points"] if p["position"] == "below"]
    desc = (
        f"Uptake of {len(sites)} sites against their eligible people, around the pooled uptake "
        f"of {funnel['target']:g} %. "
        + (
            f"Below the 99.8 % limit: {', '.join(below)}."
            if below
            else "No site is below the 99.8 % limit."
        )
    )
    return charts.Chart(
        chart_id="uptake-funnel",
        title="Funnel plot of uptake across sites",
        desc=desc,
        y_label="Uptake (%)",
        x_min=limits[0]["denominator"],
        x_max=largest,
        x_ticks=[(t, f"{t:,.0f}") for t in ticks if limits[0]["denominator"] <= t <= largest],
        series=[
            charts.Series("Upper 99.8 % limit", line("upper_998"), charts.DARK, "square", True),
            charts.Series("Lower 99.8 % limit", line("lower_998"), charts.DARK, "triangle", True),
            charts.Series("Upper 95 % limit", line("upper_95"), charts.GREY, "diamond", True),
            charts.Series("Lower 95 % limit", line("lower_95"), charts.GREY, "triangle-down", True),
            charts.Series("Sites", sites, charts.BLUE, "circle", max_gap=0),
        ],
        guides=[charts.Guide(funnel["target"], f"Pooled uptake {funnel['target']:.1f} %")],
        y_min=0,
        y_max=min(100.0, top * 1.1) if top <= 100 else top * 1.05,
    )


@router.get("/reports/uptake", response_class=HTMLResponse)
def uptake_page(
    request: Request,
    session: SessionDep,
    user: Lead,
    now: NowDep,
    month: str | None = None,
    by: str | None = None,
) -> Response:
    """Who is being missed: uptake per site and equity group (programme lead)."""
    try:
        chosen = report_month(month or None, now)
    except Problem as problem:
        return error_page(request, user, 422, "No such month", problem.detail)
    if by is not None and by not in EQUITY_DIMENSIONS:
        return error_page(
            request, user, 422, "No such split", "Split by IMD quintile, ethnicity, age or sex."
        )
    chosen_by = by or "imd_quintile"
    report = uptake_report(FigureStore(session, now, [ENROLLED_METRIC]), chosen, chosen_by)
    chart = funnel_chart(report["funnel"])
    current = current_month(now)
    sources: dict[str, list[str]] = {}
    for site in report["sites"]:
        if site["load"] is not None:
            sources.setdefault(site["load"]["source"], []).append(site["code"])
    return render(
        request,
        "uptake.html",
        user,
        {
            "nav": "reports",
            "report": report,
            "month": chosen,
            "months": [shift_month(current, -i) for i in range(MONTHS_LISTED)],
            "by": chosen_by,
            "by_labels": views.EQUITY_LABELS,
            "chart": charts.render_responsive(chart) if chart else None,
            "sources": sources,
            "disclosure": report["disclosure"],
        },
    )
