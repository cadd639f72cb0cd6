"""The alert use cases: the queue page, an alert's detail and the clinicians' moves.

Called by the API, the pages and FHIR alike, with plain values: the session (the request's unit
of work, which commits), the caller, the route the audit record names, and the clock's now.
Each reads or changes only alerts of the caller's teams (404 otherwise, so ids cannot be
probed) and audits every staff read or change of patient data.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts import AlertState, AlertStatus, Outcome, Transition, is_overdue, lifecycle
from service import alerting
from service.access import audit_params, audit_patient_access, audit_refusal
from service.alerting import out_of_hours, repository, rows
from service.alerting.repository import findings_of
from service.alerting.rows import age_on
from service.alerting.schemas import (
    AlertDetailOut,
    AlertEventOut,
    AlertFindingOut,
    AssignIn,
    MoveIn,
    NoteIn,
    PatientSummary,
    ResolveIn,
)
from service.deps import Principal
from service.models import Alert, AlertEventRow, Patient, User, UserTeam
from service.problems import NotFound, Unprocessable
from service.timeutil import LONDON


def alert_page(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    *,
    statuses: list[str] | None,
    severity: str | None,
    team_id: uuid.UUID | None,
    patient_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
    assignee: Literal["me", "none"] | None = None,
    overdue: bool = False,
) -> dict[str, Any]:
    """A page of the caller's queue with findings and patient summaries, audited as one read:
    an ``AlertPage`` as the plain values it is made of (its fields in the model's order), which
    the API serialises as they are and the UI validates into the model.

    ``assignee`` keeps the caller's own alerts ("me") or nobody's ("none"); ``overdue`` those
    past their due time now. ``totals`` counts the whole filter, not the page.

    Two SQL statements: the page (limit + 1 rows, to know whether there is more) joined to its
    findings, and the filter's totals. The page's patients are audited as one record naming
    them all, appended by the page's statement where the database can, by a third elsewhere.
    """
    teams = frozenset(principal.team_ids if team_id is None else principal.team_ids & {team_id})
    filters: dict[str, Any] = {
        "statuses": statuses,
        "severity": severity,
        "patient_id": patient_id,
        "assigned_to": principal.user_id if assignee == "me" else None,
        "unassigned": assignee == "none",
        "overdue_at": now if overdue else None,
    }
    audit = (
        audit_params(route, principal, "R", now, "alert-queue")
        if repository.audits_in_statement(session)
        else None
    )
    found = repository.page_rows(session, teams, limit=limit, cursor=cursor, audit=audit, **filters)
    items, more = rows.page_items(found, limit, now)
    if audit is None:
        patients = list(dict.fromkeys(item["patient_id"] for item in items))
        audit_patient_access(session, route, principal, patients, "R", now, "alert-queue")
    return {
        "items": items,
        "next_cursor": rows.cursor_after(items[-1]) if more else None,
        "totals": repository.totals(session, teams, now, **filters),
    }


def _fields(
    alert: Alert, patient: Patient, findings: list[AlertFindingOut], now: datetime
) -> dict[str, Any]:
    return {
        "id": alert.id,
        "patient_id": alert.patient_id,
        "team_id": alert.team_id,
        "patient": PatientSummary(
            id=alert.patient_id,
            nhs_number=patient.nhs_number,
            age=age_on(patient.date_of_birth, now.astimezone(LONDON).date()),
            cohort=patient.cohort,
        ),
        "rule_id": alert.rule_id,
        "severity": alert.severity,
        "status": alert.status,
        "title": alert.title,
        "summary": alert.summary,
        "pathway_version": alert.pathway_version,
        "raised_at": alert.raised_at,
        "due_at": alert.due_at,
        "overdue": is_overdue(alert.due_at, AlertStatus(alert.status), now),
        "acknowledged_at": alert.acknowledged_at,
        "first_action_at": alert.first_action_at,
        "escalated_at": alert.escalated_at,
        "resolved_at": alert.resolved_at,
        "severity_raised_at": alert.severity_raised_at,
        "assignee_id": alert.assignee_id,
        "outcome": alert.outcome,
        "version": alert.version,
        "out_of_hours_handling": alert.out_of_hours_handling,
        "minutes_spent": alert.minutes_spent,
        "findings": findings,
    }


def _alert_for(
    session: Session, principal: Principal, alert_id: uuid.UUID
) -> tuple[Alert, Patient]:
    row = session.execute(
        select(Alert, Patient)
        .join(Patient, Patient.id == Alert.patient_id)
        .where(Alert.id == alert_id)
    ).first()
    if row is None:
        raise NotFound("No such alert.")
    if row[0].team_id not in principal.team_ids:
        audit_refusal(session, principal, row[1].id)
        raise NotFound("No such alert.")
    return row[0], row[1]


def _detail(session: Session, alert: Alert, patient: Patient, now: datetime) -> AlertDetailOut:
    events = session.scalars(
        select(AlertEventRow)
        .where(AlertEventRow.alert_id == alert.id)
        .order_by(AlertEventRow.version)
    ).all()
    body = _fields(alert, patient, findings_of(session, [alert.id])[alert.id], now)
    body["events"] = [AlertEventOut.model_validate(e, from_attributes=True) for e in events]
    if alert.out_of_hours_handling is not None:
        body["out_of_hours_handover"] = out_of_hours.delivery_of(session, alert.id)
    return AlertDetailOut.model_validate(body)


def get_alert(
    session: Session, principal: Principal, route: str, now: datetime, alert_id: uuid.UUID
) -> AlertDetailOut:
    """An alert of the caller's teams with its findings and history, audited as a read."""
    alert, patient = _alert_for(session, principal, alert_id)
    audit_patient_access(session, route, principal, patient.id, "R", now, "alert")
    return _detail(session, alert, patient, now)


def patient_alerts(session: Session, patient: Patient, now: datetime) -> list[AlertDetailOut]:
    """A patient's alerts (up to 200, in queue order) with their findings and history.

    Unaudited: the caller has already audited its read of the patient's record.
    """
    rows, _ = repository.queue(
        session,
        frozenset({patient.team_id}),
        statuses=["open", "acknowledged", "resolved"],
        severity=None,
        patient_id=patient.id,
        limit=200,
        cursor=None,
    )
    return [_detail(session, alert, row_patient, now) for alert, row_patient in rows]


def _move(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    alert_id: uuid.UUID,
    version: int | None,
    make: Callable[[AlertState], Transition],
    detail: str,
) -> AlertDetailOut:
    alert, patient = _alert_for(session, principal, alert_id)
    alerting.move(session, alert, make, version)
    audit_patient_access(session, route, principal, patient.id, "U", now, detail)
    return _detail(session, alert, patient, now)


def acknowledge(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    alert_id: uuid.UUID,
    body: MoveIn | None,
) -> AlertDetailOut:
    """Acknowledge an open alert."""
    actor = str(principal.user_id)
    return _move(
        session,
        principal,
        route,
        now,
        alert_id,
        body.version if body else None,
        lambda s: lifecycle.acknowledge(s, actor, now),
        "acknowledge",
    )


def assign(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    alert_id: uuid.UUID,
    body: AssignIn,
) -> AlertDetailOut:
    """Assign an unresolved alert to an active clinician of its team (422 for anyone else)."""
    alert, _ = _alert_for(session, principal, alert_id)
    member = session.scalar(
        select(func.count())
        .select_from(UserTeam)
        .join(User, User.id == UserTeam.user_id)
        .where(
            UserTeam.user_id == body.user_id,
            UserTeam.team_id == alert.team_id,
            User.role == "clinician",
            User.is_active.is_(True),
        )
    )
    if not member:
        raise Unprocessable(
            "The assignee must be an active clinician of the alert's team.",
            extra={
                "errors": [
                    {
                        "field": "user_id",
                        "message": "not a clinician of this team",
                        "type": "value_error",
                    }
                ]
            },
        )
    actor, assignee = str(principal.user_id), str(body.user_id)
    return _move(
        session,
        principal,
        route,
        now,
        alert_id,
        body.version,
        lambda s: lifecycle.assign(s, assignee, actor, now),
        "assign",
    )


def add_note(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    alert_id: uuid.UUID,
    body: NoteIn,
) -> AlertDetailOut:
    """Add a note to an unresolved alert."""
    actor = str(principal.user_id)
    return _move(
        session,
        principal,
        route,
        now,
        alert_id,
        body.version,
        lambda s: lifecycle.add_note(s, body.text, actor, now),
        "note",
    )


def resolve(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    alert_id: uuid.UUID,
    body: ResolveIn,
) -> AlertDetailOut:
    """Resolve an alert with an outcome, and the minutes the work took if said: it leaves the
    queue."""
    actor = str(principal.user_id)
    outcome = Outcome(body.outcome)
    return _move(
        session,
        principal,
        route,
        now,
        alert_id,
        body.version,
        lambda s: lifecycle.resolve(s, outcome, body.note, actor, now, minutes=body.minutes),
        "resolve",
    )
