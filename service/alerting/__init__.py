"""Alerts in the database: raising from findings, moves by clinicians, and the outbox.

The package is the alerting room: this module (what the readings and the jobs call), the use
cases (``service``), the queue's SQL (``repository``), the routes (``api``) and their shapes
(``schemas``).

The decisions are ``alerts``' pure functions; this module loads their inputs, persists their
outputs with optimistic concurrency, and writes notification events to the outbox in the same
transaction, so a committed alert always has its notification and a rolled-back one never does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

import pathway
from alerts import (
    AlertEvent,
    AlertEventData,
    AlertState,
    AlertStatus,
    AttachEvidence,
    EventType,
    Handling,
    IllegalTransition,
    IncomingFinding,
    InvalidInput,
    OpenAlert,
    Outcome,
    RaiseAlert,
    ResponsePolicy,
    Severity,
    Transition,
    build_event,
    due_at,
    lifecycle,
    raising,
)
from pathway.alert_policy import lead, problem_of
from service.alerting import out_of_hours
from service.models import (
    Alert,
    AlertEventRow,
    AlertFinding,
    OutboxEvent,
    Patient,
    Site,
    Team,
    Webhook,
    WebhookDelivery,
)
from service.problems import Conflict, Unprocessable

RANK = {"amber": 1, "red": 2}
NOTIFY_ON_RAISE = {Severity.RED}


def response_policy(session: Session, team_id: uuid.UUID) -> ResponsePolicy:
    return policy_from_json(stored_response_policy(session, team_id))


def stored_response_policy(session: Session, team_id: uuid.UUID) -> dict[str, Any]:
    """The team's site's policy as saved (the settings beside the calendar included)."""
    raw = session.execute(
        select(Site.response_policy).join(Team, Team.site_id == Site.id).where(Team.id == team_id)
    ).scalar()
    return raw or {}


def policy_from_json(raw: dict[str, Any]) -> ResponsePolicy:
    """A site's stored policy; unknown keys are refused when the site saves it, not here."""
    kwargs: dict[str, Any] = {}
    for key in ("opens_at", "closes_at", "red_cutoff"):
        if key in raw:
            kwargs[key] = time.fromisoformat(raw[key])
    if "working_days" in raw:
        kwargs["working_days"] = frozenset(int(d) for d in raw["working_days"])
    if "holidays" in raw:
        kwargs["holidays"] = frozenset(date.fromisoformat(d) for d in raw["holidays"])
    if "bank_holidays" in raw:
        kwargs["bank_holidays"] = bool(raw["bank_holidays"])
    if "red_within_minutes" in raw:
        kwargs["red_within"] = timedelta(minutes=int(raw["red_within_minutes"]))
    if "amber_working_days" in raw:
        kwargs["amber_working_days"] = int(raw["amber_working_days"])
    if "timezone" in raw:
        kwargs["timezone"] = str(raw["timezone"])
    return ResponsePolicy(**kwargs)


def state_of(alert: Alert) -> AlertState:
    return AlertState(
        status=AlertStatus(alert.status),
        severity=Severity(alert.severity),
        due_at=alert.due_at,
        assignee_id=str(alert.assignee_id) if alert.assignee_id else None,
        version=alert.version,
        escalated_at=alert.escalated_at,
        acknowledged_at=alert.acknowledged_at,
        resolved_at=alert.resolved_at,
        outcome=Outcome(alert.outcome) if alert.outcome else None,
        first_action_at=alert.first_action_at,
        severity_raised_at=alert.severity_raised_at,
        minutes_spent=alert.minutes_spent,
    )


def _incoming(finding: pathway.Finding) -> IncomingFinding:
    """The finding as the de-duplication sees it: keyed by its rule's clinical problem
    (``pathway.alert_policy``, which the replay follows too)."""
    return IncomingFinding(
        rule_id=problem_of(finding.rule_id),
        severity=Severity(str(finding.level)),
        pathway_version=finding.pathway_version,
        evidence_ids=tuple(finding.evidence),
        summary=finding.summary,
        title=finding.title,
        observed_at=finding.observed_at,
    )


