"""Scheduled jobs. Each runs in one unit of work; its effects are idempotent, and the scheduler
also takes a database lock per job so two scheduler processes never run the same job at once."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

import pathway
from alerts import (
    DeliveryOutcome,
    EventType,
    Notifier,
    OutgoingMessage,
    WebhookEndpoint,
    WebhookSecret,
    lifecycle,
    next_attempt_at,
)
from pathway.alert_policy import problem_of
from service import alerting
from service.alerting.secrets import SecretBox
from service.db.capabilities import skip_locked
from service.models import (
    Alert,
    OutboxEvent,
    Patient,
    PatientEvent,
    Reading,
    ReportSnapshot,
    Site,
    Team,
    Webhook,
    WebhookDelivery,
)
from service.problems import Conflict
from service.readings import evaluation
from service.reports.snapshot import snapshot_month
from service.timeutil import LONDON


def missed_readings(session: Session, now: datetime) -> dict[str, Any]:
    """Amber alert for each active patient whose plan expects weights and who sent none lately.

    One alert per gap: the gap's start (the last weight, or enrolment) is the alert's episode
    key, so a resolved missed-reading alert is not raised again for the same gap. A patient in
    hospital (an admission with no discharge date) or recorded as dead is not judged; after a
    hospital discharge the gap starts on the discharge day, not at the last weight before the
    admission.
    """
    last_weight = (
        select(Reading.patient_id, func.max(Reading.taken_at).label("last_at"))
        .where(Reading.type == "weight")
        .group_by(Reading.patient_id)
        .subquery()
    )
    last_discharge = (
        select(PatientEvent.patient_id, func.max(PatientEvent.discharged_on).label("discharged_on"))
        .where(PatientEvent.kind == "admission")
        .group_by(PatientEvent.patient_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Patient, last_weight.c.last_at, last_discharge.c.discharged_on, Site.pathway_overrides
        )
        .outerjoin(last_weight, last_weight.c.patient_id == Patient.id)
        .outerjoin(last_discharge, last_discharge.c.patient_id == Patient.id)
        .join(Team, Team.id == Patient.team_id)
        .join(Site, Site.id == Team.site_id)
        .where(
            Patient.status == "active",
            Patient.in_hospital_since.is_(None),
            Patient.died_on.is_(None),
        )
    ).all()
    raised = 0
    for patient, last_weighed, home_on, overrides in rows:
        config = evaluation.config_for(overrides)
        enrolled_at = datetime.combine(patient.enrolled_on, time.min, tzinfo=LONDON)
        last_at = last_weighed
        if home_on is not None:
            home_at = datetime.combine(home_on, time.min, tzinfo=LONDON)
            if home_at > enrolled_at and (last_at is None or last_at < home_at):
                enrolled_at, last_at = home_at, None
        finding = pathway.missed_readings(
            config, evaluation.patient_context(patient), last_at, enrolled_at, now
        )
        if finding is None:
            continue
        episode = (last_at or enrolled_at).isoformat()
        seen = session.scalar(
            select(func.count())
            .select_from(Alert)
            .where(
                Alert.patient_id == patient.id,
                Alert.alert_group == problem_of(finding.rule_id),
                Alert.episode_key == episode,
            )
        )
        if seen:
            continue
        if alerting.raise_from_findings(session, patient, [finding], now, episode_key=episode):
            raised += 1
    return {"patients_checked": len(rows), "alerts_raised": raised}


def escalate_overdue(session: Session, now: datetime) -> dict[str, Any]:
    """Mark overdue unresolved alerts escalated and notify the team, once per alert."""
    overdue = session.scalars(
        select(Alert)
        .where(Alert.status != "resolved", Alert.escalated_at.is_(None), Alert.due_at < now)
        .order_by(Alert.due_at)
        .limit(1000)
    ).all()
    escalated = 0
    for alert in overdue:
        # An alert changed since it was read (a reading added evidence, a clinician moved it)
        # is read again and tried once more; it never cancels the escalation of the others.
        for _attempt in range(2):
            try:
                with session.begin_nested():
                    if alert.status == "resolved" or alert.escalated_at is not None:
                        break
                    transition = lifecycle.escalate(alerting.state_of(alert), now)
                    alerting.apply(session, alert, transition)
                    alerting.enqueue(session, alert, EventType.ALERT_ESCALATED, now)
                    escalated += 1
                    break
            except Conflict:
                session.refresh(alert)
    return {"escalated": escalated}


def deliver_webhooks(
    session: Session,
    now: datetime,
    notifier: Notifier,
    box: SecretBox,
    rng: random.Random | None = None,
    batch: int = 100,
) -> dict[str, Any]:
    """Send due deliveries; failures are rescheduled with backoff, never dropped.

    A webhook deactivated after its events were queued sends none of them: each is marked
    failed unsent, so the team sees what it stopped.
    """
    rng = rng or random.SystemRandom()
    query = skip_locked(
        session,
        select(WebhookDelivery, OutboxEvent, Webhook)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(batch),
        of=WebhookDelivery,
    )
    sent = failed = retry = 0
    for delivery, event, hook in session.execute(query).all():
        values = _attempt(delivery, event, hook, now, notifier, box, rng)
        if values["status"] == "delivered":
            sent += 1
        elif values["status"] == "failed":
            failed += 1
        else:
            retry += 1
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery.id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        # Commit each attempt: a crash after sending must not forget that it was sent.
        session.commit()
    return {"delivered": sent, "failed": failed, "retrying": retry}


def _attempt(
    delivery: WebhookDelivery,
    event: OutboxEvent,
    hook: Webhook,
    now: datetime,
    notifier: Notifier,
    box: SecretBox,
    rng: random.Random,
) -> dict[str, Any]:
    """The delivery's new column values after one attempt (or none, for a stopped webhook)."""
    if not hook.is_active:
        return {"status": "failed", "last_error": "webhook deactivated"}
    try:
        secret = WebhookSecret.parse(box.open(hook.secret))
    except ValueError:
        return {"status": "failed", "last_error": "webhook secret unreadable"}
    endpoint = WebhookEndpoint(endpoint_id=str(hook.id), url=hook.url, secret=secret)
    message = OutgoingMessage(
        message_id=str(event.id),
        event_type=EventType(event.event_type),
        body=event.body.encode(),
        sent_at=now,
    )
    result = notifier.deliver(endpoint, message)
    first = delivery.first_attempt_at or now
    values: dict[str, Any] = {
        "status": "pending",
        "attempts": delivery.attempts + 1,
        "first_attempt_at": first,
        "last_attempt_at": now,
        "last_status_code": result.status_code,
        "last_error": result.error,
    }
    if result.outcome == DeliveryOutcome.DELIVERED:
        values.update(status="delivered", delivered_at=now)
    elif result.outcome == DeliveryOutcome.PERMANENT_FAILURE:
        values.update(status="failed")
    else:
        nxt = next_attempt_at(delivery.attempts + 1, first, now, rng)
        if nxt is None:
            values.update(status="failed")
        else:
            values.update(next_attempt_at=nxt)
    return values


def new_runner_id() -> str:
    return uuid.uuid4().hex[:12]


def snapshot_reports(session: Session, now: datetime) -> dict[str, Any]:
    """Freeze last month's figures once, after the month has closed in London."""
    first_of_month = now.astimezone(LONDON).date().replace(day=1)
    month = (first_of_month - timedelta(days=1)).strftime("%Y-%m")
    frozen = session.scalar(
        select(func.count()).select_from(ReportSnapshot).where(ReportSnapshot.month == month)
    )
    if frozen:
        return {"month": month, "rows": 0, "already_frozen": True}
    return {"month": month, "rows": snapshot_month(session, month, now), "already_frozen": False}
