"""The alert routes: the queue, an alert, clinicians' moves, and the teams' webhooks.

Routes only parse, call ``service.alerting.service`` and shape the answer; the queue's SQL is in
``service.alerting.repository``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic_core import to_json
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.access import audit_change, manages_site, route_of
from service.alerting import egress, out_of_hours, service, stored_response_policy
from service.alerting.schemas import (
    AlertDetailOut,
    AlertPage,
    AssignIn,
    DeliveryOut,
    MoveIn,
    NoteIn,
    ResolveIn,
    WebhookIn,
    WebhookOut,
)
from service.alerting.secrets import SecretBox
from service.deps import NowDep, Principal, SessionDep, SettingsDep, require
from service.models import OutboxEvent, Team, Webhook, WebhookDelivery
from service.problems import NotFound, Unprocessable

router = APIRouter(prefix="/api/v1", tags=["alerts"])
Clinician = Annotated[Principal, Depends(require("clinician"))]
StatusName = Literal["open", "acknowledged", "resolved"]
MOVE_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such alert in your teams"},
    409: {"description": "The lifecycle does not allow this move, or the alert changed"},
}


@router.get(
    "/alerts",
    response_model=AlertPage,
    summary="The caller's teams' alert queue, red first then oldest (clinician)",
)
def list_alerts(
    request: Request,
    session: SessionDep,
    principal: Clinician,
    now: NowDep,
    status_: Annotated[list[StatusName] | None, Query(alias="status")] = None,
    severity: Annotated[Literal["red", "amber"] | None, Query()] = None,
    team_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Response:
    page = service.alert_page(
        session,
        principal,
        route_of(request),
        now,
        statuses=list(status_) if status_ else None,
        severity=severity,
        team_id=team_id,
        patient_id=patient_id,
        limit=limit,
        cursor=cursor,
    )
    # The values come typed from the database's columns: serialised as they are, in pydantic-core,
    # without building and validating the models first (as long again as the serialising).
    return Response(to_json(page), media_type="application/json")


@router.get(
    "/alerts/{alert_id}",
    response_model=AlertDetailOut,
    responses={404: {"description": "No such alert in your teams"}},
    summary="An alert with its findings and history (clinician of the alert's team)",
)
def get_alert(
    alert_id: uuid.UUID, request: Request, session: SessionDep, principal: Clinician, now: NowDep
) -> AlertDetailOut:
    return service.get_alert(session, principal, route_of(request), now, alert_id)


@router.post(
    "/alerts/{alert_id}/acknowledge",
    response_model=AlertDetailOut,
    responses=MOVE_RESPONSES,
    summary="Acknowledge an open alert (clinician of the alert's team)",
)
def acknowledge(
    alert_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Clinician,
    now: NowDep,
    body: MoveIn | None = None,
) -> AlertDetailOut:
    return service.acknowledge(session, principal, route_of(request), now, alert_id, body)


@router.post(
    "/alerts/{alert_id}/assign",
    response_model=AlertDetailOut,
    responses=MOVE_RESPONSES,
    summary="Assign an unresolved alert to a clinician of its team (clinician of the team)",
)
def assign(
    alert_id: uuid.UUID,
    body: AssignIn,
    request: Request,
    session: SessionDep,
    principal: Clinician,
    now: NowDep,
) -> AlertDetailOut:
    return service.assign(session, principal, route_of(request), now, alert_id, body)


@router.post(
    "/alerts/{alert_id}/notes",
    response_model=AlertDetailOut,
    responses=MOVE_RESPONSES,
    summary="Add a note to an unresolved alert (clinician of the alert's team)",
)
def add_note(
    alert_id: uuid.UUID,
    body: NoteIn,
    request: Request,
    session: SessionDep,
    principal: Clinician,
    now: NowDep,
) -> AlertDetailOut:
    return service.add_note(session, principal, route_of(request), now, alert_id, body)


@router.post(
    "/alerts/{alert_id}/resolve",
    response_model=AlertDetailOut,
    responses=MOVE_RESPONSES,
    summary="Resolve an alert with an outcome (clinician of the alert's team)",
)
def resolve(
    alert_id: uuid.UUID,
    body: ResolveIn,
    request: Request,
    session: SessionDep,
    principal: Clinician,
    now: NowDep,
) -> AlertDetailOut:
    return service.resolve(session, principal, route_of(request), now, alert_id, body)


# --- webhooks ------------------------------------------------------------------------------

TeamStaff = Annotated[Principal, Depends(require("clinician", "admin", "site_admin"))]
# Registering a destination makes the service send requests from inside the network, so it is
# an administrator's decision (issue 18): the network admin, or the site admin of the team's
# site; clinicians still see and stop their team's webhooks.
WebhookAdmin = Annotated[Principal, Depends(require("admin", "site_admin"))]


def _team_for(session: Session, principal: Principal, team_id: uuid.UUID) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound("No such team.")
    if principal.role == "clinician":
        allowed = team_id in principal.team_ids
    else:
        allowed = manages_site(principal, team.site_id)
    if not allowed:
        raise NotFound("No such team.")
    return team


def _webhook_out(session: Session, hook: Webhook) -> WebhookOut:
    counts = dict(
        session.execute(
            select(WebhookDelivery.status, func.count())
            .where(WebhookDelivery.webhook_id == hook.id)
            .group_by(WebhookDelivery.status)
        ).all()
    )
    return WebhookOut(
        id=hook.id,
        team_id=hook.team_id,
        url=hook.url,
        is_active=hook.is_active,
        purpose=hook.purpose,
        created_at=hook.created_at,
        pending=counts.get("pending", 0),
        delivered=counts.get("delivered", 0),
        failed=counts.get("failed", 0),
    )


@router.post(
    "/teams/{team_id}/webhooks",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookOut,
    summary="Register a webhook for the team's alert notifications (admin, site admin of the site)",
)
def create_webhook(
    team_id: uuid.UUID,
    body: WebhookIn,
    request: Request,
    session: SessionDep,
    principal: WebhookAdmin,
    settings: SettingsDep,
    now: NowDep,
) -> WebhookOut:
    from alerts.webhooks import WebhookSecret

    team = _team_for(session, principal, team_id)
    try:
        WebhookSecret.parse(body.secret)
    except ValueError as exc:
        raise _invalid("secret", str(exc)) from exc
    try:
        url = egress.check_url(str(body.url), egress.EgressPolicy.from_settings(settings))
    except egress.UnsafeDestination as exc:
        raise _invalid("url", str(exc)) from exc
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
    audit_change(
        session, route_of(request), principal, "C", now, f"webhook:{hook.id} team={team.id}"
    )
    return _webhook_out(session, hook)


def _invalid(field: str, message: str) -> Unprocessable:
    return Unprocessable(
        message, extra={"errors": [{"field": field, "message": message, "type": "value_error"}]}
    )


@router.get(
    "/teams/{team_id}/webhooks",
    response_model=list[WebhookOut],
    summary="The team's webhooks with delivery counts "
    "(clinician of the team, admin, site admin of the site)",
)
def list_webhooks(
    team_id: uuid.UUID, session: SessionDep, principal: TeamStaff
) -> list[WebhookOut]:
    _team_for(session, principal, team_id)
    hooks = session.scalars(
        select(Webhook).where(Webhook.team_id == team_id).order_by(Webhook.created_at)
    ).all()
    return [_webhook_out(session, h) for h in hooks]


@router.delete(
    "/teams/{team_id}/webhooks/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={409: {"description": "The site hands red alerts out of hours to this webhook"}},
    summary="Stop sending to a webhook; its history is kept "
    "(clinician of the team, admin, site admin of the site)",
)
def deactivate_webhook(
    team_id: uuid.UUID,
    webhook_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: TeamStaff,
    now: NowDep,
) -> None:
    _team_for(session, principal, team_id)
    hook = session.get(Webhook, webhook_id)
    if hook is None or hook.team_id != team_id:
        raise NotFound("No such webhook.")
    out_of_hours.refuse_if_named(hook, stored_response_policy(session, team_id))
    if hook.is_active:
        hook.is_active = False
        audit_change(session, route_of(request), principal, "U", now, f"webhook:{hook.id} off")


@router.get(
    "/teams/{team_id}/webhook-deliveries",
    response_model=list[DeliveryOut],
    summary="Recent notification deliveries and their state "
    "(clinician of the team, admin, site admin of the site)",
)
def list_deliveries(
    team_id: uuid.UUID,
    session: SessionDep,
    principal: TeamStaff,
    delivery_status: Annotated[
        Literal["pending", "delivered", "failed"] | None, Query(alias="status")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryOut]:
    _team_for(session, principal, team_id)
    query = (
        select(WebhookDelivery, OutboxEvent)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .where(OutboxEvent.team_id == team_id)
    )
    if delivery_status:
        query = query.where(WebhookDelivery.status == delivery_status)
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
