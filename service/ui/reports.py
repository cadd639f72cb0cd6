"""The network reports, trends and equity splits, and their CSVs (programme leads), built by
``service.reports.build`` and ``service.reports.csv_export`` with the same disclosure control as
the API's."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from service.deps import NowDep, Principal, SessionDep
from service.models import Site
from service.problems import Problem
from service.reports import build
from service.reports.csv_export import CSV_MEDIA, equity_csv_rows, network_csv_rows, to_csv
from service.reports.figures import FigureStore, sites
from service.reports.groups import EQUITY_DIMENSIONS
from service.reports.metrics import REGISTRY
from service.reports.period import current_month, report_month, shift_month
from service.reports.shapes import NetworkMetric
from service.ui import charts, views
from service.ui.pages import (
    ReportReaders,
    error_page,
    render,
    secure,
)

router = APIRouter(prefix="/ui", include_in_schema=False)
DEFAULT_TREND_METRIC = "weight_adherence"


def _month_choices(now: datetime) -> list[str]:
    current = current_month(now)
    return [shift_month(current, -i) for i in range(0, 25)]


def _chosen_month(month: str | None, now: datetime) -> str:
    try:
        return report_month(month or None, now)
    except Problem:
        return report_month(None, now)


def own_sites(listed: list[Site], principal: Principal) -> list[Site]:
    """The sites whose own report (teams, equity splits) the caller may open: a site lead's
    own; every site for a programme lead."""
    if principal.role == "site_lead":
        return [s for s in listed if s.id == principal.site_id]
    return listed


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
    chosen = _chosen_month(month, now)
    store = FigureStore(session, now)
    report = build.network_report(store, chosen, build.DEFAULT_TREND_MONTHS)
    trend_id = metric if metric in REGISTRY else DEFAULT_TREND_METRIC
    trend_metric = next(m for m in report["metrics"] if m["id"] == trend_id)
    all_sites = own_sites(store.sites(), user.principal)
    trend_charts = [
        views.trend_chart(f"trend-{s['code'].lower()}", trend_metric, s["code"], s["name"])
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
            "months": _month_choices(now),
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
    chosen_site = _site_by_code(own_sites(sites(session), user.principal), site)
    if chosen_site is None:
        return error_page(request, user, 404, "No sites", "There are no sites to report on yet.")
    equity_by = by if by in EQUITY_DIMENSIONS else "imd_quintile"
    report = build.equity_report(FigureStore(session, now), chosen_site, chosen, equity_by)
    return _csv_response(
        to_csv(equity_csv_rows(report)),
        f"equity-{chosen_site.code}-{equity_by}-{chosen}.csv",
    )
