"""Routes for the team's contacts with a patient: clinicians of the patient's team."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from service.access import route_of
from service.deps import NowDep, Principal, SessionDep, require
from service.patients import contacts
from service.patients.schemas import ContactIn, ContactOut
from service.schemas import Page

router = APIRouter(prefix="/api/v1", tags=["patient contacts"])
Clinician = Annotated[Principal, Depends(require("clinician"))]
Limit = Annotated[int, Query(ge=1, le=200)]


@router.post(
    "/patients/{patient_id}/contacts",
    status_code=status.HTTP_201_CREATED,
    response_model=ContactOut,
    summary="Record a call, visit or message with the minutes it took (clinician of the team)",
)
def record_contact(
    patient_id: uuid.UUID,
    body: ContactIn,
    request: Request,
    session: SessionDep,
    principal: Clinician,
    now: NowDep,
) -> ContactOut:
    row = contacts.record_contact(session, principal, route_of(request), now, patient_id, body)
    return ContactOut.model_validate(row, from_attributes=True)


@router.get(
    "/patients/{patient_id}/contacts",
    response_model=Page[ContactOut],
    summary="A patient's contacts, newest first (clinician of the team)",
)
def list_contacts(
    patient_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Clinician,
    now: NowDep,
    limit: Limit = 50,
    cursor: str | None = None,
) -> Page[ContactOut]:
    page, next_cursor = contacts.contacts(
        session, principal, route_of(request), now, patient_id, limit, cursor
    )
    return Page(
        items=[ContactOut.model_validate(r, from_attributes=True) for r in page],
        next_cursor=next_cursor,
    )
