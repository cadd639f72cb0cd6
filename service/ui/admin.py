"""The administrators' pages: their start page, and users (list, create, deactivate, reset a
password) for network and site admins, through the same use cases as the API
(``service.org.service``), scoped and audited the same way. Sites and teams are in
``admin_sites``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError

from service.access import route_of
from service.deps import NowDep, SessionDep
from service.org import service as org
from service.org.schemas import PasswordIn, UserIn
from service.problems import Forbidden, Problem
from service.ui import session as ui_session
from service.ui.forms import problem_errors, validation_errors
from service.ui.pages import (
    MESSAGES,
    Admins,
    csrf_failed,
    error_page,
    render,
    secure,
    uuid_or_none,
    with_msg,
)
from service.ui.session import PageUser

router = APIRouter(prefix="/ui", include_in_schema=False)

MESSAGES.update(
    {
        "user_created": ("success", "User created. They can sign in with the password you set."),
        "password_reset": (
            "success",
            "Password reset. They were signed out everywhere and sign in with the new password.",
        ),
    }
)

ROLE_NAMES = {
    "clinician": "Clinician",
    "programme_lead": "Programme lead",
    "admin": "Network administrator",
    "site_admin": "Site administrator",
    "site_lead": "Site lead",
}
USER_MESSAGES = {
    "username": "Enter a username of 3 to 150 letters, digits, dots, dashes, @ or underscores.",
    "password": "Enter a password of at least 12 characters.",
    "display_name": "Enter a name of up to 200 characters, or leave it empty.",
    "role": "Choose a role.",
}
# How the form names the fields it has no sentence of its own for.
USER_LABELS = {"team_ids": "Teams", "site_id": "Site"}
# The use case's field names, as the form calls them.
USER_FIELDS = {"username": "username", "team_ids": "team_ids", "site_id": "site_id"}


def _user_not_found(request: Request, user: PageUser) -> Response:
    return error_page(
        request, user, 404, "User not found", "There is no user with this link among yours."
    )


@router.get("/admin", response_class=HTMLResponse)
def admin_home(request: Request, session: SessionDep, user: Admins) -> Response:
    """What an administrator manages, with the way to each (admin, site admin)."""
    users = org.manageable_users(session, user.principal)
    sites = org.manageable_sites(session, user.principal)
    teams = org.visible_teams(session, user.principal, None)
    return render(
        request,
        "admin_home.html",
        user,
        {
            "nav": "admin",
            "sites": sites,
            "team_count": len(teams),
            "active_users": sum(1 for u in users if u.is_active),
            "inactive_users": sum(1 for u in users if not u.is_active),
        },
    )


def _team_names(request: Request, session: Any, user: PageUser) -> dict[uuid.UUID, str]:
    sites = {s.id: s.name for s in org.manageable_sites(session, user.principal)}
    teams = org.visible_teams(session, user.principal, None)
    many = len(sites) > 1
    return {t.id: f"{t.name} ({sites.get(t.site_id, '')})" if many else t.name for t in teams}


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, session: SessionDep, user: Admins) -> Response:
    """The users the caller manages (admin: all; site admin: their site's)."""
    return render(
        request,
        "users.html",
        user,
        {
            "nav": "users",
            "users": org.manageable_users(session, user.principal),
            "team_names": _team_names(request, session, user),
            "site_names": {s.id: s.name for s in org.manageable_sites(session, user.principal)},
            "role_names": ROLE_NAMES,
        },
    )


def _user_form(
    request: Request,
    session: Any,
    user: PageUser,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    roles = (
        list(ROLE_NAMES)
        if user.role == "admin"
        else [r for r in ROLE_NAMES if r in org.SITE_ADMIN_MAY_CREATE]
    )
    return render(
        request,
        "user_new.html",
        user,
        {
            "nav": "users",
            "values": values,
            "errors": errors,
            "roles": {r: ROLE_NAMES[r] for r in roles},
            "team_names": _team_names(request, session, user),
            "sites": org.manageable_sites(session, user.principal),
        },
        status,
    )


@router.get("/admin/users/new", response_class=HTMLResponse)
def new_user_page(request: Request, session: SessionDep, user: Admins) -> Response:
    """The form to add a user (admin; site admin: clinicians and site admins of their site)."""
    return _user_form(request, session, user, {"role": "clinician", "team_ids": []}, {})


class _UserForm(BaseModel):
    csrf_token: str = ""
    username: str = ""
    display_name: str = ""
    password: str = ""
    role: str = ""
    team_ids: list[str] = []
    site_id: str = ""


@router.post("/admin/users", response_class=HTMLResponse)
def create_user(
    form: Annotated[_UserForm, Form()],
    request: Request,
    session: SessionDep,
    user: Admins,
    now: NowDep,
) -> Response:
    """Add a user, checked and scoped as the API checks them (admin; site admin: clinicians
    admins and site leads of their site)."""
    if not ui_session.csrf_ok(request, user.session, form.csrf_token):
        return csrf_failed(request, user)
    values = form.model_dump(exclude={"csrf_token", "password"})
    raw: dict[str, Any] = {
        "username": form.username.strip(),
        "password": form.password,
        "role": form.role,
        "team_ids": form.team_ids,
        "display_name": form.display_name.strip() or None,
        # Only a site admin or site lead is tied to a site: the select is ignored for others.
        "site_id": (form.site_id or None) if form.role in ("site_admin", "site_lead") else None,
    }
    errors: dict[str, str] = {}
    try:
        body = UserIn.model_validate(raw)
    except ValidationError as exc:
        errors = validation_errors(exc, USER_LABELS, messages=USER_MESSAGES)
    else:
        try:
            org.add_user(session, body, now, principal=user.principal, route=route_of(request))
        except Forbidden as exc:
            errors = {"role": exc.detail}
        except Problem as exc:
            errors = problem_errors(exc, fields=USER_FIELDS, default="username")
            if "team_ids" in errors:
                # The API names the unknown ids; the form can only have offered its own.
                errors["team_ids"] = "Choose only teams from the list."
    if errors:
        session.rollback()
        return _user_form(request, session, user, values, errors, 422)
    return secure(RedirectResponse(with_msg("/ui/admin/users", "user_created"), 303))


@router.post("/admin/users/{user_id}/deactivate")
def deactivate(
    user_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    user: Admins,
    now: NowDep,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Deactivate a user: their sessions and tokens die with this request (admin, site admin
    of the user's site)."""
    if not ui_session.csrf_ok(request, user.session, csrf_token):
        return csrf_failed(request, user)
    try:
        org.deactivate_user(session, user.principal, route_of(request), now, user_id)
    except Problem:
        session.rollback()
        return secure(RedirectResponse(with_msg("/ui/admin/users", "user_not_deactivated"), 303))
    return secure(RedirectResponse(with_msg("/ui/admin/users", "user_deactivated"), 303))


def _password_page(
    request: Request,
    user: PageUser,
    target: Any,
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    return render(
        request,
        "user_password.html",
        user,
        {"nav": "users", "target": target, "errors": errors, "role_names": ROLE_NAMES},
        status,
    )


def _managed(session: Any, user: PageUser, user_id: uuid.UUID | None) -> Any:
    if user_id is None:
        return None
    return next((u for u in org.manageable_users(session, user.principal) if u.id == user_id), None)


@router.get("/admin/users/{user_id}/password", response_class=HTMLResponse)
def password_page(user_id: str, request: Request, session: SessionDep, user: Admins) -> Response:
    """The form to set a new password for a user the caller manages (admin, site admin of the
    user's site; 404 for anyone else's)."""
    target = _managed(session, user, uuid_or_none(user_id))
    if target is None:
        return _user_not_found(request, user)
    return _password_page(request, user, target, {})


class _PasswordForm(BaseModel):
    csrf_token: str = ""
    password: str = ""
    confirm: str = ""


@router.post("/admin/users/{user_id}/password", response_class=HTMLResponse)
def reset_password(
    user_id: uuid.UUID,
    form: Annotated[_PasswordForm, Form()],
    request: Request,
    session: SessionDep,
    user: Admins,
    now: NowDep,
) -> Response:
    """Set a new password: the user is signed out everywhere (admin, site admin of the user's
    site)."""
    if not ui_session.csrf_ok(request, user.session, form.csrf_token):
        return csrf_failed(request, user)
    target = _managed(session, user, user_id)
    if target is None:
        return _user_not_found(request, user)
    errors: dict[str, str] = {}
    try:
        body = PasswordIn.model_validate({"password": form.password})
    except ValidationError as exc:
        errors = validation_errors(exc, messages={"password": USER_MESSAGES["password"]})
    if form.confirm != form.password:
        errors["confirm"] = "Type the same password in both boxes."
    if not errors:
        try:
            org.reset_password(session, user.principal, route_of(request), now, user_id, body)
        except Problem as exc:
            errors = {"password": exc.detail}
    if errors:
        session.rollback()
        return _password_page(request, user, target, errors, 422)
    return secure(RedirectResponse(with_msg("/ui/admin/users", "password_reset"), 303))
