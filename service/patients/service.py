"""The patient use cases the pages share with the API: thresholds and device tokens.

Plain values in (the session, the caller, the route the audit record names, now); each reaches
only patients of the caller's teams (404 otherwise) and audits the change.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import pathway
from service import changes as changes_log
from service.access import audit_change, audit_patient_access, manages_site, patient_for
from service.changes import merge_patch
from service.deps import Principal
from service.identity.security import hash_device_token, new_device_token
from service.models import Alert, DeviceToken, Patient, Team
from service.patients.schemas import (
    DeviceTokenOut,
    PatientIn,
    PatientPatch,
    TransferIn,
    TransferOut,
)
from service.problems import Conflict, NotFound, Unprocessable, field_error
from service.timeutil import LONDON

# One answer whoever holds the NHS number (the caller's own team or another, in any site): it
# tells the clinician only what they must know to keep the patient safe, that the patient is not
# now enrolled by them, and nothing about anyone else's caseload (docs/security.md, finding 7).
NOT_ENROLLED = (
    "This NHS number cannot be enrolled by your team. If the patient is already monitored on "
    "this pathway, a site admin can transfer them to your team."
)


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


# Contact details may be removed (a number no longer in use); the plan and state may not.
_CLEARABLE = frozenset({"name", "phone"})


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
        if value is None and name not in _CLEARABLE:
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
    # The history also keeps pauses of monitoring with their reasons (``monitoring``).
    return [
        c
        for c in changes_log.history(session, "patient", patient.id)
        if c["setting"] == "thresholds"
    ]


def issue_device_token(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    patient_id: uuid.UUID,
    *,
    replace: bool = False,
) -> DeviceTokenOut:
    """A new device token for the patient's app: only its hash is stored, so it is shown once.

    ``replace`` revokes the patient's live tokens in the same transaction (a lost or new
    phone): there is never a moment with two live tokens, nor one with none if this fails."""
    patient = patient_for(session, principal, patient_id)
    if patient.status == "discharged":
        raise Conflict("The patient has been discharged from monitoring.")
    if replace:
        revoked = session.execute(
            update(DeviceToken)
            .where(DeviceToken.patient_id == patient.id, DeviceToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if revoked:
            audit_patient_access(
                session, route, principal, patient.id, "D", now, f"device-token replaced {revoked}"
            )
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


def _monitored(session: Session, nhs_number: str) -> Patient | None:
    """The patient's current (not discharged) enrolment, whichever team has it."""
    return session.scalar(
        select(Patient).where(Patient.nhs_number == nhs_number, Patient.status != "discharged")
    )


def enrol(
    session: Session, principal: Principal, route: str, now: datetime, body: PatientIn
) -> Patient:
    """Enrol a patient in one of the caller's teams.

    An NHS number already monitored anywhere is refused with ``NOT_ENROLLED``, the same answer
    whoever holds it, and the attempt is audited against the existing record (committed even
    though the request fails), so information governance sees who asked about whom.
    """
    if body.team_id not in principal.team_ids or session.get(Team, body.team_id) is None:
        raise NotFound("No such team.")
    if body.date_of_birth > now.astimezone(LONDON).date():
        raise Unprocessable(
            "date_of_birth is in the future",
            extra={
                "errors": [
                    {"field": "date_of_birth", "message": "in the future", "type": "value_error"}
                ]
            },
        )
    thresholds = body.thresholds.model_dump(exclude_none=True) if body.thresholds else {}
    check_thresholds(thresholds)
    existing = _monitored(session, body.nhs_number)
    if existing is not None:
        _refuse(session, principal, route, now, existing)
    patient = Patient(
        id=uuid.uuid4(),
        nhs_number=body.nhs_number,
        name=body.name,
        phone=body.phone,
        date_of_birth=body.date_of_birth,
        sex=body.sex,
        team_id=body.team_id,
        cohort=body.cohort,
        ethnicity=body.ethnicity,
        imd_quintile=body.imd_quintile,
        hf_type=body.hf_type,
        enrolled_on=body.enrolled_on or now.astimezone(LONDON).date(),
        status="active",
        expects_daily_weight=body.expects_daily_weight,
        thresholds=thresholds,
        version=1,
        created_at=now,
        created_by=principal.user_id,
    )
    session.add(patient)
    try:
        session.flush()
    except IntegrityError:
        # Two enrolments of one number at once: the partial unique index lets one win.
        session.rollback()
        winner = _monitored(session, body.nhs_number)
        if winner is None:
            raise
        _refuse(session, principal, route, now, winner)
    audit_patient_access(session, route, principal, patient.id, "C", now)
    return patient


def _refuse(
    session: Session, principal: Principal, route: str, now: datetime, existing: Patient
) -> None:
    where = "own team" if existing.team_id in principal.team_ids else f"team {existing.team_id}"
    audit_change(
        session,
        route,
        principal,
        "C",
        now,
        f"enrolment refused: NHS number already monitored ({where})",
        outcome="4",
        patient_id=existing.id,
    )
    # The request fails, and its unit of work rolls back: the record of the attempt must not.
    session.commit()
    raise Conflict(NOT_ENROLLED)


def transfer(
    session: Session, principal: Principal, route: str, now: datetime, body: TransferIn
) -> TransferOut:
    """Move a monitored patient, with their unresolved alerts, to another team.

    Only someone accountable for both teams may: a network admin, or the site admin of the site
    both teams are in. Anything outside the caller's reach answers 404 exactly as an NHS number
    no one monitors, so a site admin cannot probe other sites' caseloads.
    """
    target = session.get(Team, body.to_team_id)
    if target is None or not manages_site(principal, target.site_id):
        raise NotFound("No such team.")
    patient = _monitored(session, body.nhs_number)
    source = session.get(Team, patient.team_id) if patient is not None else None
    if patient is None or source is None or not manages_site(principal, source.site_id):
        raise NotFound("No patient with that NHS number is monitored in your teams.")
    if source.id == target.id:
        raise Conflict("The patient is already in that team.")
    moved = session.execute(
        update(Alert)
        .where(Alert.patient_id == patient.id, Alert.status != "resolved")
        .values(team_id=target.id)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    patient.team_id = target.id
    patient.version += 1
    session.flush()
    audit_change(
        session,
        route,
        principal,
        "U",
        now,
        f"transfer team {source.id} -> {target.id}, {moved} open alerts: {body.reason}",
        patient_id=patient.id,
    )
    return TransferOut(
        patient_id=patient.id, from_team_id=source.id, to_team_id=target.id, moved_alerts=moved
    )
