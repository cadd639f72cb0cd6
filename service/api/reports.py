"""Outcomes recorded by teams, and site and network reports.

Recording (events, medicines, KCCQ-12, discharge from monitoring) is for clinicians of the
patient's team and is audited. Reports: programme leads see every site, disclosure-controlled;
clinicians see their own teams' figures as they are.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from service.access import audit_patient_access, patient_for, route_of
from service.deps import NowDep, Principal, SessionDep, require
from service.models import Patient, Site, Team
from service.pagination import day, decode, encode_cursor, keyset, uuid_value
from service.problems import Conflict, NotFound, Unprocessable
from service.reports import build, charts
from service.reports.groups import EQUITY_DIMENSIONS
from service.reports.metrics import REGISTRY, Metric
from service.reports.models import KccqScore, MedicationChange, PatientEvent
from service.reports.period import report_month
from service.reports.schemas import (
    AdmissionIn,
    AttendanceIn,
    DischargeIn,
    EventIn,
    EventOut,
    EventPatch,
    KccqIn,
    KccqOut,
    MedicationIn,
    MedicationOut,
)
from service.schemas import Page, PatientOut
from service.timeutil import LONDON

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


def _field_error(field: str, message: str) -> Unprocessable:
    return Unprocessable(
        f"{field}: {message}",
        extra={"errors": [{"field": field, "message": message, "type": "value_error"}]},
    )


def _not_future(field: str, value: date | None, now: datetime) -> None:
    if value is not None and value > now.astimezone(LONDON).date():
        raise _field_error(field, "is in the future")


# --- recording: patient events ----------------------------------------------------------------


def _event_out(event: PatientEvent) -> EventOut:
    return EventOut.model_validate(event, from_attributes=True)


@recording.post(
    "/patients/{patient_id}/events",
    status_code=status.HTTP_201_CREATED,
    response_model=EventOut,
    summary="Record an admission, A&E attendance or death (clinician of the team)",
)
def record_event(
    patient_id: uuid.UUID,
    body: EventIn,
    request: Request,
    session: SessionDep,
    principal: Clinician,
    now: NowDep,
) -> EventOut:
    patient = patient_for(session, principal, patient_id)
    event = PatientEvent(
        id=uuid.uuid4(), patient_id=patient.id, recorded_at=now, recorded_by=principal.user_id
    )
    if isinstance(body, AdmissionIn):
        _not_future("admitted_on", body.admitted_on, now)
        _not_future("discharged_on", body.discharged_on, now)
        event.kind, event.occurred_on = "admission", body.admitted_on
        event.discharged_on, event.hf_related, event.emergency = (
            body.discharged_on,
            body.hf_related,
            body.emergency,
        )
    elif isinstance(body, AttendanceIn):
        _not_future("attended_on", body.attended_on, now)
        event.kind, event.occurred_on, event.emergency = "ae_attendance", body.attended_on, True
    else:
        _not_future("died_on", body.died_on, now)
        died = select(PatientEvent.id).where(
            PatientEvent.patient_id == patient.id, PatientEvent.kind == "death"
        )
        if session.scalar(died) is not None:
            raise Conflict("A death is already recorded for this patient.")
        event.kind, event.occurred_on, event.emergency = "death", body.died_on, True
    session.add(event)
    session.flush()
    audit_patient_access(
        session, route_of(request), principal, patient.id, "C", now, f"event:{event.kind}"
    )
    return _event_out(event)


@recording.patch(
    "/patients/{patient_id}/events/{event_id}",
    response_model=EventOut,
    summary="Record an admission's discharge date (clinician of the team)",
)
def patch_event(
    patient_id: uuid.UUID,
    event_id: uuid.UUID,
    body: EventPatch,
    request: Request,
    session: SessionDep,
    principal: Clinician,
    now: NowDep,
) -> EventOut:
    patient = patient_for(session, principal, patient_id)
    event = session.get(PatientEvent, event_id)
    if event is None or event.patient_id != patient.id:
        raise NotFound("No such event.")
    if event.kind != "admission":
        raise Conflict("Only an admission has a discharge date.")
    _not_future("discharged_on", body.discharged_on, now)
    if body.discharged_on < event.occurred_on:
        raise _field_error("discharged_on", "is before the admission date")
    event.discharged_on = body.discharged_on
    session.flush()
    audit_patient_access(
        session, route_of(request), principal, patient.id, "U", now, "event:discharged_on"
    )
    return _event_out(event)


def _page_after(query: Any, day_column: Any, id_column: Any, cursor: str | None) -> Any:
    after = decode(cursor, keyset(day, uuid_value))
    if after is not None:
        on, row_id = after
        query = query.where(or_(day_column > on, and_(day_column == on, id_column > row_id)))
    return query.order_by(day_column, id_column)


Limit = Annotated[int, Query(ge=1, le=200)]


def _dated_page(
    session: Session,
    model: Any,
    day_column: Any,
    patient_id: uuid.UUID,
    limit: int,
    cursor: str | None,
) -> tuple[list[Any], str | None]:
    """A page of one patient's dated records, oldest first, with the cursor for the next."""
    query = _page_after(
        select(model).where(model.patient_id == patient_id), day_column, model.id, cursor
    )
    rows = list(session.scalars(query.limit(limit + 1)).all())
    page = rows[:limit]
    more = len(rows) > limit
    last = page[-1] if page else None
    next_cursor = encode_cursor(getattr(last, day_column.key), last.id) if more and last else None
    return page, next_cursor


