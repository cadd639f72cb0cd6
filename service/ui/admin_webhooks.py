"""Teams' webhooks for network and site admins: every team's at a glance, a team's own (register
one, stop one) and its recent deliveries.

Everything goes through the alerting room's use cases (``service.alerting.webhooks``) with the
API's models, so a page registers, stops and lists exactly as ``/api/v1/teams/{id}/webhooks``
does: the egress guard checks the address, the secret is stored sealed, the change is audited,
and a site admin reaches only their own site's teams (404 for any other).

The secret is the one the receiver verifies signatures with, agreed with it beforehand and typed
in here: the service does not make one up, so there is nothing to show once. It is never sent
back to the browser, not even when the form is shown again with errors.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from service.access import route_of
from service.alerting import webhooks
from service.alerting.schemas import WebhookIn
from service.deps import NowDep, SessionDep, SettingsDep
from service.models import Site, Team
from service.org import service as org
from service.problems import Conflict, NotFound, Problem
from service.ui import session as ui_session
from service.ui.forms import problem_errors, validation_errors
from service.ui.pages import MESSAGES, Admins, csrf_failed, error_page, render, secure, with_msg
from service.ui.session import PageUser

router = APIRouter(prefix="/ui", include_in_schema=False)

MESSAGES.update(
    {
        "webhook_registered": (
            "success",
            "Webhook registered. New alert events are sent to it, signed with the secret you "
            "entered. The secret is stored encrypted and is never shown again.",
        ),
        "webhook_stopped": (
            "success",
            "Webhook stopped. Nothing more is sent to it; its deliveries stay listed below.",
        ),
    }
)

PURPOSES = {
    "team": "The team's own tooling: every alert event",
    "out_of_hours": "An out-of-hours service: only red alerts raised out of hours",
}
PURPOSE_NAMES = {"team": "Team", "out_of_hours": "Out of hours"}
DELIVERY_STATES = {
    "pending": "Waiting to be sent or retried",
    "delivered": "Delivered",
    "failed": "Given up",
}
DELIVERY_LIMIT = 100
WEBHOOK_MESSAGES = {
    "url": "Enter the full https:// address the receiver gave you, like "
    "https://hooks.example.nhs.uk/mhf.",
    "secret": "Enter the signing secret agreed with the receiver: 16 to 200 characters, or "
    "whsec_ followed by base64.",
    "purpose": "Choose what the webhook is for.",
}


def _team_not_found(request: Request, user: PageUser) -> Response:
    return error_page(
        request, user, 404, "Team not found", "There is no team with this link among yours."
    )


def _team(session: Session, user: PageUser, team_id: uuid.UUID) -> Team | None:
    """The team, if the caller manages its site (as the use cases scope it)."""
    try:
        return webhooks.team_for(session, user.principal, team_id)
    except NotFound:
        return None


# --- every team's webhooks ---------------------------------------------------------------------


@router.get("/admin/webhooks", response_class=HTMLResponse)
def webhooks_home(request: Request, session: SessionDep, user: Admins) -> Response:
    """Each team the caller manages with its webhooks counted, by site (admin: every site;
    site admin: their own)."""
    sites = org.manageable_sites(session, user.principal)
    rows: dict[uuid.UUID, list[dict[str, Any]]] = {s.id: [] for s in sites}
    teams = org.visible_teams(session, user.principal, None)
    counts = webhooks.counts_by_team(session, user.principal, teams)
    for team in teams:
        if team.id in counts:
            rows.setdefault(team.site_id, []).append({"team": team, **asdict(counts[team.id])})
    return render(
        request,
        "admin_webhooks.html",
        user,
        {"nav": "admin", "sites": sites, "rows": rows},
    )


# --- a team's webhooks: list, register, stop ---------------------------------------------------


def _team_page(
    request: Request,
    session: Session,
    user: PageUser,
    team: Team,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    stop_error: str = "",
    status: int = 200,
) -> Response:
    return render(
        request,
        "team_webhooks.html",
        user,
        {
            "nav": "sites",
            "team": team,
            "site": session.get(Site, team.site_id),
            "hooks": webhooks.team_webhooks(session, user.principal, team.id),
            "handed_to": webhooks.out_of_hours_webhook(session, user.principal, team.id),
            "values": values or {"purpose": "team"},
            "errors": errors or {},
            "stop_error": stop_error,
            "purposes": PURPOSES,
            "purpose_names": PURPOSE_NAMES,
        },
        status,
    )


@router.get("/admin/teams/{team_id}/webhooks", response_class=HTMLResponse)
def team_webhooks_page(
    team_id: uuid.UUID, request: Request, session: SessionDep, user: Admins
) -> Response:
    """A team's webhooks, with the form to register one (admin, site admin of its site)."""
    team = _team(session, user, team_id)
    if team is None:
        return _team_not_found(request, user)
    return _team_page(request, session, user, team)


