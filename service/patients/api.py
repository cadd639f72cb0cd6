"""Patients: enrolment, record, thresholds and device tokens (clinicians of the patient's team)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from sqlalchemy import select

from service.access import audit_patient_access, patient_for, route_of
from service.deps import NowDep, Principal, SessionDep, require
from service.models import Patient
from service.pagination import decode, encode_cursor, keyset, uuid_value
from service.patients import service
from service.patients.schemas import (
    DeviceTokenOut,
    PatientIn,
    PatientOut,
    PatientPatch,
    TransferIn,
    TransferOut,
)
from service.schemas import Page, SettingChangeOut

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
    return to_out(service.enrol(session, principal, route_of(request), now, body))


@router.post(
    "/transfers",
    response_model=TransferOut,
    summary="Move a monitored patient and their open alerts to another team, with a reason "
    "(admin; site admin: both teams in the site)",
    responses={404: {"description": "No such team, or no such patient within your reach"}},
)
def transfer(
    body: TransferIn,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("admin", "site_admin"))],
    now: NowDep,
) -> TransferOut:
    return service.transfer(session, principal, route_of(request), now, body)


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
    after = decode(cursor, keyset(uuid_value))
    if after is not None:
        query = query.where(Patient.id > after[0])
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
    patient_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Clinician,
    now: NowDep,
    replace: Annotated[
        bool,
        Query(
            description="Revoke the patient's tokens in use in the same step (a lost or new "
            "phone). Without it the new token is added beside them."
        ),
    ] = False,
) -> DeviceTokenOut:
    return service.issue_device_token(
        session, principal, route_of(request), now, patient_id, replace=replace
    )


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
