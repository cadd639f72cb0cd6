"""The alert routes: the queue, an alert, clinicians' moves, and the teams' webhooks.

Routes only parse, call the use cases (``service.alerting.service``, and
``service.alerting.webhooks`` for the webhooks) and shape the answer; the queue's SQL is in
``service.alerting.repository``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic_core import to_json

from service.access import route_of
from service.alerting import service, webhooks
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
from service.deps import NowDep, Principal, SessionDep, SettingsDep, require

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
    assignee: Annotated[
        Literal["me", "none"] | None,
        Query(description="'me': only alerts assigned to you; 'none': only unassigned alerts"),
    ] = None,
    overdue: Annotated[
        bool, Query(description="Only alerts past their due time now (totals count the same)")
    ] = False,
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
        assignee=assignee,
        overdue=overdue,
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


# --- webhooks: the use cases are ``service.alerting.webhooks`` ----------------------------

# The roles of ``webhooks.TEAM_STAFF`` and ``webhooks.ADMINS``: registering a destination is an
# administrator's decision (issue 18); clinicians still see and stop their team's webhooks.
TeamStaff = Annotated[Principal, Depends(require("clinician", "admin", "site_admin"))]
WebhookAdmin = Annotated[Principal, Depends(require("admin", "site_admin"))]


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
    return webhooks.register(session, principal, route_of(request), now, team_id, body, settings)


@router.get(
    "/teams/{team_id}/webhooks",
    response_model=list[WebhookOut],
    summary="The team's webhooks with delivery counts "
    "(clinician of the team, admin, site admin of the site)",
)
def list_webhooks(
    team_id: uuid.UUID, session: SessionDep, principal: TeamStaff
) -> list[WebhookOut]:
    return webhooks.team_webhooks(session, principal, team_id)


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
    webhooks.deactivate(session, principal, route_of(request), now, team_id, webhook_id)


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
    return webhooks.deliveries(session, principal, team_id, status=delivery_status, limit=limit)
