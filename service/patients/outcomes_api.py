"""Routes for the outcomes a team records (medicines, KCCQ-12): clinicians of the patient's
team. The paths and operation names are those the reports' router served."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from service.access import route_of
from service.deps import NowDep, Principal, SessionDep, require
from service.patients import outcomes
from service.reports.schemas import KccqIn, KccqOut, MedicationIn, MedicationOut
from service.schemas import Page

router = APIRouter(prefix="/api/v1", tags=["patient outcomes"])
Clinician = Annotated[Principal, Depends(require("clinician"))]
Limit = Annotated[int, Query(ge=1, le=200)]


@router.post(
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
    row = outcomes.record_medication(session, principal, route_of(request), now, patient_id, body)
    return MedicationOut.model_validate(row, from_attributes=True)


@router.get(
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
    page, next_cursor = outcomes.medications(
        session, principal, route_of(request), now, patient_id, limit, cursor
    )
    return Page(
        items=[MedicationOut.model_validate(r, from_attributes=True) for r in page],
        next_cursor=next_cursor,
    )


@router.post(
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
    row = outcomes.record_kccq(session, principal, route_of(request), now, patient_id, body)
    return KccqOut.model_validate(row, from_attributes=True)


@router.get(
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
    page, next_cursor = outcomes.kccq_scores(
        session, principal, route_of(request), now, patient_id, limit, cursor
    )
    return Page(
        items=[KccqOut.model_validate(r, from_attributes=True) for r in page],
        next_cursor=next_cursor,
    )
