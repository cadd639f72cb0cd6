"""Site, network and team reports: programme leads see every site, disclosure-controlled;
clinicians see their own teams' figures as they are. (What teams record for a patient, events,
medicines and KCCQ-12, lives in the patients room, ``service.patients``.)"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from service import charts as svg_charts
from service.charts import report_charts
from service.deps import NowDep, Principal, SessionDep, require
from service.reports import build, charts, practice, scope, spc_view
from service.reports.csv_export import (
    CSV_MEDIA,
    equity_csv_rows,
    network_csv_rows,
    site_csv_rows,
    to_csv,
)
from service.reports.figures import FigureStore
from service.reports.groups import EQUITY_DIMENSIONS
from service.reports.rate_funnels import funnel_metric, funnel_of
from service.reports.shapes import FunnelData

router = APIRouter(prefix="/api/v1")
reports = APIRouter(prefix="/reports", tags=["reports"])

Clinician = Annotated[Principal, Depends(require("clinician"))]
Lead = Annotated[Principal, Depends(require("programme_lead"))]
NetworkReader = Annotated[Principal, Depends(require(*scope.NETWORK_REPORT_ROLES))]
SiteReader = Annotated[Principal, Depends(require(*scope.SITE_REPORT_ROLES))]
Staff = Annotated[Principal, Depends(require("clinician", "programme_lead", "admin", "site_lead"))]

MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
MonthQuery = Annotated[
    str | None,
    Query(
        pattern=MONTH, description="Calendar month in Europe/London, YYYY-MM (default: last month)"
    ),
]
TrendQuery = Annotated[int, Query(ge=1, le=24, description="Months of trend, ending with month")]
FormatQuery = Annotated[
    Literal["json", "csv"] | None, Query(description="Or send Accept: text/csv")
]
SVG_MEDIA = "image/svg+xml"


# --- reports ----------------------------------------------------------------------------------


def _wants_csv(request: Request, fmt: str | None) -> bool:
    if fmt is not None:
        return fmt == "csv"
    return "text/csv" in request.headers.get("accept", "")


def _csv(body: str, filename: str) -> Response:
    return Response(
        body,
        media_type=CSV_MEDIA,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _funnel(session: Session, now: datetime, metric: str, month: str | None) -> FunnelData:
    chosen_metric = funnel_metric(metric)
    chosen = build.data_month(session, month, now)
    return funnel_of(FigureStore(session, now), chosen_metric, chosen)


@reports.get("/metrics", summary="Metric definitions with their SQL (any staff)")
def metric_definitions(principal: Staff) -> dict[str, Any]:
    return {"metrics": build.definitions()}


@reports.get(
    "/network",
    summary="Every site side by side with the network, disclosure-controlled, with each site's "
    "pathway practice in words (programme lead, site lead)",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def network_report(
    request: Request,
    session: SessionDep,
    principal: NetworkReader,
    now: NowDep,
    month: MonthQuery = None,
    format: FormatQuery = None,
    trend: TrendQuery = build.DEFAULT_TREND_MONTHS,
) -> Response:
    chosen = build.data_month(session, month, now)
    if _wants_csv(request, format):
        rows = network_csv_rows(FigureStore(session, now), chosen, trend)
        return _csv(to_csv(rows), f"network-{chosen}.csv")
    report = build.network_report(FigureStore(session, now), chosen, trend)
    return JSONResponse({**report, "practice": practice.network_practice(session, chosen)})


@reports.get(
    "/network/funnel",
    summary="Funnel-plot data for a proportion or a rate across sites (programme lead, site lead)",
)
def network_funnel(
    session: SessionDep,
    principal: NetworkReader,
    now: NowDep,
    metric: Annotated[str, Query(max_length=64)],
    month: MonthQuery = None,
) -> dict[str, Any]:
    # A plain dict, as the route declares: its OpenAPI schema stays a free-form object.
    return dict(_funnel(session, now, metric, month))


@reports.get(
    "/network/funnel.svg",
    summary="Funnel plot of a proportion or a rate across sites, SVG (programme lead, site lead)",
    response_class=Response,
    responses={200: {"content": {SVG_MEDIA: {}}}},
)
def network_funnel_svg(
    session: SessionDep,
    principal: NetworkReader,
    now: NowDep,
    metric: Annotated[str, Query(max_length=64)],
    month: MonthQuery = None,
) -> Response:
    data = _funnel(session, now, metric, month)
    # The reports pages' own funnel plot, its sites numbered with the key in its legend.
    numbers = report_charts.funnel_numbers(data)
    chart = report_charts.funnel_chart("funnel", data, numbers, key_in_legend=True)
    return Response(str(svg_charts.render(chart)), media_type=SVG_MEDIA)


@reports.get(
    "/network/spc",
    summary="A metric's Making Data Count chart, network or one site (programme lead)",
)
def network_spc(
    session: SessionDep,
    principal: Lead,
    now: NowDep,
    metric: Annotated[str, Query(max_length=64)],
    month: MonthQuery = None,
    site_id: Annotated[uuid.UUID | None, Query(description="A site; the network if none")] = None,
    trend: TrendQuery = build.DEFAULT_TREND_MONTHS,
    run_length: Annotated[
        int, Query(ge=6, le=7, description="Points in a run on one side of the mean: 7 or 6")
    ] = spc_view.DEFAULT_RUN_LENGTH,
) -> dict[str, Any]:
    chosen_metric = build.find_metric(metric)
    site = None if site_id is None else build.find_site(session, site_id)
    chosen = build.data_month(session, month, now)
    view = spc_view.spc_view(
        FigureStore(session, now), chosen_metric, chosen, site, trend, run_length
    )
    return dict(view)


@reports.get(
    "/network/trend.svg",
    summary="Trend chart of a metric, network and sites, SVG (programme lead, site lead)",
    response_class=Response,
    responses={200: {"content": {SVG_MEDIA: {}}}},
)
def network_trend_svg(
    session: SessionDep,
    principal: NetworkReader,
    now: NowDep,
    metric: Annotated[str, Query(max_length=64)],
    month: MonthQuery = None,
    trend: TrendQuery = build.DEFAULT_TREND_MONTHS,
) -> Response:
    data = build.trend_series(
        FigureStore(session, now),
        build.find_metric(metric),
        build.data_month(session, month, now),
        trend,
    )
    return Response(charts.trend_svg(data), media_type=SVG_MEDIA)


@reports.get(
    "/sites/{site_id}",
    summary="One site with its teams, the network, the network median and the site's pathway "
    "practice in words (programme lead; site lead: their own site; others: a granted site)",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def site_report(
    site_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: SiteReader,
    now: NowDep,
    month: MonthQuery = None,
    format: FormatQuery = None,
    trend: TrendQuery = build.DEFAULT_TREND_MONTHS,
) -> Response:
    site = scope.readable_site(session, principal, site_id, now)
    chosen = build.data_month(session, month, now)
    if _wants_csv(request, format):
        rows = site_csv_rows(FigureStore(session, now), site, chosen, trend)
        return _csv(to_csv(rows), f"site-{site.code}-{chosen}.csv")
    report = build.site_report(FigureStore(session, now), site, chosen, trend)
    return JSONResponse({**report, "practice": practice.site_practice(session, site, chosen)})


@reports.get(
    "/sites/{site_id}/equity",
    summary="A site's metrics split by IMD quintile, ethnicity, age band or sex (programme "
    "lead; site lead: their own site; others: a granted site)",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def site_equity(
    site_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: SiteReader,
    now: NowDep,
    by: Annotated[Literal["imd_quintile", "ethnicity", "age_band", "sex"], Query()],
    month: MonthQuery = None,
    format: FormatQuery = None,
) -> Response:
    assert by in EQUITY_DIMENSIONS
    site = scope.readable_site(session, principal, site_id, now)
    report = build.equity_report(
        FigureStore(session, now), site, build.data_month(session, month, now), by
    )
    if _wants_csv(request, format):
        return _csv(to_csv(equity_csv_rows(report)), f"equity-{site.code}-{by}.csv")
    return JSONResponse(report)


@reports.get(
    "/teams/{team_id}",
    summary="Your own team's figures, not suppressed (clinician of the team)",
)
def team_report(
    team_id: uuid.UUID,
    session: SessionDep,
    principal: Clinician,
    now: NowDep,
    month: MonthQuery = None,
    trend: TrendQuery = build.DEFAULT_TREND_MONTHS,
) -> dict[str, Any]:
    team = build.own_team(session, principal, team_id)
    report = build.team_report(
        FigureStore(session, now), team, build.data_month(session, month, now), trend
    )
    return dict(report)


router.include_router(reports)
