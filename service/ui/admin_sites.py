"""Sites and teams for network and site admins: a site's name, working hours, response times,
thresholds and other pathway overrides, out-of-hours handling and contact; a team's name and
escalation contact.

Every form goes through the org room's use cases with the API's models: the site's settings
form shows the whole of each setting, and what it sends back is turned into the JSON Merge
Patch the API's ``PATCH /api/v1/sites/{id}`` takes (``changes.merge_patch_to``), so the page is
validated, recorded in the site's history and audited exactly as the API is. A site admin
reaches only their own site (404 for any other, as in the API); only a network admin creates
sites.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

import pathway
from service import changes
from service.access import route_of
from service.deps import NowDep, SessionDep
from service.models import Site, Team, Webhook
from service.org import service as org
from service.org.schemas import ResponsePolicyIn, SiteIn, SitePatch, TeamIn, TeamPatch
from service.problems import NotFound, Problem
from service.ui import session as ui_session
from service.ui.forms import number, problem_errors, validation_errors
from service.ui.pages import (
    MESSAGES,
    Admins,
    csrf_failed,
    error_page,
    render,
    secure,
    signed_in,
    with_msg,
)
from service.ui.session import PageUser

router = APIRouter(prefix="/ui", include_in_schema=False)
NetworkAdmin = Annotated[PageUser, Depends(signed_in("admin"))]

MESSAGES.update(
    {
        "site_created": ("success", "Site created. Add its teams below."),
        "site_saved": ("success", "Site settings saved. New alerts follow them."),
        "team_created": ("success", "Team created."),
        "team_saved": ("success", "Team saved."),
    }
)

# The site-wide thresholds a form shows; any others stay in the overrides box.
THRESHOLDS = (
    ("spo2_red_at_or_below", "Oxygen saturation, red at or below", "%"),
    ("spo2_amber_at_or_below", "Oxygen saturation, amber at or below", "%"),
    ("systolic_red_below", "Systolic pressure, red below", "mmHg"),
    ("systolic_amber_below", "Systolic pressure, amber below", "mmHg"),
    ("pulse_low_red", "Low pulse, red below", "/min"),
    ("pulse_low_amber", "Low pulse, amber below", "/min"),
    ("pulse_high_amber", "High pulse, amber from", "/min"),
    ("pulse_high_red", "High pulse, red from", "/min"),
)
POLICY = (
    "opens_at",
    "closes_at",
    "red_cutoff",
    "working_days",
    "holidays",
    "bank_holidays",
    "out_of_hours_contact",
    "red_within_minutes",
    "amber_working_days",
    "out_of_hours_handling",
    "out_of_hours_webhook_id",
)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
HANDLING = {
    "queue_for_next_working_day": "Keep it in the queue for the next working day",
    "out_of_hours_webhook": "Send it to the out-of-hours service's webhook as well",
    "urgent_community_response": "Send it to the urgent community response webhook as well",
}
TIME = "Enter a time as HH:MM, like 08:30."
SITE_MESSAGES = {
    "name": "Enter the site's name, up to 200 characters.",
    "code": "Enter a code of 2 to 32 letters, digits, dashes or underscores.",
    "opens_at": TIME,
    "closes_at": TIME,
    "red_cutoff": TIME,
    "red_within_minutes": "Enter a whole number of minutes from 15 to 480.",
    "amber_working_days": "Enter 1, 2 or 3 working days.",
    "holidays": "Enter each closure as a date YYYY-MM-DD, one a line.",
    "out_of_hours_contact": "Enter 3 to 80 characters, like: the Derby urgent care line on "
    "01332 000000.",
    "working_days": "Choose the days the team works.",
}
TEAM_MESSAGES = {
    "name": "Enter the team's name, up to 200 characters.",
    "escalation_contact": "Enter a UK telephone number (01332 000000) or an https:// address, "
    "or leave it empty.",
}
# Where the use case's field names land on the settings form.
SITE_FIELDS = {
    "name": "name",
    "response_policy": "policy",
    **{f"response_policy.{name}": name for name in POLICY},
    **{f"pathway_overrides.thresholds.{name}": f"t_{name}" for name, _, _ in THRESHOLDS},
}


def _not_found(request: Request, user: PageUser, what: str) -> Response:
    message = f"There is no {what.lower()} with this link among yours."
    return error_page(request, user, 404, f"{what} not found", message)


# --- sites -------------------------------------------------------------------------------------


@router.get("/admin/sites", response_class=HTMLResponse)
def sites_page(request: Request, session: SessionDep, user: Admins) -> Response:
    """The sites the caller manages, with their teams (admin: all, and a form for a new site;
    site admin: their own)."""
    return _sites_page(request, session, user, {}, {})


def _sites_page(
    request: Request,
    session: Session,
    user: PageUser,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    sites = org.manageable_sites(session, user.principal)
    teams = org.visible_teams(session, user.principal, None)
    counts = {s.id: sum(1 for t in teams if t.site_id == s.id) for s in sites}
    return render(
        request,
        "sites.html",
        user,
        {"nav": "sites", "sites": sites, "counts": counts, "values": values, "errors": errors},
        status,
    )


class _SiteForm(BaseModel):
    csrf_token: str = ""
    name: str = ""
    code: str = ""


@router.post("/admin/sites", response_class=HTMLResponse)
def create_site(
    form: Annotated[_SiteForm, Form()],
    request: Request,
    session: SessionDep,
    user: NetworkAdmin,
    now: NowDep,
) -> Response:
    """Create a site (network admin)."""
    if not ui_session.csrf_ok(request, user.session, form.csrf_token):
        return csrf_failed(request, user)
    values = {"name": form.name, "code": form.code}
    try:
        body = SiteIn.model_validate({"name": form.name, "code": form.code.strip()})
        site = org.create_site(session, user.principal, route_of(request), now, body)
    except ValidationError as exc:
        errors = validation_errors(exc, messages=SITE_MESSAGES)
    except Problem as exc:
        errors = problem_errors(exc, default="code")
    else:
        return secure(RedirectResponse(with_msg(f"/ui/admin/sites/{site.id}", "site_created"), 303))
    session.rollback()
    return _sites_page(request, session, user, values, errors, 422)


def _site_values(site: Site) -> dict[str, Any]:
    """What the settings form shows for the site as it is stored."""
    policy = dict(site.response_policy or {})
    overrides = dict(site.pathway_overrides or {})
    thresholds = dict(overrides.pop("thresholds", None) or {})
    values: dict[str, Any] = {"name": site.name}
    for name in POLICY:
        value = policy.get(name)
        values[name] = "" if value is None else str(value)
    values["working_days"] = [str(d) for d in policy.get("working_days") or []]
    values["holidays"] = "\n".join(str(d) for d in policy.get("holidays") or [])
    bank = policy.get("bank_holidays")
    values["bank_holidays"] = "" if bank is None else ("true" if bank else "false")
    for name, _, _ in THRESHOLDS:
        value = thresholds.pop(name, None)
        values[f"t_{name}"] = "" if value is None else f"{value:g}"
    if thresholds:
        overrides["thresholds"] = thresholds
    values["overrides"] = json.dumps(overrides, indent=2, sort_keys=True) if overrides else ""
    return values


def _out_of_hours_webhooks(session: Session, site_id: uuid.UUID) -> list[Any]:
    """The webhooks a site may hand red alerts to out of hours (as the use case checks)."""
    return list(
        session.execute(
            select(Webhook.id, Webhook.url, Team.name)
            .join(Team, Team.id == Webhook.team_id)
            .where(
                Team.site_id == site_id,
                Webhook.purpose == "out_of_hours",
                Webhook.is_active.is_(True),
            )
            .order_by(Team.name, Webhook.url)
        ).all()
    )


def _site_page(
    request: Request,
    session: Session,
    user: PageUser,
    site: Site,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    team_values: dict[str, str] | None = None,
    team_errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    defaults = pathway.default_pathway().thresholds
    return render(
        request,
        "site.html",
        user,
        {
            "nav": "sites",
            "site": site,
            "values": values or _site_values(site),
            "errors": errors or {},
            "team_values": team_values or {},
            "team_errors": team_errors or {},
            "teams": org.visible_teams(session, user.principal, site.id),
            "thresholds": [
                (n, label, unit, f"{getattr(defaults, n):g}") for n, label, unit in THRESHOLDS
            ],
            "days": DAYS,
            "handling": HANDLING,
            "webhooks": _out_of_hours_webhooks(session, site.id),
            "history": changes.history(session, "site", site.id)[:20],
        },
        status,
    )


@router.get("/admin/sites/{site_id}", response_class=HTMLResponse)
def site_page(site_id: uuid.UUID, request: Request, session: SessionDep, user: Admins) -> Response:
    """A site's settings, their history and its teams (admin, site admin of the site)."""
    try:
        site = org.site_for(session, user.principal, site_id)
    except NotFound:
        return _not_found(request, user, "Site")
    return _site_page(request, session, user, site)


