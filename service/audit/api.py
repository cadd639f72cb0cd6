"""Who looked at what: the audit trail, for admins (information governance)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from service.audit import service
from service.audit.service import AuditEventOut
from service.deps import Principal, SessionDep, require

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
Admin = Annotated[Principal, Depends(require("admin"))]


Limit = Annotated[int, Query(ge=1, le=1000)]


@router.get(
    "/patients/{patient_id}",
    response_model=list[AuditEventOut],
    summary="Who viewed or changed patient P, newest first (admin)",
)
def who_accessed_patient(
    patient_id: uuid.UUID,
    session: SessionDep,
    _: Admin,
    limit: Limit = 500,
    before_seq: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> list[AuditEventOut]:
    return service.audit_events(session, patient_id=patient_id, limit=limit, before_seq=before_seq)


@router.get(
    "/users/{user_id}",
    response_model=list[AuditEventOut],
    summary="Which patients user U viewed or changed, newest first (admin)",
)
def what_user_accessed(
    user_id: uuid.UUID,
    session: SessionDep,
    _: Admin,
    limit: Limit = 500,
    before_seq: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> list[AuditEventOut]:
    return service.audit_events(session, actor_id=user_id, limit=limit, before_seq=before_seq)
