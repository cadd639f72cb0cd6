"""Recorded events drive the patient's state: admissions, A&E attendances, deaths, and the
discharge from monitoring.

Every use case that records, edits or deletes an event ends with ``apply_state``, in the same
transaction: the state is derived again from the whole event list (``state.derive``, pure) and
the patient's row, device tokens, alerts and review tasks are brought into line with it. So an
admission pauses the missed-readings job, a hospital discharge raises the post-discharge review,
a death ends monitoring, and an edit or a deletion undoes what the event had caused.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from alerts.lifecycle import SYSTEM_OUTCOMES, Outcome
from service import alerting
from service.access import audit_patient_access, patient_for
from service.deps import Principal
from service.models import Alert, DeviceToken, OutboxEvent, Patient, PatientEvent, WebhookDelivery
from service.patients import state as derivation
from service.problems import Conflict, NotFound, field_error
from service.readings import evaluation
from service.reports.schemas import AdmissionIn, AttendanceIn, DischargeIn, EventIn
from service.timeutil import LONDON

REVIEW_GROUP = derivation.REVIEW_GROUP
REVIEW_TITLE = "Post-discharge review due"
# The fields of an event a merge patch may change (EventOut's names).
EDITABLE = ("occurred_on", "discharged_on", "hf_related", "emergency")


def not_future(field: str, value: date | None, now: datetime) -> None:
    if value is not None and value > now.astimezone(LONDON).date():
        raise field_error(field, "is in the future")


def _fact(event: PatientEvent) -> derivation.EventFact:
    return derivation.EventFact(event.id, event.kind, event.occurred_on, event.discharged_on)


def _events_of(session: Session, patient_id: uuid.UUID) -> list[PatientEvent]:
    return list(
        session.scalars(select(PatientEvent).where(PatientEvent.patient_id == patient_id)).all()
    )


def hospital_stays(session: Session, patient_id: uuid.UUID) -> list[derivation.Stay]:
    """The patient's stays in hospital, for marking the readings taken during one."""
    rows = session.execute(
        select(PatientEvent.id, PatientEvent.occurred_on, PatientEvent.discharged_on).where(
            PatientEvent.patient_id == patient_id, PatientEvent.kind == "admission"
        )
    ).all()
    return derivation.hospital_stays(
        derivation.EventFact(row.id, "admission", row.occurred_on, row.discharged_on)
        for row in rows
    )


# --- the use cases ------------------------------------------------------------------------------


def record_event(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    patient_id: uuid.UUID,
    body: EventIn,
) -> PatientEvent:
    patient = patient_for(session, principal, patient_id)
    event = PatientEvent(
        id=uuid.uuid4(), patient_id=patient.id, recorded_at=now, recorded_by=principal.user_id
    )
    if isinstance(body, AdmissionIn):
        not_future("admitted_on", body.admitted_on, now)
        not_future("discharged_on", body.discharged_on, now)
        event.kind, event.occurred_on = "admission", body.admitted_on
        event.discharged_on, event.hf_related, event.emergency = (
            body.discharged_on,
            body.hf_related,
            body.emergency,
        )
    elif isinstance(body, AttendanceIn):
        not_future("attended_on", body.attended_on, now)
        event.kind, event.occurred_on, event.emergency = "ae_attendance", body.attended_on, True
    else:
        not_future("died_on", body.died_on, now)
        _refuse_second_death(session, patient.id)
        event.kind, event.occurred_on, event.emergency = "death", body.died_on, True
    session.add(event)
    session.flush()
    audit_patient_access(session, route, principal, patient.id, "C", now, f"event:{event.kind}")
    apply_state(session, principal, route, now, patient)
    return event


def _refuse_second_death(session: Session, patient_id: uuid.UUID) -> None:
    died = select(PatientEvent.id).where(
        PatientEvent.patient_id == patient_id, PatientEvent.kind == "death"
    )
    if session.scalar(died) is not None:
        raise Conflict("A death is already recorded for this patient.")


def _event_for(
    session: Session, principal: Principal, patient_id: uuid.UUID, event_id: uuid.UUID
) -> tuple[Patient, PatientEvent]:
    patient = patient_for(session, principal, patient_id)
    event = session.get(PatientEvent, event_id)
    if event is None or event.patient_id != patient.id:
        raise NotFound("No such event.")
    return patient, event


