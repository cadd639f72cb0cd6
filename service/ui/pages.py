"""What every staff page shares: templates, security headers, messages and the gate.

Who may open what: clinicians the queue and their teams' patients; programme leads the
reports; admins may sign in but see no clinical data. A patient's device token opens nothing.
The gate is a dependency (``Clinician``, ``Lead``, ``AnyStaff``); what it refuses it answers
with a page through ``PageRefused``, which ``service.ui.install`` hands to the app.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.charts import labels
from service.deps import SessionDep
from service.models import Team, User
from service.nhs_number import format_nhs_number
from service.ui import session as ui_session
from service.ui import views
from service.ui.session import PageUser

HERE = Path(__file__).parent
STATIC = HERE / "static"
STATIC_TYPES = {
    "ui.css": "text/css; charset=utf-8",
    "ui.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}

templates = Jinja2Templates(directory=HERE / "templates")

REFRESH_SECONDS = 60

# Content-Security-Policy: only our own scripts and styles, no framing, forms post to us only.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # Patient data: not kept by the browser or any shared cache.
    "Cache-Control": "no-store",
}

# Messages after a form: fixed texts picked by code, so nothing from the URL is echoed.
MESSAGES: dict[str, tuple[str, str]] = {
    "acknowledged": ("success", "Alert acknowledged."),
    "assigned": ("success", "Alert assigned to you."),
    "noted": ("success", "Note added."),
    "resolved": ("success", "Alert resolved. It has left the queue."),
    "conflict": (
        "error",
        "Someone else changed this alert first. The queue below is up to date: check it and "
        "try again.",
    ),
    "not_allowed": ("error", "That is not possible for this alert in its current state."),
    "invalid_note": ("error", "Write a note of up to 4000 characters before adding it."),
    "invalid_outcome": ("error", "Choose an outcome to resolve the alert."),
    "invalid_minutes": (
        "error",
        "Minutes spent: enter a whole number from 0 to 1440, or leave it empty. The alert was "
        "not resolved.",
    ),
    "not_found": ("error", "That alert is no longer in your teams' queue."),
    "thresholds_saved": ("success", "Thresholds saved. New readings are judged against them."),
    "token_revoked": ("success", "Device token revoked. The app using it is signed out."),
    "enrolled": ("success", "Patient enrolled. Issue a device token for their app below."),
    "event": ("success", "Event saved. The patient's monitoring state follows from it."),
    "medicine": ("success", "Medicine change recorded."),
    "contact": ("success", "Name and telephone number saved."),
    "kccq": ("success", "KCCQ-12 score recorded."),
    "contact_recorded": ("success", "Contact recorded, with the minutes it took."),
    "paused": ("success", "Monitoring paused. Missed readings are not flagged meanwhile."),
    "resumed": ("success", "Monitoring resumed."),
    "discharged": ("success", "Discharged from monitoring. The patient's app is signed out."),
    "user_deactivated": (
        "success",
        "User deactivated. Their sign-ins and API tokens stopped working at once.",
    ),
    "user_not_deactivated": ("error", "That user cannot be deactivated from your account."),
    "logged_out": ("success", "You have signed out."),
    "expired": ("info", "Your session has ended. Sign in again to carry on."),
}


def _version() -> str:
    digest = hashlib.sha256()
    for name in sorted(STATIC_TYPES):
        digest.update((STATIC / name).read_bytes())
    return digest.hexdigest()[:10]


STATIC_VERSION = _version()
templates.env.globals.update(
    static_version=STATIC_VERSION,
    format_nhs_number=format_nhs_number,
    cohorts=views.COHORTS,
    outcomes=views.OUTCOMES,
    outcome_names=views.OUTCOME_NAMES,
    statuses=views.STATUSES,
    event_kinds=views.EVENT_KINDS,
    refresh_seconds=REFRESH_SECONDS,
)
templates.env.filters.update(
    london=views.london,
    duration=views.duration,
    shown=labels.shown,
    month_name=labels.month_name,
)


# --- rendering and the gate -------------------------------------------------------------------


def secure(response: Response) -> Response:
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    return response


def render(
    request: Request,
    name: str,
    user: PageUser | None,
    context: dict[str, Any],
    status: int = 200,
) -> Response:
    data = user.session if user else None
    base = {
        "user": user,
        "csrf": ui_session.csrf_token(request, data) if data else "",
        "flash": MESSAGES.get(request.query_params.get("msg", "")),
    }
    response = templates.TemplateResponse(request, name, {**base, **context}, status_code=status)
    return secure(response)


def error_page(
    request: Request, user: PageUser | None, status: int, title: str, message: str
) -> Response:
    return render(
        request, "error.html", user, {"title": title, "message": message, "status": status}, status
    )


class PageRefused(Exception):
    """Raised by a page's gate: the sign-in redirect, 401 or 403 page answered instead."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _refusal(request: Request, user: PageUser | None, roles: tuple[str, ...]) -> Response | None:
    """The page to show instead if there is no staff sign-in, or its role may not open this."""
    if user is None:
        if "authorization" in request.headers:
            # A device token (or an API token) is not a login: pages need a staff session.
            return error_page(
                request,
                None,
                401,
                "Sign in to use these pages",
                "Pages open only with a staff sign-in. Device tokens and API tokens cannot "
                "open them.",
            )
        if request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return secure(
                RedirectResponse(f"/ui/login?next={quote(target, safe='')}", status_code=303)
            )
        return secure(RedirectResponse("/ui/login?msg=expired", status_code=303))
    request.state.principal = user.principal
    if roles and user.role not in roles:
        who = {
            "clinician": "clinicians",
            "programme_lead": "programme leads",
            "admin": "administrators",
            "site_admin": "site administrators",
            "site_lead": "site leads",
        }
        allowed = " and ".join(who[r] for r in roles)
        return error_page(
            request,
            user,
            403,
            "You do not have access to this page",
            f"This page is for {allowed}. Your account does not include it.",
        )
    return None


