"""Who viewed or changed what: the audit trail read back, for the API and the CLI."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, select, union_all
from sqlalchemy.orm import Session

from service.db.capabilities import uuid_list_contains
from service.models import AuditEvent, User


class AuditEventOut(BaseModel):
    seq: int
    recorded_at: datetime
    actor_id: uuid.UUID | None
    actor_username: str | None
    actor_role: str
    patient_id: uuid.UUID | None = Field(
        description="The patient, when the record is about one; null for a read of several"
    )
    patient_ids: list[uuid.UUID] = Field(
        description="Every patient the record names (a list page is one record naming them all)"
    )
    action: str
    route: str
    outcome: str
    detail: str | None


def audit_events(
    session: Session,
    *,
    patient_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
    limit: int = 500,
    before_seq: int | None = None,
) -> list[AuditEventOut]:
    query = select(AuditEvent, User.username).outerjoin(User, User.id == AuditEvent.actor_id)
    if patient_id is not None:
        # Two index lookups, one per way a record names a patient, rather than an OR the
        # planner can only answer by scanning the trail.
        direct = select(AuditEvent.seq).where(AuditEvent.patient_id == patient_id)
        listed = select(AuditEvent.seq).where(_names(session, patient_id))
        if before_seq is not None:
            direct = direct.where(AuditEvent.seq < before_seq)
            listed = listed.where(AuditEvent.seq < before_seq)
        seqs = union_all(direct, listed).subquery()
        query = query.where(AuditEvent.seq.in_(select(seqs.c.seq)))
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    if before_seq is not None:
        query = query.where(AuditEvent.seq < before_seq)
    rows = session.execute(query.order_by(AuditEvent.seq.desc()).limit(limit)).all()
    return [
        AuditEventOut(
            seq=event.seq,
            recorded_at=event.recorded_at,
            actor_id=event.actor_id,
            actor_username=username,
            actor_role=event.actor_role,
            patient_id=event.patient_id,
            patient_ids=[event.patient_id] if event.patient_id else event.patient_ids or [],
            action=event.action,
            route=event.route,
            outcome=event.outcome,
            detail=event.detail,
        )
        for event, username in rows
    ]


def _names(session: Session, patient_id: uuid.UUID) -> ColumnElement[bool]:
    """The record is about several patients, ``patient_id`` among them (on PostgreSQL, the
    GIN index on the lists answers it)."""
    return uuid_list_contains(session, AuditEvent.patient_ids, patient_id)