class _SettingsForm(BaseModel):
    csrf_token: str = ""
    name: str = ""
    opens_at: str = ""
    closes_at: str = ""
    red_cutoff: str = ""
    working_days: list[str] = []
    holidays: str = ""
    bank_holidays: str = ""
    out_of_hours_contact: str = ""
    red_within_minutes: str = ""
    amber_working_days: str = ""
    out_of_hours_handling: str = ""
    out_of_hours_webhook_id: str = ""
    overrides: str = ""
    t_spo2_red_at_or_below: str = ""
    t_spo2_amber_at_or_below: str = ""
    t_systolic_red_below: str = ""
    t_systolic_amber_below: str = ""
    t_pulse_low_red: str = ""
    t_pulse_low_amber: str = ""
    t_pulse_high_amber: str = ""
    t_pulse_high_red: str = ""


def _policy_from(form: _SettingsForm, errors: dict[str, str]) -> dict[str, Any]:
    """The whole response policy the form describes (empty boxes: the default)."""
    raw: dict[str, Any] = {
        name: text
        for name in POLICY
        if isinstance(text := getattr(form, name), str) and (text := text.strip())
    }
    raw["working_days"] = sorted(set(form.working_days), key=str) or None
    raw["holidays"] = [line.strip() for line in form.holidays.splitlines() if line.strip()] or None
    raw["bank_holidays"] = {"true": True, "false": False}.get(form.bank_holidays)
    try:
        policy = ResponsePolicyIn.model_validate(raw)
    except ValidationError as exc:
        errors.update(validation_errors(exc, messages=SITE_MESSAGES))
        return {}
    return policy.model_dump(exclude_none=True, mode="json")


