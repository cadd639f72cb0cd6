"""The network reports, trends and equity splits, and their CSVs (programme leads), built by
``service.reports.build`` and ``service.reports.csv_export`` with the same disclosure control as
the API's."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from service import charts
from service.charts import report_charts
from service.charts.labels import month_name
from service.deps import NowDep, SessionDep
from service.models import Site
from service.problems import Problem
from service.reports import build, scope, spc_view
from service.reports.csv_export import CSV_MEDIA, equity_csv_rows, network_csv_rows, to_csv
from service.reports.figures import FigureStore, sites
from service.reports.groups import EQUITY_DIMENSIONS
from service.reports.metrics import REGISTRY
from service.reports.period import report_month
from service.reports.rate_funnels import funnel_of, rate_spec
from service.reports.shapes import NetworkMetric
from service.ui import views
from service.ui.pages import (
    ReportReaders,
    error_page,
    render,
    secure,
)

router = APIRouter(prefix="/ui", include_in_schema=False)
DEFAULT_TREND_METRIC = "weight_adherence"


def _chosen_month(month: str | None, now: datetime, session: Session | None = None) -> str:
    try:
        if session is not None:
            return build.data_month(session, month or None, now)
        return report_month(month or None, now)
    except Problem:
        return report_month(None, now)


def _month_message(month: str | None, chosen: str) -> str | None:
    """What the page says when the month asked for cannot be shown (the API answers 422)."""
    if not month or month == chosen:
        return None
    return (
        f"\u201c{month}\u201d is not a month with data to report (use a month from the list). "
        f"Showing {month_name(chosen)} instead."
    )


def _site_by_code(sites: list[Site], code: str | None) -> Site | None:
    return next((s for s in sites if s.code == code), sites[0] if sites else None)


@router.get("/reports", response_class=HTMLResponse)
def reports_page(
    request: Request,
    session: SessionDep,
    user: ReportReaders,
    now: NowDep,
    month: str | None = None,
    metric: str | None = None,
    site: str | None = None,
    by: str | None = None,
) -> Response:
    """Sites side by side, trends and equity splits, disclosure-controlled (programme lead)."""
    chosen = _chosen_month(month, now, session)
    store = FigureStore(session, now)
    report = build.network_report(store, chosen, build.DEFAULT_TREND_MONTHS)
    readings = spc_view.network_readings(
        store, list(REGISTRY.values()), chosen, build.DEFAULT_TREND_MONTHS
    )
    trend_id = metric if metric in REGISTRY else DEFAULT_TREND_METRIC
    trend_metric = next(m for m in report["metrics"] if m["id"] == trend_id)
    all_sites = scope.readable_sites(session, user.principal, store.sites(), now)
    trend_charts = [
        report_charts.trend_chart(f"trend-{s['code'].lower()}", trend_metric, s["code"], s["name"])
        for s in report["sites"]
    ]
    equity_site = _site_by_code(all_sites, site)
    equity_by = by if by in EQUITY_DIMENSIONS else "imd_quintile"
    equity = build.equity_report(store, equity_site, chosen, equity_by) if equity_site else None
    sections: dict[str, list[NetworkMetric]] = {}
    for row in report["metrics"]:
        sections.setdefault(row["section"], []).append(row)
    return render(
        request,
        "reports.html",
        user,
        {
            "nav": "reports",
            "report": report,
            "month": chosen,
            "months": build.months_with_data(session, now),
            "month_message": _month_message(month, chosen),
            "readings": readings,
            "reading_words": spc_view.variation_words,
            "icon_class": report_charts.icon_class,
            "funnel_ids": {m.id for m in FUNNEL_METRICS},
            "sections": sections,
            "section_titles": views.SECTIONS,
            "metrics": list(REGISTRY.values()),
            "trend_metric": trend_metric,
            "trend_charts": [
                (s["name"], charts.render(c))
                for s, c in zip(report["sites"], trend_charts, strict=True)
            ],
            "sites": all_sites,
            "equity": equity,
            "equity_site": equity_site,
            "equity_by": equity_by,
            "equity_labels": views.EQUITY_LABELS,
            "disclosure": report["disclosure"],
        },
    )


def _csv_response(body: str, filename: str) -> Response:
    response = Response(
        body,
        media_type=CSV_MEDIA,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
    return secure(response)


@router.get("/reports/network.csv")
def network_csv(
    request: Request,
    session: SessionDep,
    user: ReportReaders,
    now: NowDep,
    month: str | None = None,
) -> Response:
    """The network report as CSV, as the API gives it (programme lead)."""
    chosen = _chosen_month(month, now)
    rows = network_csv_rows(FigureStore(session, now), chosen)
    return _csv_response(to_csv(rows), f"network-{chosen}.csv")


@router.get("/reports/equity.csv")
def equity_csv(
    request: Request,
    session: SessionDep,
    user: ReportReaders,
    now: NowDep,
    month: str | None = None,
    site: str | None = None,
    by: str | None = None,
) -> Response:
    """A site's equity split as CSV, as the API gives it (programme lead)."""
    chosen = _chosen_month(month, now)
    chosen_site = _site_by_code(
        scope.readable_sites(session, user.principal, sites(session), now), site
    )
    if chosen_site is None:
        return error_page(request, user, 404, "No sites", "There are no sites to report on yet.")
    equity_by = by if by in EQUITY_DIMENSIONS else "imd_quintile"
    report = build.equity_report(FigureStore(session, now), chosen_site, chosen, equity_by)
    return _csv_response(
        to_csv(equity_csv_rows(report)),
        f"equity-{chosen_site.code}-{equity_by}-{chosen}.csv",
    )


