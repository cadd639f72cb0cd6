"""The teams' webhooks as use cases: register, list, stop, and the deliveries' state.

Called by the API (``service.alerting.api``) and by any page or command that manages webhooks,
with plain values: the session (the request's unit of work, which commits), the caller, the
route the audit record names, the clock's now and the inputs. A team outside the caller's
reach is 404, as if it did not exist, so ids cannot be probed.

Registering a destination makes the service send requests from inside the network, so it is an
administrator's decision (issue 18): the network admin, or the site admin of the team's site.
Clinicians of the team see its webhooks and deliveries, and may stop a webhook.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts import WebhookSecret
from service.access import audit_change, manages_site
from service.alerting import egress, out_of_hours, stored_response_policy
from service.alerting.schemas import DeliveryOut, WebhookIn, WebhookOut
from service.alerting.secrets import SecretBox
from service.deps import Principal
from service.models import OutboxEvent, Team, Webhook, WebhookDelivery
from service.problems import Forbidden, NotFound, Unprocessable
from service.settings import Settings

ADMINS = frozenset({"admin", "site_admin"})
TEAM_STAFF = ADMINS | {"clinician"}
# As the routes' role guard words it (``service.deps.require``), which answers first there.
_REFUSED = "Your role does not allow this."


def team_for(session: Session, principal: Principal, team_id: uuid.UUID) -> Team:
    """The team, if the caller works in it (clinician) or manages its site (admins)."""
    if principal.role not in TEAM_STAFF:
        raise Forbidden(_REFUSED)
    team = session.get(Team, team_id)
    if team is None or not _reaches(principal, team):
        raise NotFound("No such team.")
    return team


def _reaches(principal: Principal, team: Team) -> bool:
    if principal.role == "clinician":
        return team.id in principal.team_ids
    return principal.role in ADMINS and manages_site(principal, team.site_id)


@dataclass(frozen=True, slots=True)
class TeamWebhookCounts:
    active: int = 0
    stopped: int = 0
    pending: int = 0
    failed: int = 0


def counts_by_team(
    session: Session, principal: Principal, teams: Iterable[Team]
) -> dict[uuid.UUID, TeamWebhookCounts]:
    """For each of ``teams`` the caller reaches, its webhooks (active, stopped) and their
    deliveries (waiting, given up) counted: two grouped statements for any number of teams."""
    team_ids = [t.id for t in teams if _reaches(principal, t)]
    if not team_ids:
        return {}
    hooks = session.execute(
        select(
            Webhook.team_id,
            func.count().filter(Webhook.is_active.is_(True)),
            func.count().filter(Webhook.is_active.is_(False)),
        )
        .where(Webhook.team_id.in_(team_ids))
        .group_by(Webhook.team_id)
    ).all()
    deliveries = dict(
        (team_id, (pending, failed))
        for team_id, pending, failed in session.execute(
            select(
                Webhook.team_id,
                func.count().filter(WebhookDelivery.status == "pending"),
                func.count().filter(WebhookDelivery.status == "failed"),
            )
            .join(WebhookDelivery, WebhookDelivery.webhook_id == Webhook.id)
            .where(Webhook.team_id.in_(team_ids))
            .group_by(Webhook.team_id)
        ).all()
    )
    counts = {team_id: TeamWebhookCounts() for team_id in team_ids}
    for team_id, active, stopped in hooks:
        pending, failed = deliveries.get(team_id, (0, 0))
        counts[team_id] = TeamWebhookCounts(active, stopped, pending, failed)
    return counts


def register(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    team_id: uuid.UUID,
    body: WebhookIn,
    settings: Settings,
) -> WebhookOut:
    """Register a destination for the team's alert notifications, audited as a change.

    The secret must be one ``alerts`` can sign with (422 ``secret``); the URL must pass the
    egress policy now, as it must again at each send (422 ``url``). The secret is stored sealed
    with the service's key, never as given.
    """
    if principal.role not in ADMINS:
        raise Forbidden(_REFUSED)
    team = team_for(session, principal, team_id)
    # Both checked before refusing, so a form can show every problem at once.
    problems: list[tuple[str, str]] = []
    url = str(body.url)
    if unsafe := unsafe_destination(url, settings):
        problems.append(("url", unsafe))
    try:
        WebhookSecret.parse(body.secret)
    except ValueError as exc:
        problems.append(("secret", str(exc)))
    if problems:
        raise _invalid(problems)
    hook = Webhook(
        id=uuid.uuid4(),
        team_id=team.id,
        url=url,
        secret=SecretBox.from_settings(settings).seal(body.secret),
        is_active=True,
        purpose=body.purpose,
        created_at=now,
        created_by=principal.user_id,
    )
    session.add(hook)
    session.flush()
    audit_change(session, route, principal, "C", now, f"webhook:{hook.id} team={team.id}")
    return _outs(session, [hook])[0]


def unsafe_destination(url: str, settings: Settings) -> str | None:
    """Why the egress policy refuses this address for a webhook now, or None: what ``register``
    checks, for a form that reports it beside the fields its model already refused."""
    try:
        egress.check_url(url, egress.EgressPolicy.from_settings(settings))
    except egress.UnsafeDestination as exc:
        return str(exc)
    return None


def team_webhooks(session: Session, principal: Principal, team_id: uuid.UUID) -> list[WebhookOut]:
    """The team's webhooks, oldest first, each with its deliveries counted by state."""
    team_for(session, principal, team_id)
    hooks = session.scalars(
        select(Webhook).where(Webhook.team_id == team_id).order_by(Webhook.created_at)
    ).all()
    return _outs(session, hooks)