def _overrides_from(form: _SettingsForm, errors: dict[str, str]) -> dict[str, Any]:
    """The whole of the site's pathway overrides: the box's, with the form's thresholds."""
    overrides: dict[str, Any] = {}
    if form.overrides.strip():
        try:
            overrides = json.loads(form.overrides)
        except ValueError as exc:
            errors["overrides"] = f"This is not valid JSON: {exc}."
        else:
            if not isinstance(overrides, dict):
                errors["overrides"] = 'Write the overrides as a JSON object: {"section": {...}}.'
                overrides = {}
    thresholds = overrides.get("thresholds") or {}
    if not isinstance(thresholds, dict):
        errors["overrides"] = "thresholds must be a JSON object."
        thresholds = {}
    for name, _, _ in THRESHOLDS:
        text = getattr(form, f"t_{name}").strip()
        thresholds.pop(name, None)
        if text:
            try:
                thresholds[name] = number(text)
            except ValueError:
                errors[f"t_{name}"] = "Enter a number, or leave it empty for the pathway's."
    overrides.pop("thresholds", None)
    if thresholds:
        overrides["thresholds"] = thresholds
    return overrides


@router.post("/admin/sites/{site_id}", response_class=HTMLResponse)
def save_site(
    site_id: uuid.UUID,
    form: Annotated[_SettingsForm, Form()],
    request: Request,
    session: SessionDep,
    user: Admins,
    now: NowDep,
) -> Response:
    """Save a site's name and settings through the API's merge patch (admin, site admin of the
    site): every field is checked, and every problem shown at once."""
    if not ui_session.csrf_ok(request, user.session, form.csrf_token):
        return csrf_failed(request, user)
    try:
        site = org.site_for(session, user.principal, site_id)
    except NotFound:
        return _not_found(request, user, "Site")
    errors: dict[str, str] = {}
    if not form.name.strip():
        errors["name"] = SITE_MESSAGES["name"]
    policy = _policy_from(form, errors)
    overrides = _overrides_from(form, errors)
    if not errors:
        patch = {
            "name": form.name,
            "response_policy": changes.merge_patch_to(site.response_policy or {}, policy),
            "pathway_overrides": changes.merge_patch_to(site.pathway_overrides or {}, overrides),
        }
        try:
            body = SitePatch.model_validate(patch)
            org.patch_site(session, user.principal, route_of(request), now, site.id, body)
        except ValidationError as exc:
            errors = validation_errors(exc, messages=SITE_MESSAGES)
        except Problem as exc:
            errors = problem_errors(exc, fields=SITE_FIELDS, default="overrides")
    if errors:
        session.rollback()
        site = org.site_for(session, user.principal, site_id)
        values = form.model_dump(exclude={"csrf_token"})
        return _site_page(request, session, user, site, values=values, errors=errors, status=422)
    return secure(RedirectResponse(with_msg(f"/ui/admin/sites/{site.id}", "site_saved"), 303))


