"""Signing in and out, the account page, the start page and the pages' static files."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from service.deps import NowDep, SessionDep, SettingsDep
from service.identity.login import BUSY_RETRY_SECONDS, LoginBusy, LoginLocked, authenticate
from service.org import service as org
from service.ui import session as ui_session
from service.ui.pages import (
    MESSAGES,
    STATIC,
    STATIC_TYPES,
    AnyStaff,
    csrf_failed,
    home_for,
    render,
    secure,
    templates,
)

router = APIRouter(prefix="/ui", include_in_schema=False)
# The service's own address: people type it, so it leads to the pages rather than a 404.
root = APIRouter(include_in_schema=False)


@root.get("/", response_class=HTMLResponse)
def service_root() -> Response:
    """On to the pages (anyone): the session cookie is scoped to /ui, so /ui/ sends a signed-in
    person to their start page and anyone else to sign in."""
    return secure(RedirectResponse("/ui/", status_code=303))


@router.get("/static/{name}")
def static(name: str) -> Response:
    """The pages' stylesheet, script and icon (anyone: no data)."""
    if name not in STATIC_TYPES:
        return Response("Not found", status_code=404, media_type="text/plain")
    response = FileResponse(STATIC / name, media_type=STATIC_TYPES[name])
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def home(user: AnyStaff) -> Response:
    """Where to start: the queue, the reports or the account page (any staff)."""
    return secure(RedirectResponse(home_for(user.role), status_code=303))


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, user: AnyStaff) -> Response:
    """Who is signed in and what they may see (any staff)."""
    return render(request, "account.html", user, {"nav": "account"})


def _login_page(
    request: Request,
    data: ui_session.SessionData,
    *,
    next_path: str,
    error: str | None = None,
    username: str = "",
    status: int = 200,
) -> Response:
    response = templates.TemplateResponse(
        request,
        "login.html",
        {
            "user": None,
            "csrf": ui_session.csrf_token(request, data),
            "next": next_path,
            "error": error,
            "username": username,
            "flash": MESSAGES.get(request.query_params.get("msg", "")),
        },
        status_code=status,
    )
    ui_session.set_cookie(request, response, data)
    return secure(response)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, session: SessionDep, now: NowDep) -> Response:
    """The sign-in form (anyone)."""
    data = ui_session.read(request)
    if data is not None and data.signed_in:
        user = ui_session.load_user(session, data)
        if user is not None:
            return secure(RedirectResponse(home_for(user.role), status_code=303))
    if data is None or data.signed_in:
        data = ui_session.new_session(None, now)
    next_path = ui_session.safe_next(request.query_params.get("next"), "/ui/")
    return _login_page(request, data, next_path=next_path)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    username: Annotated[str, Form(max_length=150)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next_path: Annotated[str, Form(alias="next", max_length=2000)] = "/ui/",
) -> Response:
    """Check the password with the API's throttling and start a session (anyone)."""
    data = ui_session.read(request)
    next_path = ui_session.safe_next(next_path, "/ui/")
    if data is None or not ui_session.csrf_ok(request, data, csrf_token):
        fresh = ui_session.new_session(None, now)
        return _login_page(
            request,
            fresh,
            next_path=next_path,
            username=username,
            error="The sign-in form had expired. Please sign in again.",
            status=403,
        )
    address = request.client.host if request.client else "unknown"
    try:
        user = authenticate(session, settings, address, username, password, now)
    except (LoginLocked, LoginBusy) as exc:
        busy = isinstance(exc, LoginBusy)
        page = _login_page(
            request,
            data,
            next_path=next_path,
            username=username,
            error="Too many sign-ins at once. Try again in a moment."
            if busy
            else "Too many failed sign-ins. Wait a few minutes and try again.",
            status=429,
        )
        retry = BUSY_RETRY_SECONDS if busy else settings.login_lockout_seconds
        page.headers["Retry-After"] = str(retry)
        return page
    if user is None:
        return _login_page(
            request,
            data,
            next_path=next_path,
            username=username,
            error="The username or password is not right.",
            status=401,
        )
    # A new nonce on sign-in: any token or cookie from before is worthless now.
    fresh = ui_session.new_session(user.id, now)
    target = next_path if next_path not in ("/ui", "/ui/") else home_for(user.role)
    response = RedirectResponse(target, status_code=303)
    ui_session.set_cookie(request, response, fresh)
    return secure(response)


@router.post("/logout")
def logout(
    request: Request,
    session: SessionDep,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """End the session (any staff, with the form's token)."""
    data = ui_session.read(request)
    if data is not None and not ui_session.csrf_ok(request, data, csrf_token):
        user = ui_session.load_user(session, data)
        return csrf_failed(request, user)
    if data is not None and data.user_id is not None:
        # Bearer tokens the same person holds die too (service.deps checks the same time).
        org.end_sessions(session, data.user_id, request.app.state.clock())
    response = RedirectResponse("/ui/login?msg=logged_out", status_code=303)
    ui_session.clear_cookie(request, response)
    return secure(response)
