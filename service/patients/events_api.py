"""Events (admission, A&E attendance, death) and the discharge from monitoring (clinicians of
the patient's team). The paths and operation names are those the reports' router served."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status

from service.access import audit_patient_access, route_of
from service.deps import NowDep, Principal, SessionDep, require
from service.models import PatientEvent
from service.pagination import dated_page
from service.patients import events
from service.patients.schemas import PatientOut
from service.reports.schemas import DischargeIn, EventIn, EventOut, EventPatch
from service.schemas import Page

router = APIRouter(prefix="/api/v1", tags=["patient outcomes"])
Clinician = Annotated[Principal, Depends(require("clinician"))]
Limit = Annotated[int, Query(ge=1, le=200)]


def _event_out(event: PatientEvent) -> EventOut:
    return EventOut.model_validate(event, from_attributes=True)


@router.post(
    "/patients/{patient_id}/events",
    status_code=status.HTTP_201_CREATED,
    response_model=EventOut,
    summary="Record an admission, A&E attendance or death (clinician of the team)",
    description="An admission with no discharge date pauses the missed-readings check; its "
    "discharge date raises a post-discharge review task due within 14 days; a death "
    "discharges the patient from monitoring, revokes their device tokens and closes their "
    "alerts.",
)
def record_event(
    patient_id: uuid.UUID,
    body: EventIn,
    request: Request,
    session: SessionDep,
    principal: Clinician,
    now: NowDep,
) -> EventOut:
    event = events.record_event(session, principal, route_of(request), now, patient_id, body)
    return _event_out(event)


@router.patch(
    "/patients/{patient_id}/events/{event_id}",
    response_model=EventOut,
    summary="Change an event by JSON Merge Patch, e.g. an admission's discharge date "
    "(clinician of the team)",
    description="RFC 7396: a field left out is kept, null clears it (only an admission's "
    "discharge date can be cleared). The patient's state is derived again from every event.",
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
    patch: dict[str, Any] = body.model_dump(exclude_unset=True)
    event = events.edit_event(
        session, principal, route_of(request), now, patient_id, event_id, patch
    )
    return _event_out(event)


@router.delete(
    "/patients/{patient_id}/events/{event_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a wrongly recorded event, e.g. a death (clinician of the team)",
    description="The audit record keeps what the event said; the patient's state is derived "
    "again (a deleted death puts the patient back on monitoring).",
)
def delete_event(
    patient_id: uuid.UUID,
    event_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Clinician,
    now: NowDep,
) -> None:
    events.delete_event(session, principal, route_of(request), now, patient_id, event_id)


@router.get(
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
    patient, _ = events.list_events(session, principal, patient_id)
    page, next_cursor = dated_page(
        session, PatientEvent, PatientEvent.occurred_on, patient.id, limit, cursor
    )
    audit_patient_access(session, route_of(request), principal, patient.id, "R", now, "events")
    return Page(items=[_event_out(r) for r in page], next_cursor=next_cursor)


@router.post(
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
    patient = events.discharge(session, principal, route_of(request), now, patient_id, body)
    return PatientOut.model_validate(patient, from_attributes=True)