def edit_event(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    patient_id: uuid.UUID,
    event_id: uuid.UUID,
    patch: dict[str, Any],
) -> PatientEvent:
    """Change an event by JSON Merge Patch (RFC 7396) over its ``EventOut`` fields: an absent
    field is kept, ``null`` clears it (only an admission's discharge date can be cleared: the
    stay is then open again). The merged event is checked as a whole."""
    patient, event = _event_for(session, principal, patient_id, event_id)
    merged = {name: getattr(event, name) for name in EDITABLE} | patch
    for name in ("occurred_on", "emergency"):
        if merged[name] is None:
            raise field_error(name, "cannot be cleared")
    if event.kind == "admission":
        if merged["hf_related"] is None:
            raise field_error("hf_related", "cannot be cleared from an admission")
        if merged["discharged_on"] is not None and merged["discharged_on"] < merged["occurred_on"]:
            raise field_error("discharged_on", "is before the admission date")
    else:
        for name in ("discharged_on", "hf_related"):
            if merged[name] is not None:
                raise Conflict(f"Only an admission has {name}.")
    not_future("occurred_on", merged["occurred_on"], now)
    not_future("discharged_on", merged["discharged_on"], now)
    changed = sorted(name for name in EDITABLE if merged[name] != getattr(event, name))
    for name in changed:
        setattr(event, name, merged[name])
    session.flush()
    audit_patient_access(
        session, route, principal, patient.id, "U", now, f"event:{event.kind}:{','.join(changed)}"
    )
    apply_state(session, principal, route, now, patient)
    return event


def delete_event(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    patient_id: uuid.UUID,
    event_id: uuid.UUID,
) -> None:
    """Delete a wrongly recorded event; the audit record keeps what it said. Deleting a death
    is how a wrongly recorded death is corrected."""
    patient, event = _event_for(session, principal, patient_id, event_id)
    detail = f"event:{event.kind}:{event.occurred_on}:{event.discharged_on or ''}:{event.id}"
    session.delete(event)
    session.flush()
    audit_patient_access(session, route, principal, patient.id, "D", now, detail)
    apply_state(session, principal, route, now, patient)


def list_events(
    session: Session, principal: Principal, patient_id: uuid.UUID
) -> tuple[Patient, Any]:
    """The patient (checked against the caller's teams) and the query of their events."""
    patient = patient_for(session, principal, patient_id)
    return patient, select(PatientEvent).where(PatientEvent.patient_id == patient.id)


def discharge(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    patient_id: uuid.UUID,
    body: DischargeIn,
) -> Patient:
    """Discharge from monitoring with a reason; open review tasks are no longer owed."""
    patient = patient_for(session, principal, patient_id)
    if patient.status == "discharged":
        raise Conflict("The patient has already been discharged from monitoring.")
    not_future("date", body.discharged_on, now)
    if body.discharged_on < patient.enrolled_on:
        raise field_error("date", "is before the enrolment date")
    _compare_and_set(
        session,
        patient,
        status="discharged",
        discharged_on=body.discharged_on,
        discharge_reason=body.reason,
    )
    audit_patient_access(
        session, route, principal, patient.id, "U", now, f"discharge:{body.reason}"
    )
    apply_state(session, principal, route, now, patient)
    return patient


def _compare_and_set(session: Session, patient: Patient, **values: Any) -> None:
    """Change the patient's row if nobody else did since it was read (409 otherwise), as the
    patient PATCH does."""
    try:
        result = session.execute(
            update(Patient)
            .where(Patient.id == patient.id, Patient.version == patient.version)
            .values(**values, version=patient.version + 1)
            .execution_options(synchronize_session=False)
        )
    except IntegrityError as exc:
        # Back on monitoring while a new enrolment of the same NHS number is active.
        raise Conflict("This NHS number is enrolled and active in another record.") from exc
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("The record was changed by someone else: reload and try again.")
    session.refresh(patient)


# --- the state, applied -------------------------------------------------------------------------


def apply_state(
    session: Session, principal: Principal, route: str, now: datetime, patient: Patient
) -> derivation.PatientState:
    """Derive the state from every recorded event and make the records agree with it."""
    # The patient's row lock, as ingest takes it: a reading being stored now either commits
    # first (and its alert is closed here) or waits and then finds the patient discharged.
    session.refresh(patient, with_for_update=True)
    today = now.astimezone(LONDON).date()
    state = derivation.derive(
        (_fact(e) for e in _events_of(session, patient.id)), today, patient.enrolled_on
    )
    if state.died_on is not None:
        _end_monitoring(session, principal, route, now, patient, state.died_on)
    elif patient.died_on is not None:
        _correct_death(session, principal, route, now, patient)
    if patient.in_hospital_since != state.in_hospital_since:
        patient.in_hospital_since = state.in_hospital_since
        detail = f"state:in_hospital_since:{state.in_hospital_since or 'none'}"
        audit_patient_access(session, route, principal, patient.id, "U", now, detail)
    review = state.review if patient.status != "discharged" else None
    _reconcile_review(session, patient, review, now)
    session.flush()
    return state