def raise_from_findings(
    session: Session,
    patient: Patient,
    findings: Sequence[pathway.Finding],
    now: datetime,
    *,
    episode_key: str | None = None,
) -> list[Alert]:
    """Apply the pathway's findings to the patient's alerts; returns the alerts touched."""
    if not findings:
        return []
    # Locked: a clinician's move or the escalation job committing between this read and the
    # optimistic update below would otherwise fail the whole ingest (409) and lose the reading.
    open_rows = session.scalars(
        select(Alert)
        .where(Alert.patient_id == patient.id, Alert.status != "resolved")
        .order_by(Alert.id)
        .with_for_update()
    ).all()
    open_alerts = {
        row.alert_group: OpenAlert(
            alert_id=str(row.id),
            rule_id=row.alert_group,
            severity=Severity(row.severity),
            evidence_ids=tuple(_evidence_of(session, row.id)),
        )
        for row in open_rows
    }
    by_id = {str(row.id): row for row in open_rows}
    originals: dict[str, list[pathway.Finding]] = {}
    for finding in findings:
        originals.setdefault(problem_of(finding.rule_id), []).append(finding)
    stored = stored_response_policy(session, patient.team_id)
    policy = policy_from_json(stored)
    touched: list[Alert] = []
    for action in raising.plan(open_alerts, [_incoming(f) for f in findings]):
        group = action.finding.rule_id
        top = lead(originals[group])
        if isinstance(action, RaiseAlert):
            ooh = out_of_hours.decide(
                session, patient.team_id, stored, policy, action.finding.severity, now
            )
            row = _raise(
                session, patient, group, top, action.finding, policy, now, episode_key, ooh
            )
        elif isinstance(action, AttachEvidence):
            row = by_id[action.alert_id]
            transition = lifecycle.attach_evidence(state_of(row), action.new_evidence_ids, now)
            _persist(session, row, transition)
        else:
            row = by_id[action.alert_id]
            due = due_at(now, action.to_severity, policy)
            transition = lifecycle.raise_severity(
                state_of(row), action.to_severity, due, now, action.new_evidence_ids
            )
            _persist(session, row, transition)
            row.rule_id, row.title, row.summary = top.rule_id, top.title[:300], top.summary[:500]
            row.pathway_version = top.pathway_version
            # Turning red out of hours is a red alert raised out of hours, as a new one is.
            handling, target = out_of_hours.decide(
                session, patient.team_id, stored, policy, action.to_severity, now
            )
            if row.out_of_hours_handling is None:
                row.out_of_hours_handling = str(handling) if handling else None
            event = enqueue(
                session, row, EventType.ALERT_SEVERITY_RAISED, now, action.from_severity
            )
            if target is not None:
                out_of_hours.hand_over(session, event, target, now)
        for finding in originals[group]:
            _add_finding(session, row.id, finding, now)
        touched.append(row)
    session.flush()
    return touched


def _evidence_of(session: Session, alert_id: uuid.UUID) -> list[str]:
    rows = session.scalars(select(AlertFinding.evidence).where(AlertFinding.alert_id == alert_id))
    return sorted({ev for evidence in rows for ev in evidence})


def _raise(
    session: Session,
    patient: Patient,
    group: str,
    top: pathway.Finding,
    merged: IncomingFinding,
    policy: ResponsePolicy,
    now: datetime,
    episode_key: str | None,
    out_of_hours_decision: tuple[Handling | None, Webhook | None],
) -> Alert:
    handling, target = out_of_hours_decision
    due = due_at(now, merged.severity, policy)
    state, event = lifecycle.raise_alert(merged.severity, due, now)
    row = Alert(
        id=uuid.uuid4(),
        patient_id=patient.id,
        team_id=patient.team_id,
        rule_id=top.rule_id,
        alert_group=group,
        severity=str(state.severity),
        severity_rank=RANK[str(state.severity)],
        status=str(state.status),
        pathway_version=top.pathway_version,
        title=top.title[:300],
        summary=top.summary[:500],
        episode_key=episode_key,
        raised_at=now,
        due_at=state.due_at,
        version=state.version,
        out_of_hours_handling=str(handling) if handling else None,
    )
    session.add(row)
    session.flush()
    _add_event(session, row.id, event)
    if state.severity in NOTIFY_ON_RAISE:
        outbox = enqueue(session, row, EventType.ALERT_RAISED, now)
        if target is not None:
            out_of_hours.hand_over(session, outbox, target, now)
    return row


def _add_finding(
    session: Session, alert_id: uuid.UUID, finding: pathway.Finding, now: datetime
) -> None:
    session.add(
        AlertFinding(
            alert_id=alert_id,
            rule_id=finding.rule_id,
            level=str(finding.level),
            pathway_version=finding.pathway_version,
            title=finding.title[:300],
            summary=finding.summary[:500],
            evidence=list(finding.evidence),
            observed_at=finding.observed_at,
            recorded_at=now,
        )
    )


def _add_event(session: Session, alert_id: uuid.UUID, event: AlertEvent) -> None:
    session.add(
        AlertEventRow(
            alert_id=alert_id,
            kind=str(event.kind),
            at=event.at,
            actor_id=uuid.UUID(event.actor_id) if event.actor_id else None,
            version=event.version,
            from_status=str(event.from_status) if event.from_status else None,
            to_status=str(event.to_status),
            severity=str(event.severity),
            previous_severity=str(event.previous_severity) if event.previous_severity else None,
            assignee_id=uuid.UUID(event.assignee_id) if event.assignee_id else None,
            note=event.note,
            outcome=str(event.outcome) if event.outcome else None,
            evidence=list(event.evidence_ids) or None,
            due_at=event.due_at,
            minutes_spent=event.minutes_spent,
        )
    )