# --- teams -------------------------------------------------------------------------------------


class _TeamForm(BaseModel):
    csrf_token: str = ""
    name: str = ""
    escalation_contact: str = ""


class _NewTeamForm(BaseModel):
    csrf_token: str = ""
    team_name: str = ""
    team_escalation_contact: str = ""


def _team_body(name: str, contact: str) -> dict[str, Any]:
    return {"name": name, "escalation_contact": contact.strip() or None}


def _team_errors(save: Callable[[], object], prefix: str = "") -> dict[str, str]:
    """Nothing if the team was saved; otherwise every problem, against the form's fields
    (``prefix`` for the new-team form on the site page, beside the site's own fields)."""
    try:
        save()
    except ValidationError as exc:
        return validation_errors(exc, messages=TEAM_MESSAGES, prefix=prefix)
    except Problem as exc:
        fields = {"escalation_contact": "escalation_contact"}
        return problem_errors(exc, fields=fields, default="name", prefix=prefix)
    return {}


@router.post("/admin/sites/{site_id}/teams", response_class=HTMLResponse)
def create_team(
    site_id: uuid.UUID,
    form: Annotated[_NewTeamForm, Form()],
    request: Request,
    session: SessionDep,
    user: Admins,
    now: NowDep,
) -> Response:
    """Add a team to a site (admin, site admin of the site)."""
    if not ui_session.csrf_ok(request, user.session, form.csrf_token):
        return csrf_failed(request, user)
    try:
        site = org.site_for(session, user.principal, site_id)
    except NotFound:
        return _not_found(request, user, "Site")
    errors = _team_errors(
        lambda: org.create_team(
            session,
            user.principal,
            route_of(request),
            now,
            site.id,
            TeamIn.model_validate(_team_body(form.team_name, form.team_escalation_contact)),
        ),
        "team_",
    )
    if not errors:
        target = with_msg(f"/ui/admin/sites/{site.id}", "team_created", "teams")
        return secure(RedirectResponse(target, 303))
    session.rollback()
    site = org.site_for(session, user.principal, site_id)
    team_values = {"name": form.team_name, "escalation_contact": form.team_escalation_contact}
    return _site_page(
        request, session, user, site, team_values=team_values, team_errors=errors, status=422
    )


def _team_page(
    request: Request,
    session: Session,
    user: PageUser,
    team: Team,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    site = session.get(Site, team.site_id)
    return render(
        request,
        "team.html",
        user,
        {"nav": "sites", "team": team, "site": site, "values": values, "errors": errors},
        status,
    )


@router.get("/admin/teams/{team_id}", response_class=HTMLResponse)
def team_page(team_id: uuid.UUID, request: Request, session: SessionDep, user: Admins) -> Response:
    """A team's name and escalation contact, to change (admin, site admin of its site)."""
    try:
        team = org.team_for(session, user.principal, team_id)
    except NotFound:
        return _not_found(request, user, "Team")
    values = {"name": team.name, "escalation_contact": team.escalation_contact or ""}
    return _team_page(request, session, user, team, values, {})


@router.post("/admin/teams/{team_id}", response_class=HTMLResponse)
def save_team(
    team_id: uuid.UUID,
    form: Annotated[_TeamForm, Form()],
    request: Request,
    session: SessionDep,
    user: Admins,
    now: NowDep,
) -> Response:
    """Rename a team or change its escalation contact (admin, site admin of its site)."""
    if not ui_session.csrf_ok(request, user.session, form.csrf_token):
        return csrf_failed(request, user)
    try:
        team = org.team_for(session, user.principal, team_id)
    except NotFound:
        return _not_found(request, user, "Team")
    errors = _team_errors(
        lambda: org.patch_team(
            session,
            user.principal,
            route_of(request),
            now,
            team.id,
            TeamPatch.model_validate(_team_body(form.name, form.escalation_contact)),
        )
    )
    if not errors:
        target = with_msg(f"/ui/admin/sites/{team.site_id}", "team_saved", "teams")
        return secure(RedirectResponse(target, 303))
    session.rollback()
    team = org.team_for(session, user.principal, team_id)
    values = {"name": form.name, "escalation_contact": form.escalation_contact}
    return _team_page(request, session, user, team, values, errors, 422)