def deactivate(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    team_id: uuid.UUID,
    webhook_id: uuid.UUID,
) -> None:
    """Stop sending to a webhook; its history is kept. Stopping a stopped one changes nothing
    and records nothing. 409 while the site hands red alerts out of hours to it."""
    team_for(session, principal, team_id)
    hook = session.get(Webhook, webhook_id)
    if hook is None or hook.team_id != team_id:
        raise NotFound("No such webhook.")
    out_of_hours.refuse_if_named(hook, stored_response_policy(session, team_id))
    if hook.is_active:
        hook.is_active = False
        audit_change(session, route, principal, "U", now, f"webhook:{hook.id} off")


def out_of_hours_webhook(
    session: Session, principal: Principal, team_id: uuid.UUID
) -> uuid.UUID | None:
    """The webhook the team's site hands red alerts to out of hours, if any: ``deactivate``
    refuses to stop it until the site's setting changes, so a page can say so beforehand."""
    team_for(session, principal, team_id)
    named = out_of_hours.handed_to(stored_response_policy(session, team_id))
    try:
        return uuid.UUID(named) if named else None
    except ValueError:
        return None


def deliveries(
    session: Session,
    principal: Principal,
    team_id: uuid.UUID,
    *,
    status: str | None,
    limit: int,
) -> list[DeliveryOut]:
    """The team's most recent deliveries (newest event first), optionally of one state."""
    team_for(session, principal, team_id)
    query = (
        select(WebhookDelivery, OutboxEvent)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .where(OutboxEvent.team_id == team_id)
    )
    if status:
        query = query.where(WebhookDelivery.status == status)
    rows = session.execute(query.order_by(OutboxEvent.created_at.desc()).limit(limit)).all()
    return [
        DeliveryOut(
            id=d.id,
            webhook_id=d.webhook_id,
            event_id=e.id,
            event_type=e.event_type,
            alert_id=e.alert_id,
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            last_attempt_at=d.last_attempt_at,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            delivered_at=d.delivered_at,
        )
        for d, e in rows
    ]


def _outs(session: Session, hooks: Sequence[Webhook]) -> list[WebhookOut]:
    """The webhooks as the API shows them, their deliveries counted in one grouped statement."""
    counts: dict[tuple[uuid.UUID, str], int] = {
        (webhook_id, status): n
        for webhook_id, status, n in session.execute(
            select(WebhookDelivery.webhook_id, WebhookDelivery.status, func.count())
            .where(WebhookDelivery.webhook_id.in_([h.id for h in hooks]))
            .group_by(WebhookDelivery.webhook_id, WebhookDelivery.status)
        ).all()
    }
    return [
        WebhookOut(
            id=hook.id,
            team_id=hook.team_id,
            url=hook.url,
            is_active=hook.is_active,
            purpose=hook.purpose,
            created_at=hook.created_at,
            pending=counts.get((hook.id, "pending"), 0),
            delivered=counts.get((hook.id, "delivered"), 0),
            failed=counts.get((hook.id, "failed"), 0),
        )
        for hook in hooks
    ]


def _invalid(problems: list[tuple[str, str]]) -> Unprocessable:
    """A 422 naming each field; the first message is its detail (as before this moved)."""
    errors = [{"field": f, "message": m, "type": "value_error"} for f, m in problems]
    return Unprocessable(problems[0][1], extra={"errors": errors})