def _persist(session: Session, row: Alert, transition: Transition) -> None:
    """Write a transition if nobody else moved the alert since it was read; 409 otherwise."""
    state, event = transition
    result = session.execute(
        update(Alert)
        .where(Alert.id == row.id, Alert.version == row.version)
        .values(
            status=str(state.status),
            severity=str(state.severity),
            severity_rank=RANK[str(state.severity)],
            due_at=state.due_at,
            assignee_id=uuid.UUID(state.assignee_id) if state.assignee_id else None,
            version=state.version,
            escalated_at=state.escalated_at,
            acknowledged_at=state.acknowledged_at,
            resolved_at=state.resolved_at,
            outcome=str(state.outcome) if state.outcome else None,
            first_action_at=state.first_action_at,
            severity_raised_at=state.severity_raised_at,
            minutes_spent=state.minutes_spent,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            "Someone else changed this alert first: reload it and try again.",
            extra={"alert_id": str(row.id)},
        )
    _add_event(session, row.id, event)
    session.flush()
    session.refresh(row)


def apply(session: Session, row: Alert, transition: Transition) -> Alert:
    _persist(session, row, transition)
    return row


def move(session: Session, row: Alert, make: Any, expected_version: int | None) -> Alert:
    """Run a clinician's move: lifecycle refusals are 409, bad input 422."""
    if expected_version is not None and expected_version != row.version:
        raise Conflict(
            "Someone else changed this alert first: reload it and try again.",
            extra={"alert_id": str(row.id), "current_version": row.version},
        )
    try:
        transition = make(state_of(row))
    except IllegalTransition as exc:
        raise Conflict(
            str(exc), extra={"alert_id": str(row.id), "alert_status": row.status}
        ) from exc
    except InvalidInput as exc:
        raise Unprocessable(
            exc.message,
            extra={"errors": [{"field": exc.field, "message": exc.message, "type": "value_error"}]},
        ) from exc
    return apply(session, row, transition)


def enqueue(
    session: Session,
    row: Alert,
    event_type: EventType,
    now: datetime,
    previous: Severity | None = None,
) -> OutboxEvent:
    event_id = uuid.uuid4()
    body = build_event(
        str(event_id),
        event_type,
        now,
        AlertEventData(
            alert_id=str(row.id),
            patient_id=str(row.patient_id),
            team_id=str(row.team_id),
            rule_id=row.rule_id,
            pathway_version=row.pathway_version,
            severity=Severity(row.severity),
            due_at=row.due_at,
            previous_severity=previous,
            out_of_hours_handling=row.out_of_hours_handling,
        ),
    )
    event = OutboxEvent(
        id=event_id,
        team_id=row.team_id,
        alert_id=row.id,
        event_type=str(event_type),
        body=body.decode(),
        created_at=now,
    )
    session.add(event)
    session.flush()
    # The team's own webhooks; an out-of-hours service gets only the handovers (``hand_over``).
    hooks: Iterable[uuid.UUID] = session.scalars(
        select(Webhook.id).where(
            Webhook.team_id == row.team_id,
            Webhook.is_active.is_(True),
            Webhook.purpose == "team",
        )
    ).all()
    session.add_all(
        WebhookDelivery(
            event_id=event_id, webhook_id=hook, status="pending", attempts=0, next_attempt_at=now
        )
        for hook in hooks
    )
    return event


# --- tasks and closing by the service -----------------------------------------------------------


def raise_task(
    session: Session,
    patient: Patient,
    group: str,
    title: str,
    summary: str,
    pathway_version: str,
    due_at: datetime,
    now: datetime,
    episode_key: str,
) -> Alert:
    """Work the team owes (not a clinical finding), in the queue as an amber item due at
    ``due_at``: the team works it as an alert (acknowledge, assign, resolve) and the escalation
    job escalates it when overdue."""
    state, event = lifecycle.raise_alert(Severity.AMBER, due_at, now)
    row = Alert(
        id=uuid.uuid4(),
        patient_id=patient.id,
        team_id=patient.team_id,
        rule_id=f"task.{group}",
        alert_group=group,
        kind="task",
        severity=str(state.severity),
        severity_rank=RANK[str(state.severity)],
        status=str(state.status),
        pathway_version=pathway_version,
        title=title[:300],
        summary=summary[:500],
        episode_key=episode_key,
        raised_at=now,
        due_at=state.due_at,
        version=state.version,
    )
    session.add(row)
    session.flush()
    _add_event(session, row.id, event)
    return row


def close_by_system(
    session: Session, row: Alert, outcome: Outcome, note: str, now: datetime
) -> Alert:
    """Close an unresolved alert or task because of a recorded fact, saying why."""
    return apply(session, row, lifecycle.close_by_system(state_of(row), outcome, note, now))


def unresolved_of(session: Session, patient_id: uuid.UUID) -> list[Alert]:
    """The patient's open and acknowledged alerts and tasks, locked as ``raise_from_findings``
    locks them, so a reading's ingest and a recorded event never interleave."""
    return list(
        session.scalars(
            select(Alert)
            .where(Alert.patient_id == patient_id, Alert.status != "resolved")
            .order_by(Alert.id)
            .with_for_update()
        ).all()
    )
