"""Readings: patients post their own; clinicians post readings taken in clinic or by phone.

Routes only: each parses, calls ``service.readings.service`` and shapes the answer
(``answers.py``). A patient's own post is served by the one-pass handler in ``fast.py``.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import AwareDatetime

from service.access import audit_patient_access, patient_for, route_of
from service.deps import NowDep, Principal, SessionDep, SettingsDep, require
from service.pagination import aware_datetime, decode, encode_cursor, keyset, uuid_value
from service.patients.events import hospital_stays
from service.readings import intake, service
from service.readings.answers import ingest_answer, reading_out
from service.readings.contract import INGEST_RESPONSES, REQUEST_BODY
from service.readings.fast import OwnReadingsRoute
from service.readings.schemas import IngestOut, ReadingOut
from service.schemas import Page

router = APIRouter(prefix="/api/v1", tags=["readings"])
PatientCaller = Annotated[Principal, Depends(require("patient"))]
Clinician = Annotated[Principal, Depends(require("clinician"))]
ReadingType = Literal[
    "weight", "blood_pressure", "heart_rate", "spo2", "symptoms", "potassium", "creatinine", "egfr"
]


def post_my_readings(
    body: Annotated[Any, Depends(intake.json_body)],
    session: SessionDep,
    settings: SettingsDep,
    principal: PatientCaller,
    now: NowDep,
) -> Response:
    # Declares the route (parameters, security, OpenAPI); OwnReadingsRoute serves it with the
    # same use case. Served by FastAPI's general handler, this is the plain path the fast one
    # is held to (tests/service/test_readings_fast_route.py).
    assert principal.patient_id is not None
    patient = patient_for(session, principal, principal.patient_id)
    skew = timedelta(seconds=settings.future_skew_seconds)
    result = service.post_readings(session, principal, patient, body, now=now, future_skew=skew)
    return ingest_answer(patient, result)


router.add_api_route(
    "/me/readings",
    post_my_readings,
    methods=["POST"],
    response_model=IngestOut,
    status_code=status.HTTP_201_CREATED,
    responses=INGEST_RESPONSES,
    openapi_extra=REQUEST_BODY,
    summary="Post own readings: one, or {readings: [...]} of up to 500 (patient device token)",
    route_class_override=OwnReadingsRoute,
)


@router.post(
    "/patients/{patient_id}/readings",
    response_model=IngestOut,
    status_code=status.HTTP_201_CREATED,
    responses=INGEST_RESPONSES,
    openapi_extra=REQUEST_BODY,
    summary="Post readings taken in clinic or by phone (clinician of the patient's team)",
)
def post_patient_readings(
    patient_id: uuid.UUID,
    body: Annotated[Any, Depends(intake.json_body)],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: Clinician,
    now: NowDep,
) -> Response:
    patient, result = service.post_patient_readings(
        session,
        principal,
        patient_id,
        body,
        route=route_of(request),
        now=now,
        future_skew=timedelta(seconds=settings.future_skew_seconds),
    )
    return ingest_answer(patient, result)


def _list(
    session: SessionDep,
    patient_id: uuid.UUID,
    type_: str | None,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    cursor: str | None,
) -> Page[ReadingOut]:
    after = decode(cursor, keyset(aware_datetime, uuid_value))
    rows = service.list_readings(
        session, patient_id, type_=type_, start=start, end=end, limit=limit + 1, after=after
    )
    page, more = rows[:limit], len(rows) > limit
    next_cursor = encode_cursor(page[-1].taken_at.isoformat(), page[-1].id) if more else None
    stays = hospital_stays(session, patient_id) if page else []
    return Page(items=[reading_out(r, stays) for r in page], next_cursor=next_cursor)


TypeQ = Annotated[ReadingType | None, Query(alias="type")]
FromQ = Annotated[AwareDatetime | None, Query(alias="from", description="RFC 3339, inclusive")]
ToQ = Annotated[AwareDatetime | None, Query(alias="to", description="RFC 3339, exclusive")]
LimitQ = Annotated[int, Query(ge=1, le=1000)]


@router.get(
    "/me/readings",
    response_model=Page[ReadingOut],
    responses={429: INGEST_RESPONSES[429]},
    summary="Own readings, oldest first (patient)",
)
def get_my_readings(
    session: SessionDep,
    principal: PatientCaller,
    type_: TypeQ = None,
    start: FromQ = None,
    end: ToQ = None,
    limit: LimitQ = 200,
    cursor: str | None = None,
) -> Page[ReadingOut]:
    assert principal.patient_id is not None
    return _list(session, principal.patient_id, type_, start, end, limit, cursor)


@router.get(
    "/patients/{patient_id}/readings",
    response_model=Page[ReadingOut],
    summary="A patient's readings, oldest first (clinician of the team)",
)
def get_patient_readings(
    patient_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Clinician,
    now: NowDep,
    type_: TypeQ = None,
    start: FromQ = None,
    end: ToQ = None,
    limit: LimitQ = 200,
    cursor: str | None = None,
) -> Page[ReadingOut]:
    patient = patient_for(session, principal, patient_id)
    audit_patient_access(session, route_of(request), principal, patient.id, "R", now, "readings")
    return _list(session, patient.id, type_, start, end, limit, cursor)