class _WebhookForm(BaseModel):
    csrf_token: str = ""
    url: str = ""
    secret: str = ""
    purpose: str = ""


@router.post("/admin/teams/{team_id}/webhooks", response_class=HTMLResponse)
def register_webhook(
    team_id: uuid.UUID,
    form: Annotated[_WebhookForm, Form()],
    request: Request,
    session: SessionDep,
    user: Admins,
    now: NowDep,
    settings: SettingsDep,
) -> Response:
    """Register a webhook for a team: the address must pass the egress guard and the secret be
    one that can sign (admin, site admin of the team's site); every problem shown at once."""
    if not ui_session.csrf_ok(request, user.session, form.csrf_token):
        return csrf_failed(request, user)
    team = _team(session, user, team_id)
    if team is None:
        return _team_not_found(request, user)
    raw = {"url": form.url.strip(), "secret": form.secret, "purpose": form.purpose}
    errors: dict[str, str] = {}
    try:
        body = WebhookIn.model_validate(raw)
    except ValidationError as exc:
        errors = validation_errors(exc, messages=WEBHOOK_MESSAGES)
        if "url" not in errors and (unsafe := webhooks.unsafe_destination(raw["url"], settings)):
            # The model took the address; the egress guard has its say too, all at once.
            errors["url"] = unsafe
    else:
        try:
            webhooks.register(
                session, user.principal, route_of(request), now, team.id, body, settings
            )
        except Problem as exc:
            errors = problem_errors(exc, fields={"url": "url", "secret": "secret"}, default="url")
    if errors:
        session.rollback()
        team = webhooks.team_for(session, user.principal, team_id)
        values = {"url": form.url, "purpose": form.purpose}
        return _team_page(request, session, user, team, values=values, errors=errors, status=422)
    target = with_msg(f"/ui/admin/teams/{team.id}/webhooks", "webhook_registered")
    return secure(RedirectResponse(target, 303))


@router.post("/admin/teams/{team_id}/webhooks/{webhook_id}/stop", response_class=HTMLResponse)
def stop_webhook(
    team_id: uuid.UUID,
    webhook_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    user: Admins,
    now: NowDep,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Stop sending to a team's webhook, keeping its history (admin, site admin of the team's
    site). Refused while the site hands red alerts out of hours to it, with what to change."""
    if not ui_session.csrf_ok(request, user.session, csrf_token):
        return csrf_failed(request, user)
    team = _team(session, user, team_id)
    if team is None:
        return _team_not_found(request, user)
    try:
        webhooks.deactivate(session, user.principal, route_of(request), now, team.id, webhook_id)
    except NotFound:
        session.rollback()
        return error_page(
            request,
            user,
            404,
            "Webhook not found",
            "This team has no webhook with this link.",
        )
    except Conflict:
        session.rollback()
        team = webhooks.team_for(session, user.principal, team_id)
        stop_error = (
            "This webhook was not stopped: the site sends red alerts raised out of hours to it, "
            "and stopping it would leave those nights uncovered without anyone being told. "
            "Choose other out-of-hours handling, or another webhook, in the site's settings "
            "first; then stop this one."
        )
        return _team_page(request, session, user, team, stop_error=stop_error, status=409)
    target = with_msg(f"/ui/admin/teams/{team.id}/webhooks", "webhook_stopped")
    return secure(RedirectResponse(target, 303))


# --- a team's deliveries -----------------------------------------------------------------------


@router.get("/admin/teams/{team_id}/webhooks/deliveries", response_class=HTMLResponse)
def deliveries_page(
    team_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    user: Admins,
    status: str = "",
) -> Response:
    """A team's most recent webhook deliveries, newest event first, optionally of one state
    (admin, site admin of its site)."""
    team = _team(session, user, team_id)
    if team is None:
        return _team_not_found(request, user)
    # An unknown state in the address shows them all rather than an error page.
    chosen = status if status in DELIVERY_STATES else ""
    rows = webhooks.deliveries(
        session, user.principal, team.id, status=chosen or None, limit=DELIVERY_LIMIT
    )
    urls = {h.id: h.url for h in webhooks.team_webhooks(session, user.principal, team.id)}
    return render(
        request,
        "webhook_deliveries.html",
        user,
        {
            "nav": "sites",
            "team": team,
            "site": session.get(Site, team.site_id),
            "rows": rows,
            "urls": urls,
            "status": chosen,
            "states": DELIVERY_STATES,
            "limit": DELIVERY_LIMIT,
        },
    )
