"""Red alerts raised out of hours: the site's setting, its target webhook, and the handover.

The setting lives in the site's stored response policy beside the calendar it depends on
(``out_of_hours_handling``, ``out_of_hours_webhook_id``); the decision
is ``alerts.out_of_hours``. A handover is one more delivery of the alert's own outbox event, to
the site's named webhook, written in the same transaction as the alert: a committed red alert
raised out of hours always has its handover, and the delivery's state (pending, delivered,
failed) is its outcome, kept and never deleted.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts import HANDOVERS, SITE_CHOICES, Handling, Severity, handling_for
from pathway.response import ResponsePolicy
from service.models import OutboxEvent, Team, Webhook, WebhookDelivery
from service.problems import Conflict, Unprocessable

OUT_OF_HOURS = "out_of_hours"


def choice_of(raw: dict[str, Any]) -> Handling:
    """The site's choice; a stored value the site could not have saved waits for the team, as
    the default does, rather than fail the ingest that raises the alert."""
    stored = raw.get("out_of_hours_handling")
    return next((c for c in SITE_CHOICES if c == stored), Handling.QUEUE)


def _target(session: Session, site_id: uuid.UUID, raw: dict[str, Any]) -> Webhook | None:
    """The site's named out-of-hours webhook if it can take deliveries: active, for
    out-of-hours use, and registered under one of the site's teams."""
    named = raw.get("out_of_hours_webhook_id")
    if not named:
        return None
    try:
        hook_id = uuid.UUID(str(named))
    except ValueError:
        return None
    return session.scalar(
        select(Webhook)
        .join(Team, Team.id == Webhook.team_id)
        .where(
            Webhook.id == hook_id,
            Webhook.is_active.is_(True),
            Webhook.purpose == OUT_OF_HOURS,
            Team.site_id == site_id,
        )
    )


def check_setting(session: Session, site_id: uuid.UUID, raw: dict[str, Any]) -> None:
    """Refuse (422, naming the field) a handover without an out-of-hours webhook to take it."""
    choice = choice_of(raw)
    if choice not in HANDOVERS:
        return
    field = "response_policy.out_of_hours_webhook_id"
    if not raw.get("out_of_hours_webhook_id"):
        message = f"{choice} needs out_of_hours_webhook_id, the webhook that takes the alerts"
    elif _target(session, site_id, raw) is None:
        message = "no active webhook with purpose 'out_of_hours' has this id in a team of this site"
    else:
        return
    raise Unprocessable(
        message, extra={"errors": [{"field": field, "message": message, "type": "value_error"}]}
    )


def handed_to(raw: dict[str, Any]) -> str | None:
    """The id of the webhook the site hands red alerts to out of hours, as stored; None when
    the site keeps them in the queue."""
    named = raw.get("out_of_hours_webhook_id")
    return str(named) if named and choice_of(raw) in HANDOVERS else None


def refuse_if_named(hook: Webhook, raw: dict[str, Any]) -> None:
    """A webhook the site hands red alerts to out of hours stays until the setting changes:
    stopping it first would leave the site believing its nights are covered (409)."""
    if handed_to(raw) == str(hook.id):
        raise Conflict(
            "The site hands red alerts raised out of hours to this webhook: change the site's "
            "out_of_hours_handling first.",
            extra={"webhook_id": str(hook.id)},
        )


def site_of(session: Session, team_id: uuid.UUID) -> uuid.UUID:
    site_id = session.scalar(select(Team.site_id).where(Team.id == team_id))
    assert site_id is not None
    return site_id


def decide(
    session: Session,
    team_id: uuid.UUID,
    raw: dict[str, Any],
    calendar: ResponsePolicy,
    severity: Severity,
    now: datetime,
) -> tuple[Handling | None, Webhook | None]:
    """The handling of an alert of the team that becomes ``severity`` now, and the webhook
    that takes it (for a handover). The target is looked up only out of hours."""
    if severity is not Severity.RED or calendar.is_working_time(now):
        return None, None
    choice = choice_of(raw)
    target = _target(session, site_of(session, team_id), raw) if choice in HANDOVERS else None
    handling = handling_for(severity, now, calendar, choice, target is not None)
    return handling, target if handling in HANDOVERS else None


def hand_over(session: Session, event: OutboxEvent, target: Webhook, now: datetime) -> None:
    """The alert's event to the out-of-hours service too, retried like every delivery."""
    session.add(
        WebhookDelivery(
            event_id=event.id,
            webhook_id=target.id,
            status="pending",
            attempts=0,
            next_attempt_at=now,
        )
    )


def delivery_of(session: Session, alert_id: uuid.UUID) -> dict[str, Any] | None:
    """The latest handover of the alert to an out-of-hours service, as the detail shows it."""
    row = session.execute(
        select(WebhookDelivery, OutboxEvent.event_type)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(OutboxEvent.alert_id == alert_id, Webhook.purpose == OUT_OF_HOURS)
        .order_by(OutboxEvent.created_at.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    delivery, event_type = row
    return {
        "webhook_id": delivery.webhook_id,
        "event_type": event_type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "delivered_at": delivery.delivered_at,
        "last_error": delivery.last_error,
    }