@recording.get(
    "/patients/{patient_id}/events",
    response_model=Page[EventOut],
    summary="A patient's admissions, attendances and death, oldest first (clinician of the team)",
)
def list_events(
    patient_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Clinician,
    now: NowDep,
    limit: Limit = 50,
    cursor: str | None = None,
) -> Page[EventOut]:
    patient = patient_for(session, principal, patient_id)
    page, next_cursor = _dated_page(
        session, PatientEvent, PatientEvent.occurred_on, patient.id, limit, cursor
    )
    audit_patient_access(session, route_of(request), principal, patient.id, "R", now, "events")
    return Page(items=[_event_out(r) for r in page], next_cursor=next_cursor)


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
    _not_future("changed_on", body.changed_on, now)
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
    page, next_cursor = _dated_page(
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
    _not_future("assessed_on", body.assessed_on, now)
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
    page, next_cursor = _dated_page(
        session, KccqScore, KccqScore.assessed_on, patient.id, limit, cursor
    )
    audit_patient_access(session, route_of(request), principal, patient.id, "R", now, "kccq")
    return Page(
        items=[KccqOut.model_validate(r, from_attributes=True) for r in page],
        next_cursor=next_cursor,
    )


@recording.post(
    "/patients/{patient_id}/discharge",
    response_model=PatientOut,
    summary="Discharge a patient from monitoring with a reason (clinician of the team)",
)
def discharge(
    patient_id: uuid.UUID,
    body: DischargeIn,
    request: Request,
    session: SessionDep,
    principal: Clinician,
    now: NowDep,
) -> PatientOut:
    patient = patient_for(session, principal, patient_id)
    if patient.status == "discharged":
        raise Conflict("The patient has already been discharged from monitoring.")
    _not_future("date", body.discharged_on, now)
    if body.discharged_on < patient.enrolled_on:
        raise _field_error("date", "is before the enrolment date")
    # Compare-and-set on the version, as the patient PATCH does, so a concurrent edit is refused.
    result = session.execute(
        update(Patient)
        .where(
            Patient.id == patient.id,
            Patient.version == patient.version,
            Patient.status != "discharged",
        )
        .values(
            status="discharged",
            discharged_on=body.discharged_on,
            discharge_reason=body.reason,
            version=patient.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("The record was changed by someone else: reload and try again.")
    session.refresh(patient)
    audit_patient_access(
        session, route_of(request), principal, patient.id, "U", now, f"discharge:{body.reason}"
    )
    return PatientOut.model_validate(patient, from_attributes=True)


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
        raise _field_error("metric", "unknown metric id (see GET /api/v1/reports/metrics)")
    if proportion and not metric.is_proportion:
        raise _field_error("metric", "funnel plots are drawn for proportion metrics only")
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
