"""User administration for network and site admins: the users they manage, and deactivating
one, through the same use cases as the API (``service.org.service``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from service.access import route_of
from service.deps import NowDep, SessionDep
from service.org import service as org
from service.problems import Problem
from service.ui import session as ui_session
from service.ui.pages import Admins, csrf_failed, render, secure, with_msg

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, session: SessionDep, user: Admins) -> Response:
    """The users the caller manages (admin: all; site admin: their site's)."""
    return render(
        request,
        "users.html",
        user,
        {"nav": "users", "users": org.manageable_users(session, user.principal)},
    )


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
