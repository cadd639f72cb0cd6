"""Outcomes recorded by teams, and site and network reports.

Recording (medicines, KCCQ-12) is for clinicians of the patient's team and is audited; events
and the discharge from monitoring drive the patient's state, in ``service.patients``. Reports:
programme leads see every site, disclosure-controlled; clinicians see their own teams' figures
as they are.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from service.access import audit_patient_access, patient_for, route_of
from service.deps import NowDep, Principal, SessionDep, require
from service.models import Site, Team
from service.pagination import dated_page
from service.patients.events import not_future
from service.problems import NotFound, field_error
from service.reports import build, charts
from service.reports.groups import EQUITY_DIMENSIONS
from service.reports.metrics import REGISTRY, Metric
from service.reports.models import KccqScore, MedicationChange
from service.reports.period import report_month
from service.reports.schemas import KccqIn, KccqOut, MedicationIn, MedicationOut
from service.schemas import Page

router = APIRouter(prefix="/api/v1")
recording = APIRouter(tags=["patient outcomes"])
reports = APIRouter(prefix="/reports", tags=["reports"])

Clinician = Annotated[Principal, Depends(require("clinician"))]
Lead = Annotated[Principal, Depends(require("programme_lead"))]
Staff = Annotated[Principal, Depends(require("clinician", "programme_lead", "admin"))]

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
Limit = Annotated[int, Query(ge=1, le=200)]


# --- recording: medicines and KCCQ-12 ---------------------------------------------------------


@recording.post(
    "/patients/{patient_id}/medications",
    status_code=status.HTTP_201_CREATED,
    response_model=MedicationOut,
    summary="Record a change in one of the four pillars (clinician of the team)",
)
def record_medication(
    patient_id: uuid.UUID,
    body: MedicationIn,
    request: Request,
    session: SessionDep,
    principal: Clinician,
    now: NowDep,
) -> MedicationOut:
    patient = patient_for(session, principal, patient_id)
    not_future("changed_on", body.changed_on, now)
    row = MedicationChange(
        id=uuid.uuid4(),
        patient_id=patient.id,
        pillar=body.pillar,
        status=body.status,
        at_target_or_max_tolerated=body.at_target_or_max_tolerated,
        drug=body.drug,
        changed_on=body.changed_on,
        recorded_at=now,
        recorded_by=principal.user_id,
    )
    session.add(row)
    session.flush()
    audit_patient_access(
        session, route_of(request), principal, patient.id, "C", now, f"medication:{body.pillar}"
    )
    return MedicationOut.model_validate(row, from_attributes=True)


@recording.get(
    "/patients/{patient_id}/medications",
    response_model=Page[MedicationOut],
    summary="A patient's medicine changes, oldest first (clinician of the team)",
)
def list_medications(
    patient_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Clinician,
    now: NowDep,
    limit: Limit = 50,
    cursor: str | None = None,
) -> Page[MedicationOut]:
    patient = patient_for(session, principal, patient_id)
    page, next_cursor = dated_page(
        session, MedicationChange, MedicationChange.changed_on, patient.id, limit, cursor
    )
    audit_patient_access(session, route_of(request), principal, patient.id, "R", now, "medications")
    return Page(
        items=[MedicationOut.model_validate(r, from_attributes=True) for r in page],
        next_cursor=next_cursor,
    )


@recording.post(
    "/patients/{patient_id}/kccq",
    status_code=status.HTTP_201_CREATED,
    response_model=KccqOut,
    summary="Record a KCCQ-12 overall summary score, 0-100 (clinician of the team)",
)
def record_kccq(
    patient_id: uuid.UUID,
    body: KccqIn,
    request: Request,
    session: SessionDep,
    principal: Clinician,
    now: NowDep,
) -> KccqOut:
    patient = patient_for(session, principal, patient_id)
    not_future("assessed_on", body.assessed_on, now)
    row = KccqScore(
        id=uuid.uuid4(),
        patient_id=patient.id,
        score=body.score,
        timepoint=body.timepoint,
        assessed_on=body.assessed_on,
        recorded_at=now,
        recorded_by=principal.user_id,
    )
    session.add(row)
    session.flush()
    audit_patient_access(session, route_of(request), principal, patient.id, "C", now, "kccq")
    return KccqOut.model_validate(row, from_attributes=True)


@recording.get(
    "/patients/{patient_id}/kccq",
    response_model=Page[KccqOut],
    summary="A patient's KCCQ-12 scores, oldest first (clinician of the team)",
)
def list_kccq(
    patient_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Clinician,
    now: NowDep,
    limit: Limit = 50,
    cursor: str | None = None,
) -> Page[KccqOut]:
    patient = patient_for(session, principal, patient_id)
    page, next_cursor = dated_page(
        session, KccqScore, KccqScore.assessed_on, patient.id, limit, cursor
    )
    audit_patient_access(session, route_of(request), principal, patient.id, "R", now, "kccq")
    return Page(
        items=[KccqOut.model_validate(r, from_attributes=True) for r in page],
        next_cursor=next_cursor,
    )


# --- reports ----------------------------------------------------------------------------------


def _wants_csv(request: Request, fmt: str | None) -> bool:
    if fmt is not None:
        return fmt == "csv"
    return "text/csv" in request.headers.get("accept", "")


def _csv(body: str, filename: str) -> Response:
    return Response(
        body,
        media_type=build.CSV_MEDIA,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _site(session: Session, site_id: uuid.UUID) -> Site:
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound("No such site.")
    return site


def _metric(metric_id: str, *, proportion: bool = False) -> Metric:
    metric = REGISTRY.get(metric_id)
    if metric is None:
        raise field_error("metric", "unknown metric id (see GET /api/v1/reports/metrics)")
    if proportion and not metric.is_proportion:
        raise field_error("metric", "funnel plots are drawn for proportion metrics only")
    return metric


@reports.get("/metrics", summary="Metric definitions with their SQL (any staff)")
def metric_definitions(principal: Staff) -> dict[str, Any]:
    return {"metrics": build.definitions()}


@reports.get(
    "/network",
    summary="Every site side by side with the network, disclosure-controlled (programme lead)",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def network_report(
    request: Request,
    session: SessionDep,
    principal: Lead,
    now: NowDep,
    month: MonthQuery = None,
    format: FormatQuery = None,
    trend: TrendQuery = build.DEFAULT_TREND_MONTHS,
) -> Response:
    chosen = report_month(month, now)
    if _wants_csv(request, format):
        rows = build.network_csv_rows(build.FigureStore(session, now), chosen, trend)
        return _csv(build.to_csv(rows), f"network-{chosen}.csv")
    return JSONResponse(build.network_report(build.FigureStore(session, now), chosen, trend))


@reports.get(
    "/network/funnel",
    summary="Funnel-plot data for a proportion metric across sites (programme lead)",
)
def network_funnel(
    session: SessionDep,
    principal: Lead,
    now: NowDep,
    metric: Annotated[str, Query(max_length=64)],
    month: MonthQuery = None,
) -> dict[str, Any]:
    return build.funnel_data(
        build.FigureStore(session, now), _metric(metric, proportion=True), report_month(month, now)
    )


@reports.get(
    "/network/funnel.svg",
    summary="Funnel plot of a proportion metric across sites, SVG (programme lead)",
    response_class=Response,
    responses={200: {"content": {SVG_MEDIA: {}}}},
)
def network_funnel_svg(
    session: SessionDep,
    principal: Lead,
    now: NowDep,
    metric: Annotated[str, Query(max_length=64)],
    month: MonthQuery = None,
) -> Response:
    data = build.funnel_data(
        build.FigureStore(session, now), _metric(metric, proportion=True), report_month(month, now)
    )
    return Response(charts.funnel_svg(data), media_type=SVG_MEDIA)


@reports.get(
    "/network/trend.svg",
    summary="Trend chart of a metric, network and sites, SVG (programme lead)",
    response_class=Response,
    responses={200: {"content": {SVG_MEDIA: {}}}},
)
def network_trend_svg(
    session: SessionDep,
    principal: Lead,
    now: NowDep,
    metric: Annotated[str, Query(max_length=64)],
    month: MonthQuery = None,
    trend: TrendQuery = build.DEFAULT_TREND_MONTHS,
) -> Response:
    data = build.trend_series(
        build.FigureStore(session, now), _metric(metric), report_month(month, now), trend
    )
    return Response(charts.trend_svg(data), media_type=SVG_MEDIA)


@reports.get(
    "/sites/{site_id}",
    summary="One site with its teams, the network and the network median (programme lead)",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def site_report(
    site_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Lead,
    now: NowDep,
    month: MonthQuery = None,
    format: FormatQuery = None,
    trend: TrendQuery = build.DEFAULT_TREND_MONTHS,
) -> Response:
    site = _site(session, site_id)
    chosen = report_month(month, now)
    if _wants_csv(request, format):
        rows = build.site_csv_rows(build.FigureStore(session, now), site, chosen, trend)
        return _csv(build.to_csv(rows), f"site-{site.code}-{chosen}.csv")
    return JSONResponse(build.site_report(build.FigureStore(session, now), site, chosen, trend))


@reports.get(
    "/sites/{site_id}/equity",
    summary="A site's metrics split by IMD quintile, ethnicity, age band or sex (programme lead)",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def site_equity(
    site_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Lead,
    now: NowDep,
    by: Annotated[Literal["imd_quintile", "ethnicity", "age_band", "sex"], Query()],
    month: MonthQuery = None,
    format: FormatQuery = None,
) -> Response:
    assert by in EQUITY_DIMENSIONS
    site = _site(session, site_id)
    report = build.equity_report(
        build.FigureStore(session, now), site, report_month(month, now), by
    )
    if _wants_csv(request, format):
        return _csv(build.to_csv(build.equity_csv_rows(report)), f"equity-{site.code}-{by}.csv")
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
    team = session.get(Team, team_id) if team_id in principal.team_ids else None
    if team is None:
        raise NotFound("No such team.")
    return build.team_report(build.FigureStore(session, now), team, report_month(month, now), trend)


router.include_router(recording)
router.include_router(reports)
