"""The team's contacts with a patient (a call, visit or message, with the minutes it took) as
use cases: recorded by a clinician of the patient's team and read back newest first, each
audited as a staff change or read of the patient's record.

With the minutes on resolved alerts these are the staff time the reports cost
(``service.reports.metrics.staff_time``). Not ``service.contacts``, which reads phone numbers.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from service.access import audit_patient_access, patient_for
from service.deps import Principal
from service.models import Alert, PatientContact
from service.pagination import aware_datetime, decode, encode_cursor, keyset, uuid_value
from service.patients.schemas import ContactIn
from service.problems import field_error

# A contact stamped a little ahead of the server's clock is the recording device's clock, not a
# contact yet to happen: the same leeway readings have (``Settings.future_skew_seconds``).
FUTURE_SKEW = timedelta(minutes=5)


def record_contact(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    patient_id: uuid.UUID,
    body: ContactIn,
) -> PatientContact:
    """Record a contact; 404 outside the caller's teams, 422 for a time ahead of now or an
    alert that is not the patient's."""
    patient = patient_for(session, principal, patient_id)
    if body.occurred_at > now + FUTURE_SKEW:
        raise field_error("occurred_at", "is in the future")
    if body.alert_id is not None:
        owner = session.scalar(select(Alert.patient_id).where(Alert.id == body.alert_id))
        if owner != patient.id:
            raise field_error("alert_id", "not an alert of this patient")
    row = PatientContact(
        id=uuid.uuid4(),
        patient_id=patient.id,
        kind=body.kind,
        occurred_at=body.occurred_at,
        minutes=body.minutes,
        note=body.note,
        alert_id=body.alert_id,
        recorded_at=now,
        recorded_by=principal.user_id,
    )
    session.add(row)
    session.flush()
    audit_patient_access(session, route, principal, patient.id, "C", now, f"contact:{body.kind}")
    return row


def contacts(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    patient_id: uuid.UUID,
    limit: int,
    cursor: str | None,
) -> tuple[list[PatientContact], str | None]:
    """A page of the patient's contacts, newest first, and the next page's cursor; audited as
    a read of the patient's record."""
    patient = patient_for(session, principal, patient_id)
    page = contact_page(session, patient.id, limit, cursor)
    audit_patient_access(session, route, principal, patient.id, "R", now, "contacts")
    return page


def contact_page(
    session: Session, patient_id: uuid.UUID, limit: int, cursor: str | None = None
) -> tuple[list[PatientContact], str | None]:
    """The page itself, unaudited: for a caller that has audited its read of the record (the
    patient page)."""
    query = select(PatientContact).where(PatientContact.patient_id == patient_id)
    after = decode(cursor, keyset(aware_datetime, uuid_value))
    if after is not None:
        at, row_id = after
        query = query.where(
            or_(
                PatientContact.occurred_at < at,
                and_(PatientContact.occurred_at == at, PatientContact.id < row_id),
            )
        )
    query = query.order_by(PatientContact.occurred_at.desc(), PatientContact.id.desc())
    rows = list(session.scalars(query.limit(limit + 1)).all())
    page = rows[:limit]
    if len(rows) > limit:
        return page, encode_cursor(page[-1].occurred_at.isoformat(), page[-1].id)
    return page, None