def _end_monitoring(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    patient: Patient,
    died_on: date,
) -> None:
    """A death: discharged from monitoring with reason ``died``, every device token revoked,
    every open alert and task closed saying why. Idempotent, so an edit of the death (its date)
    only moves the dates."""
    ended = max(died_on, patient.enrolled_on)
    if patient.status != "discharged":
        _compare_and_set(
            session, patient, status="discharged", discharged_on=ended, discharge_reason="died"
        )
    elif patient.discharge_reason == "died" and patient.discharged_on != ended:
        _compare_and_set(session, patient, discharged_on=ended)
    patient.died_on = died_on
    revoked = session.execute(
        update(DeviceToken)
        .where(DeviceToken.patient_id == patient.id, DeviceToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    note = f"Death recorded (died on {died_on.isoformat()}): monitoring ended."
    closed = 0
    for row in alerting.unresolved_of(session, patient.id):
        alerting.close_by_system(session, row, Outcome.PATIENT_DIED, note, now)
        closed += 1
    # Notifications about the patient still waiting to go out would page the team about
    # someone who has died: the delivery job is stopped for them too.
    about_patient = (
        select(OutboxEvent.id)
        .join(Alert, Alert.id == OutboxEvent.alert_id)
        .where(Alert.patient_id == patient.id)
    )
    held = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.event_id.in_(about_patient))
        .values(status="failed", last_error="not sent: the patient's death was recorded")
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if revoked or closed or held:
        detail = (
            f"state:died:tokens_revoked={revoked}:alerts_closed={closed}:notifications_held={held}"
        )
        audit_patient_access(session, route, principal, patient.id, "U", now, detail)


def _correct_death(
    session: Session, principal: Principal, route: str, now: datetime, patient: Patient
) -> None:
    """No death recorded any more: the discharge it caused is undone. Revoked device tokens stay
    revoked (the team issues a new one) and closed alerts stay closed: new readings are judged
    afresh."""
    if patient.status == "discharged" and patient.discharge_reason == "died":
        _compare_and_set(
            session, patient, status="active", discharged_on=None, discharge_reason=None
        )
    patient.died_on = None
    audit_patient_access(session, route, principal, patient.id, "U", now, "state:death-corrected")


def _review_key(event_id: uuid.UUID) -> str:
    return f"pdr:{event_id.hex}"


def _due_at(due_on: date) -> datetime:
    # Due by the end of the 14th day after discharge, in London.
    return datetime.combine(due_on, time(23, 59), tzinfo=LONDON)


def _reconcile_review(
    session: Session, patient: Patient, review: derivation.ReviewDue | None, now: datetime
) -> None:
    """One open post-discharge review task, for the last discharge from hospital, or none.

    A task is keyed by the admission whose discharge it follows: one a clinician has resolved is
    not raised again; one the service closed (readmitted, discharge date corrected) is raised
    again if the discharge it followed becomes the last one once more.
    """
    tasks = list(
        session.scalars(
            select(Alert).where(Alert.patient_id == patient.id, Alert.alert_group == REVIEW_GROUP)
        ).all()
    )
    wanted = _review_key(review.discharge_event_id) if review else None
    due = _due_at(review.due_on) if review else None
    for task in tasks:
        if task.status == "resolved":
            continue
        if task.episode_key and wanted and task.episode_key.startswith(wanted):
            if task.due_at == due:
                return
            why = "The hospital discharge date was corrected: a new review task replaces this."
        elif review is None:
            why = "No hospital discharge awaits review (readmitted, or the discharge was removed)."
        else:
            why = "A later hospital discharge has its own review task."
        alerting.close_by_system(session, task, Outcome.NO_LONGER_DUE, why, now)
    if review is None or due is None or wanted is None:
        return
    mine = [t for t in tasks if t.episode_key and t.episode_key.startswith(wanted)]
    if any(t.outcome and Outcome(t.outcome) not in SYSTEM_OUTCOMES for t in mine):
        return
    config = evaluation.config_for(evaluation.site_overrides(session, patient.team_id))
    alerting.raise_task(
        session,
        patient,
        REVIEW_GROUP,
        REVIEW_TITLE,
        f"Discharged from hospital on {review.discharged_on:%d %b %Y}: review within 2 weeks "
        f"(NICE NG106), by {review.due_on:%d %b %Y}.",
        config.version,
        due,
        now,
        episode_key=f"{wanted}:{len(mine)}",
    )
