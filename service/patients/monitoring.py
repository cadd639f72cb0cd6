"""Pausing monitoring and resuming it, with the reason the team gave (clinicians of the team).

The status change itself is ``service.patch_patient``, the use case ``PATCH
/api/v1/patients/{id}`` runs (its version check, audit and refusal of a discharged patient); the
reason is kept in the settings history under its own subject, so the record can say why the
patient's readings are not being asked for, and who decided it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from service import changes
from service.access import patient_for
from service.deps import Principal
from service.models import Patient
from service.patients import service
from service.patients.schemas import PatientPatch
from service.problems import Conflict, field_error

SETTING = "monitoring"
MAX_REASON = 500


def set_monitoring(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    patient_id: uuid.UUID,
    status: str,
    reason: str,
    version: int | None,
) -> Patient:
    """Pause (``paused``) or resume (``active``) monitoring, saying why."""
    reason = " ".join(reason.split())
    if status not in ("active", "paused"):
        raise field_error("status", "must be active or paused")
    if not reason:
        raise field_error("reason", "is needed: say why monitoring changes")
    if len(reason) > MAX_REASON:
        raise field_error("reason", f"must be at most {MAX_REASON} characters")
    current = patient_for(session, principal, patient_id)
    if current.status == status:
        raise Conflict(f"Monitoring is already {'paused' if status == 'paused' else 'active'}.")
    before = {"status": current.status}
    patient = service.patch_patient(
        session, principal, route, now, patient_id, PatientPatch(status=status, version=version)
    )
    changes.record(
        session,
        "patient",
        patient.id,
        SETTING,
        before,
        {"status": status, "reason": reason},
        principal.user_id,
        now,
    )
    return patient


def history(session: Session, patient_id: uuid.UUID) -> list[dict[str, Any]]:
    """The pauses and resumptions with their reasons, newest first (the caller has checked the
    patient and audited its read)."""
    return [c for c in changes.history(session, "patient", patient_id) if c["setting"] == SETTING]
