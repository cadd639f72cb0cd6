"""The patient use cases the pages share with the API: thresholds and device tokens.

Plain values in (the session, the caller, the route the audit record names, now); each reaches
only patients of the caller's teams (404 otherwise) and audits the change.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

import pathway
from service import changes as changes_log
from service.access import audit_patient_access, patient_for
from service.changes import merge_patch
from service.deps import Principal
from service.models import DeviceToken, Patient
from service.problems import Conflict, NotFound, Unprocessable, field_error
from service.schemas import DeviceTokenOut, PatientPatch
from service.security import hash_device_token, new_device_token


def check_thresholds(thresholds: dict[str, object]) -> None:
    """Refuse personal thresholds the pathway would consider unsafe, naming the field."""
    context = pathway.PatientContext(
        patient_id="validation",
        cohort=pathway.Cohort.NEW_DIAGNOSIS,
        thresholds=pathway.PersonalThresholds(**thresholds),  # type: ignore[arg-type]
    )
    try:
        pathway.default_pathway().thresholds_for(context)
    except pathway.UnsafeConfiguration as exc:
        field = "thresholds." + exc.field.rsplit(".", 1)[-1]
        raise Unprocessable(
            str(exc), extra={"errors": [{"field": field, "message": str(exc), "type": "unsafe"}]}
        ) from exc


def patch_patient(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    patient_id: uuid.UUID,
    body: PatientPatch,
) -> Patient:
    """Change thresholds, cohort, status or the plan by JSON Merge Patch (RFC 7396): what the
    request leaves out is kept, ``null`` clears it. ``body.version`` refuses a stale change
    (409). A change of thresholds is kept in the patient's settings history."""
    patient = patient_for(session, principal, patient_id)
    if patient.status == "discharged":
        raise Conflict("The patient has been discharged from monitoring.")
    patch: dict[str, Any] = body.model_dump(exclude_unset=True)
    version = patch.pop("version", None)
    if version is not None and version != patient.version:
        raise Conflict("The record was changed by someone else: reload and try again.")
    changes: dict[str, Any] = {}
    for name, value in patch.items():
        if name == "thresholds":
            continue
        if value is None:
            raise field_error(name, "cannot be cleared")
        if value != getattr(patient, name):
            changes[name] = value
    before = dict(patient.thresholds or {})
    if "thresholds" in patch:
        merged = merge_patch(before, patch["thresholds"]) or {}
        check_thresholds(merged)
        if merged != before:
            changes["thresholds"] = merged
    if changes:
        result = session.execute(
            update(Patient)
            .where(Patient.id == patient.id, Patient.version == patient.version)
            .values(**changes, version=patient.version + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict("The record was changed by someone else: reload and try again.")
        session.refresh(patient)
    if "thresholds" in changes:
        changes_log.record(
            session,
            "patient",
            patient.id,
            "thresholds",
            before,
            changes["thresholds"],
            principal.user_id,
            now,
        )
    audit_patient_access(session, route, principal, patient.id, "U", now, ",".join(sorted(changes)))
    return patient


def threshold_history(
    session: Session, principal: Principal, route: str, now: datetime, patient_id: uuid.UUID
) -> list[dict[str, Any]]:
    """Who changed the patient's thresholds, when, from what to what (newest first)."""
    patient = patient_for(session, principal, patient_id)
    audit_patient_access(session, route, principal, patient.id, "R", now, "threshold-history")
    return changes_log.history(session, "patient", patient.id)


def issue_device_token(
    session: Session, principal: Principal, route: str, now: datetime, patient_id: uuid.UUID
) -> DeviceTokenOut:
    """A new device token for the patient's app: only its hash is stored, so it is shown once."""
    patient = patient_for(session, principal, patient_id)
    if patient.status == "discharged":
        raise Conflict("The patient has been discharged from monitoring.")
    token = new_device_token()
    row = DeviceToken(
        id=uuid.uuid4(),
        patient_id=patient.id,
        token_hash=hash_device_token(token),
        created_at=now,
        created_by=principal.user_id,
    )
    session.add(row)
    session.flush()
    audit_patient_access(session, route, principal, patient.id, "C", now, "device-token")
    return DeviceTokenOut(id=row.id, token=token, patient_id=patient.id)


def revoke_device_token(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    patient_id: uuid.UUID,
    token_id: uuid.UUID,
) -> None:
    """Revoke a device token of the patient (404 for another patient's token)."""
    patient = patient_for(session, principal, patient_id)
    row = session.get(DeviceToken, token_id)
    if row is None or row.patient_id != patient.id:
        raise NotFound("No such device token.")
    if row.revoked_at is None:
        row.revoked_at = now
    audit_patient_access(session, route, principal, patient.id, "D", now, "device-token")