@router.get("/reports/spc", response_class=HTMLResponse)
def spc_page(
    request: Request,
    session: SessionDep,
    user: ReportReaders,
    now: NowDep,
    metric: str | None = None,
    site: str | None = None,
    month: str | None = None,
    run: int | None = None,
) -> Response:
    """One metric's Making Data Count chart, network and a chosen site (programme lead)."""
    chosen = _chosen_month(month, now, session)
    chosen_metric = REGISTRY.get(metric or "") or REGISTRY[DEFAULT_TREND_METRIC]
    run_length = run if run in spc_view.RUN_LENGTHS else spc_view.DEFAULT_RUN_LENGTH
    store = FigureStore(session, now)
    all_sites = store.sites()
    chosen_site = _site_by_code(all_sites, site)
    views_ = [spc_view.spc_view(store, chosen_metric, chosen, None, 12, run_length)]
    if chosen_site is not None:
        views_.append(spc_view.spc_view(store, chosen_metric, chosen, chosen_site, 12, run_length))
    panels = [
        (v, charts.render_responsive(report_charts.spc_chart(f"spc-{i}", v)))
        for i, v in enumerate(views_)
    ]
    return render(
        request,
        "reports_spc.html",
        user,
        {
            "nav": "reports",
            "month": chosen,
            "months": build.months_with_data(session, now),
            "month_message": _month_message(month, chosen),
            "metric": chosen_metric,
            "metrics": list(REGISTRY.values()),
            "sites": all_sites,
            "site": chosen_site,
            "run_length": run_length,
            "panels": panels,
            "icon_class": report_charts.icon_class,
            "rule_words": spc_view.RULE_WORDS,
        },
    )


FUNNEL_METRICS = [m for m in REGISTRY.values() if m.is_proportion or rate_spec(m) is not None]


@router.get("/reports/funnel", response_class=HTMLResponse)
def funnel_page(
    request: Request,
    session: SessionDep,
    user: ReportReaders,
    now: NowDep,
    metric: str | None = None,
    month: str | None = None,
) -> Response:
    """A funnel plot of a proportion or a rate across sites, with its key table (programme lead)."""
    chosen = _chosen_month(month, now, session)
    chosen_metric = next((m for m in FUNNEL_METRICS if m.id == metric), None)
    chosen_metric = chosen_metric or REGISTRY[DEFAULT_TREND_METRIC]
    store = FigureStore(session, now)
    data = funnel_of(store, chosen_metric, chosen)
    numbers = report_charts.funnel_numbers(data)
    chart = report_charts.funnel_chart("funnel", data, numbers)
    names = {s.code: s.name for s in store.sites()}
    return render(
        request,
        "reports_funnel.html",
        user,
        {
            "nav": "reports",
            "month": chosen,
            "months": build.months_with_data(session, now),
            "month_message": _month_message(month, chosen),
            "metric": chosen_metric,
            "metrics": FUNNEL_METRICS,
            "data": data,
            "numbers": numbers,
            "positions": report_charts.positions(data),
            "names": names,
            "chart": charts.render_responsive(chart),
        },
    )