def signed_in(*roles: str) -> Callable[[Request, Session], PageUser]:
    """The gate of a page, as a dependency: the signed-in staff member if their role may open
    it (any staff when no role is named); otherwise ``PageRefused`` with the page to show."""

    def gate(request: Request, session: SessionDep) -> PageUser:
        data = ui_session.read(request)
        user = ui_session.load_user(session, data) if data else None
        refusal = _refusal(request, user, roles)
        if refusal is not None:
            raise PageRefused(refusal)
        assert user is not None  # _refusal answers for a missing user
        return user

    return gate


AnyStaff = Annotated[PageUser, Depends(signed_in())]
Clinician = Annotated[PageUser, Depends(signed_in("clinician"))]
Lead = Annotated[PageUser, Depends(signed_in("programme_lead"))]
# The reports pages: a programme lead sees every site; a site lead the network and their site.
ReportReaders = Annotated[PageUser, Depends(signed_in("programme_lead", "site_lead"))]
Admins = Annotated[PageUser, Depends(signed_in("admin", "site_admin"))]


async def page_refused(request: Request, exc: Exception) -> Response:
    """The app's handler for ``PageRefused``: the gate's page, as the route would have sent it."""
    assert isinstance(exc, PageRefused)
    return exc.response


def csrf_failed(request: Request, user: PageUser | None) -> Response:
    return error_page(
        request,
        user,
        403,
        "This form has expired",
        "The form was not sent from this session, or the session has changed since it was "
        "opened. Go back, reload the page and try again.",
    )


def with_msg(path: str, msg: str, anchor: str = "") -> str:
    parts = urlsplit(path)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "msg"] + [("msg", msg)]
    return urlunsplit(("", "", parts.path, urlencode(query), anchor))


def without_msg(request: Request) -> str:
    """The page's own address without a message code, to come back to after a form."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "msg"]
    return request.url.path + (f"?{urlencode(query)}" if query else "")


def home_for(role: str) -> str:
    homes = {
        "clinician": "/ui/queue",
        "programme_lead": "/ui/reports",
        "admin": "/ui/admin",
        "site_admin": "/ui/admin",
        "site_lead": "/ui/reports",
    }
    return homes.get(role, "/ui/account")


def int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def team_names(session: Session, ids: frozenset[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The caller's teams by name, for the team filters and the enrolment form."""
    rows = session.execute(select(Team.id, Team.name).where(Team.id.in_(ids))).all()
    return {r.id: r.name for r in sorted(rows, key=lambda r: r.name)}


def user_names(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Staff members' names to show beside their notes and assignments."""
    if not ids:
        return {}
    rows = session.execute(
        select(User.id, User.display_name, User.username).where(User.id.in_(ids))
    ).all()
    return {r.id: r.display_name or r.username for r in rows}
