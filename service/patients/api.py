"""Patients: enrolment, record, thresholds and device tokens (clinicians of the patient's team)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from service.access import audit_patient_access, patient_for, route_of
from service.deps import NowDep, Principal, SessionDep, require
from service.models import Patient, Team
from service.pagination import decode_cursor, encode_cursor
from service.patients import service
from service.problems import Conflict, NotFound, Unprocessable
from service.schemas import (
    DeviceTokenOut,
    Page,
    PatientIn,
    PatientOut,
    PatientPatch,
    SettingChangeOut,
)
from service.timeutil import LONDON

router = APIRouter(prefix="/api/v1/patients", tags=["patients"])
Clinician = Annotated[Principal, Depends(require("clinician"))]


def to_out(patient: Patient) -> PatientOut:
    return PatientOut.model_validate(patient, from_attributes=True)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PatientOut,
    summary="Enrol a patient (clinician of the team)",
)
def enrol(
    body: PatientIn, request: Request, session: SessionDep, principal: Clinician, now: NowDep
) -> PatientOut:
    if body.team_id not in principal.team_ids or session.get(Team, body.team_id) is None:
        raise NotFound("No such team.")
    if body.date_of_birth > now.astimezone(LONDON).date():
        raise Unprocessable(
            "date_of_birth is in the future",
            extra={
                "errors": [
                    {"field": "date_of_birth", "message": "in the future", "type": "value_error"}
                ]
            },
        )
    thresholds = body.thresholds.model_dump(exclude_none=True) if body.thresholds else {}
    service.check_thresholds(thresholds)
    active = select(Patient.id).where(
        Patient.nhs_number == body.nhs_number, Patient.status != "discharged"
    )
    if session.scalar(active) is not None:
        raise Conflict("This NHS number is already enrolled and active.")
    patient = Patient(
        id=uuid.uuid4(),
        nhs_number=body.nhs_number,
        date_of_birth=body.date_of_birth,
        sex=body.sex,
        team_id=body.team_id,
        cohort=body.cohort,
        ethnicity=body.ethnicity,
        imd_quintile=body.imd_quintile,
        hf_type=body.hf_type,
        enrolled_on=body.enrolled_on or now.astimezone(LONDON).date(),
        status="active",
        expects_daily_weight=body.expects_daily_weight,
        thresholds=thresholds,
        version=1,
        created_at=now,
        created_by=principal.user_id,
    )
    session.add(patient)
    try:
        session.flush()
    except IntegrityError as exc:
        # Two enrolments of one number at once: the partial unique index lets one win.
        raise Conflict("This NHS number is already enrolled and active.") from exc
    audit_patient_access(session, route_of(request), principal, patient.id, "C", now)
    return to_out(patient)


@router.get(
    "", response_model=Page[PatientOut], summary="List patients of the caller's teams (clinician)"
)
def list_patients(
    request: Request,
    session: SessionDep,
    principal: Clinician,
    now: NowDep,
    team_id: uuid.UUID | None = None,
    patient_status: Annotated[
        str | None, Query(alias="status", pattern="^(active|paused|discharged)$")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Page[PatientOut]:
    teams = principal.team_ids if team_id is None else principal.team_ids & {team_id}
    query = select(Patient).where(Patient.team_id.in_(teams))
    if patient_status:
        query = query.where(Patient.status == patient_status)
    if cursor:
        (after,) = decode_cursor(cursor, 1)
        query = query.where(Patient.id > uuid.UUID(after))
    rows = list(session.scalars(query.order_by(Patient.id).limit(limit + 1)).all())
    page, more = rows[:limit], len(rows) > limit
    audit_patient_access(
        session, route_of(request), principal, [p.id for p in page], "R", now, "list"
    )
    return Page(
        items=[to_out(p) for p in page], next_cursor=encode_cursor(page[-1].id) if more else None
    )


@router.get(
    "/{patient_id}", response_model=PatientOut, summary="A patient's record (clinician of the team)"
)
def get_patient(
    patient_id: uuid.UUID, request: Request, session: SessionDep, principal: Clinician, now: NowDep
) -> PatientOut:
    patient = patient_for(session, principal, patient_id)
    audit_patient_access(session, route_of(request), principal, patient.id, "R", now)
    return to_out(patient)


@router.patch(
    "/{patient_id}",
    response_model=PatientOut,
    summary="Change thresholds or status by JSON Merge Patch (clinician of the team)",
    description="RFC 7396: a field left out is kept and null clears it, in the thresholds one "
    "by one too (a cleared threshold falls back to the pathway's). The merged thresholds are "
    "checked as a whole; a refusal names the field.",
)
def patch_patient(
    patient_id: uuid.UUID,
    body: PatientPatch,
    request: Request,
    session: SessionDep,
    principal: Clinician,
    now: NowDep,
) -> PatientOut:
    patient = service.patch_patient(session, principal, route_of(request), now, patient_id, body)
    return to_out(patient)


@router.get(
    "/{patient_id}/threshold-history",
    response_model=list[SettingChangeOut],
    summary="Who changed the patient's thresholds, when, before and after, newest first "
    "(clinician of the team)",
)
def threshold_history(
    patient_id: uuid.UUID, request: Request, session: SessionDep, principal: Clinician, now: NowDep
) -> list[SettingChangeOut]:
    rows = service.threshold_history(session, principal, route_of(request), now, patient_id)
    return [SettingChangeOut.model_validate(row) for row in rows]


@router.post(
    "/{patient_id}/device-token",
    status_code=status.HTTP_201_CREATED,
    response_model=DeviceTokenOut,
    summary="Issue a device token for the patient's app, shown once (clinician of the team)",
)
def issue_device_token(
    patient_id: uuid.UUID, request: Request, session: SessionDep, principal: Clinician, now: NowDep
) -> DeviceTokenOut:
    return service.issue_device_token(session, principal, route_of(request), now, patient_id)


@router.delete(
    "/{patient_id}/device-tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke a device token (clinician of the team)",
)
def revoke_device_token(
    patient_id: uuid.UUID,
    token_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Clinician,
    now: NowDep,
) -> None:
    service.revoke_device_token(session, principal, route_of(request), now, patient_id, token_id)
