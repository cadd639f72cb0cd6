"""Outcomes a team records for its patient, as use cases: medicine changes in the four pillars
(which also drive the titration rules) and KCCQ-12 scores. Each record and read is audited."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from service.access import audit_patient_access, patient_for
from service.deps import Principal
from service.models import KccqScore, MedicationChange
from service.pagination import dated_page
from service.patients.events import not_future
from service.reports.schemas import KccqIn, MedicationIn


def record_medication(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    patient_id: uuid.UUID,
    body: MedicationIn,
) -> MedicationChange:
    patient = patient_for(session, principal, patient_id)
    not_future("changed_on", body.changed_on, now)
    row = MedicationChange(
        id=uuid.uuid4(),
        patient_id=patient.id,
        pillar=body.pillar,
        status=body.status,
        at_target_or_max_tolerated=body.at_target_or_max_tolerated,
        drug=body.drug,
        dmd_code=body.dmd_code,
        dose_value=body.dose_value,
        dose_unit=body.dose_unit,
        changed_on=body.changed_on,
        recorded_at=now,
        recorded_by=principal.user_id,
    )
    session.add(row)
    session.flush()
    audit_patient_access(
        session, route, principal, patient.id, "C", now, f"medication:{body.pillar}"
    )
    return row


def _dated_records(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    patient_id: uuid.UUID,
    page_of: tuple[Any, Any, str],
    limit: int,
    cursor: str | None,
) -> tuple[list[Any], str | None]:
    """A page of one kind of the patient's dated records, oldest first, with the next page's
    cursor; the read is audited under ``what``."""
    model, day_column, what = page_of
    patient = patient_for(session, principal, patient_id)
    page = dated_page(session, model, day_column, patient.id, limit, cursor)
    audit_patient_access(session, route, principal, patient.id, "R", now, what)
    return page


def medications(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    patient_id: uuid.UUID,
    limit: int,
    cursor: str | None,
) -> tuple[list[MedicationChange], str | None]:
    """A page of the patient's medicine changes, oldest first, and the next page's cursor."""
    kind = (MedicationChange, MedicationChange.changed_on, "medications")
    return _dated_records(session, principal, route, now, patient_id, kind, limit, cursor)


def record_kccq(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    patient_id: uuid.UUID,
    body: KccqIn,
) -> KccqScore:
    patient = patient_for(session, principal, patient_id)
    not_future("assessed_on", body.assessed_on, now)
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
    audit_patient_access(session, route, principal, patient.id, "C", now, "kccq")
    return row


def kccq_scores(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    patient_id: uuid.UUID,
    limit: int,
    cursor: str | None,
) -> tuple[list[KccqScore], str | None]:
    """A page of the patient's KCCQ-12 scores, oldest first, and the next page's cursor."""
    kind = (KccqScore, KccqScore.assessed_on, "kccq")
    return _dated_records(session, principal, route, now, patient_id, kind, limit, cursor)
