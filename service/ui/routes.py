"""Server-rendered pages for staff: the triage queue, the patient record and the reports.

Every page goes through the same role and team checks as the API, by calling the API's own
functions: the queue is ``GET /api/v1/alerts``'s ``list_alerts``, the alert moves are its
``acknowledge``/``assign``/``add_note``/``resolve``, thresholds and device tokens go through
``patch_patient``/``issue_device_token``/``revoke_device_token``, and the reports are built by
``service.reports.build`` with the same disclosure control. So a page can never allow what the
API refuses, and every read or change of patient data is audited the same way.

Who may open what: clinicians the queue and their teams' patients; programme leads the
reports; admins may sign in but see no clinical data. A patient's device token opens nothing.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

import pathway
from service.access import audit_patient_access, patient_for, route_of
from service.alert_schemas import (
    AlertDetailOut,
    AlertOut,
    AlertPage,
    AssignIn,
    MoveIn,
    NoteIn,
    ResolveIn,
)
from service.alerting import service as alerting
from service.deps import NowDep, Principal, SessionDep, SettingsDep
from service.login import LoginLocked, authenticate
from service.models import AlertEventRow, DeviceToken, Site, Team, User
from service.nhs_number import format_nhs_number
from service.patients import service as patients
from service.problems import Problem
from service.readings import list_readings
from service.reports import build
from service.reports.groups import EQUITY_DIMENSIONS
from service.reports.metrics import REGISTRY
from service.reports.period import report_month, shift_month
from service.schemas import PatientPatch, Thresholds
from service.timeutil import LONDON
from service.ui import charts, views
from service.ui import session as ui_session
from service.ui.session import PageUser

HERE = Path(__file__).parent
STATIC = HERE / "static"
STATIC_TYPES = {
    "ui.css": "text/css; charset=utf-8",
    "ui.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}

router = APIRouter(prefix="/ui", include_in_schema=False)
templates = Jinja2Templates(directory=HERE / "templates")

CLINICIAN = ("clinician",)
LEAD = ("programme_lead",)
QUEUE_PAGE_SIZE = 50
DEFAULT_TREND_METRIC = "weight_adherence"
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
    "not_found": ("error", "That alert is no longer in your teams' queue."),
    "thresholds_saved": ("success", "Thresholds saved. New readings are judged against them."),
    "token_revoked": ("success", "Device token revoked. The app using it is signed out."),
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
    statuses=views.STATUSES,
    event_kinds=views.EVENT_KINDS,
    refresh_seconds=REFRESH_SECONDS,
)
templates.env.filters.update(
    london=views.london,
    duration=views.duration,
    shown=views.shown,
    month_name=views.month_name,
)


# --- rendering and the gate -------------------------------------------------------------------


def _secure(response: Response) -> Response:
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    return response


def _render(
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
    return _secure(response)


def _error(
    request: Request, user: PageUser | None, status: int, title: str, message: str
) -> Response:
    return _render(
        request, "error.html", user, {"title": title, "message": message, "status": status}, status
    )


def _gate(request: Request, session: Session, roles: tuple[str, ...]) -> PageUser | Response:
    """The signed-in staff member if their role may open this page, else the page to show."""
    data = ui_session.read(request)
    user = ui_session.load_user(session, data) if data else None
    if user is None:
        if "authorization" in request.headers:
            # A device token (or an API token) is not a login: pages need a staff session.
            return _error(
                request,
                None,
                401,
                "Sign in to use these pages",
                "Pages open only with a staff sign-in. Device tokens and API tokens cannot "
                "open them.",
            )
        if request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return _secure(
                RedirectResponse(f"/ui/login?next={quote(target, safe='')}", status_code=303)
            )
        return _secure(RedirectResponse("/ui/login?msg=expired", status_code=303))
    request.state.principal = user.principal
    if roles and user.role not in roles:
        who = {
            "clinician": "clinicians",
            "programme_lead": "programme leads",
            "admin": "administrators",
        }
        allowed = " and ".join(who[r] for r in roles)
        return _error(
            request,
            user,
            403,
            "You do not have access to this page",
            f"This page is for {allowed}. Your account does not include it.",
        )
    return user


def _csrf_failed(request: Request, user: PageUser | None) -> Response:
    return _error(
        request,
        user,
        403,
        "This form has expired",
        "The form was not sent from this session, or the session has changed since it was "
        "opened. Go back, reload the page and try again.",
    )


def _with_msg(path: str, msg: str, anchor: str = "") -> str:
    parts = urlsplit(path)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "msg"] + [("msg", msg)]
    return urlunsplit(("", "", parts.path, urlencode(query), anchor))


def _without_msg(request: Request) -> str:
    """The page's own address without a message code, to come back to after a form."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "msg"]
    return request.url.path + (f"?{urlencode(query)}" if query else "")


def _home_for(role: str) -> str:
    return {"clinician": "/ui/queue", "programme_lead": "/ui/reports"}.get(role, "/ui/account")


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


# --- static files -----------------------------------------------------------------------------


@router.get("/static/{name}")
def static(name: str) -> Response:
    """The pages' stylesheet, script and icon (anyone: no data)."""
    if name not in STATIC_TYPES:
        return Response("Not found", status_code=404, media_type="text/plain")
    response = FileResponse(STATIC / name, media_type=STATIC_TYPES[name])
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- sign in and out --------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep) -> Response:
    """Where to start: the queue, the reports or the account page (any staff)."""
    gate = _gate(request, session, ())
    if isinstance(gate, Response):
        return gate
    return _secure(RedirectResponse(_home_for(gate.role), status_code=303))


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, session: SessionDep) -> Response:
    """Who is signed in and what they may see (any staff)."""
    gate = _gate(request, session, ())
    if isinstance(gate, Response):
        return gate
    return _render(request, "account.html", gate, {"nav": "account"})


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
    return _secure(response)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, session: SessionDep, now: NowDep) -> Response:
    """The sign-in form (anyone)."""
    data = ui_session.read(request)
    if data is not None and data.signed_in:
        user = ui_session.load_user(session, data)
        if user is not None:
            return _secure(RedirectResponse(_home_for(user.role), status_code=303))
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
    except LoginLocked:
        return _login_page(
            request,
            data,
            next_path=next_path,
            username=username,
            error="Too many failed sign-ins. Wait a few minutes and try again.",
            status=429,
        )
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
    target = next_path if next_path not in ("/ui", "/ui/") else _home_for(user.role)
    response = RedirectResponse(target, status_code=303)
    ui_session.set_cookie(request, response, fresh)
    return _secure(response)


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
        return _csrf_failed(request, user)
    if data is not None and data.user_id is not None:
        user_row = session.get(User, data.user_id)
        if user_row is not None:
            user_row.sessions_valid_after = request.app.state.clock()
    response = RedirectResponse("/ui/login?msg=logged_out", status_code=303)
    ui_session.clear_cookie(request, response)
    return _secure(response)


# --- the triage queue -------------------------------------------------------------------------


def _names(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(User.id, User.display_name, User.username).where(User.id.in_(ids))
    ).all()
    return {r.id: r.display_name or r.username for r in rows}


def _team_names(session: Session, ids: frozenset[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = session.execute(select(Team.id, Team.name).where(Team.id.in_(ids))).all()
    return {r.id: r.name for r in sorted(rows, key=lambda r: r.name)}


def evidence_text(alert: AlertOut) -> str:
    """The findings' own summaries, each once: "+2.4 kg in 3 days; breathlessness worse"."""
    summaries = list(dict.fromkeys(f.summary for f in alert.findings if f.summary))
    return "; ".join(summaries) if summaries else alert.summary


def _latest_notes(session: Session, alert_ids: list[uuid.UUID]) -> dict[uuid.UUID, AlertEventRow]:
    if not alert_ids:
        return {}
    rows = session.scalars(
        select(AlertEventRow)
        .where(AlertEventRow.alert_id.in_(alert_ids), AlertEventRow.note.is_not(None))
        .order_by(AlertEventRow.alert_id, AlertEventRow.version)
    ).all()
    return {row.alert_id: row for row in rows}


@router.get("/queue", response_class=HTMLResponse)
def queue_page(
    request: Request,
    session: SessionDep,
    now: NowDep,
    team: str | None = None,
    severity: str | None = None,
    cursor: str | None = None,
) -> Response:
    """The teams' open and acknowledged alerts, red first then oldest (clinician)."""
    gate = _gate(request, session, CLINICIAN)
    if isinstance(gate, Response):
        return gate
    principal = gate.principal
    team_id = _uuid_or_none(team)
    if team_id not in principal.team_ids:
        team_id = None
    chosen_severity = severity if severity in ("red", "amber") else None
    try:
        page = AlertPage.model_validate(
            alerting.alert_page(
                session,
                principal,
                route_of(request),
                now,
                statuses=None,
                severity=chosen_severity,
                team_id=team_id,
                patient_id=None,
                limit=QUEUE_PAGE_SIZE,
                cursor=cursor or None,
            )
        )
    except Problem:
        session.rollback()
        return _secure(RedirectResponse("/ui/queue", status_code=303))
    items = page.items
    people = {a.assignee_id for a in items if a.assignee_id}
    notes = _latest_notes(session, [a.id for a in items])
    people |= {n.actor_id for n in notes.values() if n.actor_id}
    names = _names(session, people)
    teams = _team_names(session, principal.team_ids)
    return_to = _without_msg(request)
    counts = {
        "red": sum(1 for a in items if a.severity == "red"),
        "amber": sum(1 for a in items if a.severity == "amber"),
        "overdue": sum(1 for a in items if a.overdue),
    }
    return _render(
        request,
        "queue.html",
        gate,
        {
            "nav": "queue",
            "alerts": items,
            "next_cursor": page.next_cursor,
            "notes": notes,
            "evidence": {a.id: evidence_text(a) for a in items},
            "names": names,
            "teams": teams,
            "team_filter": str(team_id) if team_id else "",
            "severity_filter": chosen_severity or "",
            "return_to": return_to,
            "counts": counts,
            "now": now,
            "updated": now.astimezone(LONDON).strftime("%H:%M"),
        },
    )


class _MoveForm(BaseModel):
    csrf_token: str = ""
    version: str = ""
    return_to: str = ""


class _NoteForm(_MoveForm):
    text: str = ""


class _ResolveForm(_MoveForm):
    outcome: str = ""
    note: str = ""


def _alert_move(
    request: Request,
    session: Session,
    form: _MoveForm,
    alert_id: uuid.UUID,
    move: Callable[[Principal, int | None], AlertDetailOut],
    done: str,
    invalid: str = "not_allowed",
) -> Response:
    gate = _gate(request, session, CLINICIAN)
    if isinstance(gate, Response):
        return gate
    if not ui_session.csrf_ok(request, gate.session, form.csrf_token):
        return _csrf_failed(request, gate)
    back = ui_session.safe_next(form.return_to, "/ui/queue")
    anchor = f"alert-{alert_id}"
    try:
        move(gate.principal, _int_or_none(form.version))
        msg = done
    except ValidationError:
        session.rollback()
        msg = invalid
    except Problem as exc:
        session.rollback()
        msg = {404: "not_found", 409: "conflict", 422: invalid}.get(exc.status, "not_allowed")
    if msg in {"resolved", "not_found"}:
        anchor = "queue-title" if back.startswith("/ui/queue") else "alerts"
    return _secure(RedirectResponse(_with_msg(back, msg, anchor), status_code=303))


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(
    alert_id: uuid.UUID,
    form: Annotated[_MoveForm, Form()],
    request: Request,
    session: SessionDep,
    now: NowDep,
) -> Response:
    """Acknowledge an open alert (clinician of the alert's team)."""
    return _alert_move(
        request,
        session,
        form,
        alert_id,
        lambda who, version: alerting.acknowledge(
            session, who, route_of(request), now, alert_id, MoveIn(version=version)
        ),
        "acknowledged",
    )


@router.post("/alerts/{alert_id}/assign")
def assign_to_me(
    alert_id: uuid.UUID,
    form: Annotated[_MoveForm, Form()],
    request: Request,
    session: SessionDep,
    now: NowDep,
) -> Response:
    """Assign an alert to the signed-in clinician (clinician of the alert's team)."""
    return _alert_move(
        request,
        session,
        form,
        alert_id,
        lambda who, version: alerting.assign(
            session,
            who,
            route_of(request),
            now,
            alert_id,
            AssignIn(user_id=who.user_id, version=version),
        ),
        "assigned",
    )


@router.post("/alerts/{alert_id}/notes")
def add_note(
    alert_id: uuid.UUID,
    form: Annotated[_NoteForm, Form()],
    request: Request,
    session: SessionDep,
    now: NowDep,
) -> Response:
    """Add a note to an alert (clinician of the alert's team)."""
    return _alert_move(
        request,
        session,
        form,
        alert_id,
        lambda who, version: alerting.add_note(
            session, who, route_of(request), now, alert_id, NoteIn(text=form.text, version=version)
        ),
        "noted",
        "invalid_note",
    )


@router.post("/alerts/{alert_id}/resolve")
def resolve(
    alert_id: uuid.UUID,
    form: Annotated[_ResolveForm, Form()],
    request: Request,
    session: SessionDep,
    now: NowDep,
) -> Response:
    """Resolve an alert with an outcome (clinician of the alert's team)."""
    return _alert_move(
        request,
        session,
        form,
        alert_id,
        lambda who, version: alerting.resolve(
            session,
            who,
            route_of(request),
            now,
            alert_id,
            ResolveIn(
                outcome=form.outcome,
                note=form.note.strip() or None,
                version=version,
            ),
        ),
        "resolved",
        "invalid_outcome",
    )


# --- the patient record -----------------------------------------------------------------------


def _defaults() -> dict[str, Any]:
    context = pathway.PatientContext(patient_id="defaults", cohort=pathway.Cohort.NEW_DIAGNOSIS)
    values = pathway.default_pathway().thresholds_for(context)
    as_dict: dict[str, Any] = asdict(values) if is_dataclass(values) else {}
    return {name: as_dict.get(name) for name in views.THRESHOLD_NAMES}


class _ThresholdForm(BaseModel):
    csrf_token: str = ""
    version: str = ""
    target_weight_kg: str = ""
    systolic_red_below: str = ""
    systolic_amber_below: str = ""
    pulse_low_red: str = ""
    pulse_low_amber: str = ""
    pulse_high_amber: str = ""
    pulse_high_red: str = ""
    spo2_red_at_or_below: str = ""
    spo2_amber_at_or_below: str = ""


def _patient_page(
    request: Request,
    session: Session,
    user: PageUser,
    patient_id: uuid.UUID,
    now: datetime,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    form_values: dict[str, str] | None = None,
    form_error: str | None = None,
    new_token: str | None = None,
) -> Response:
    principal = user.principal
    try:
        patient = patient_for(session, principal, patient_id)
    except Problem:
        return _error(
            request,
            user,
            404,
            "Patient not found",
            "There is no patient with this link in your teams. Check the link, or find the "
            "patient from your queue.",
        )
    audit_patient_access(
        session, route_of(request), principal, patient.id, "R", now, "ui-patient-record"
    )
    readings = list_readings(
        session,
        patient.id,
        type_=None,
        start=now - timedelta(days=views.CHART_DAYS),
        end=None,
        limit=20_000,
        after=None,
    )
    details = alerting.patient_alerts(session, patient, now)
    details.sort(key=lambda d: (d.status == "resolved", -d.raised_at.timestamp()))
    people = {e.actor_id for d in details for e in d.events if e.actor_id}
    people |= {e.assignee_id for d in details for e in d.events if e.assignee_id}
    names = _names(session, people)
    thresholds = dict(patient.thresholds or {})
    defaults = _defaults()
    charts = views.patient_charts(
        readings,
        [views.AlertMark(d.raised_at, d.severity, d.title) for d in details],
        thresholds,
        defaults,
        now,
    )
    tokens = session.scalars(
        select(DeviceToken)
        .where(DeviceToken.patient_id == patient.id)
        .order_by(DeviceToken.created_at.desc())
    ).all()
    team = session.get(Team, patient.team_id)
    values = form_values or {
        name: ("" if thresholds.get(name) is None else f"{thresholds[name]:g}")
        for name in views.THRESHOLD_NAMES
    }
    today = now.astimezone(LONDON).date()
    return _render(
        request,
        "patient.html",
        user,
        {
            "nav": "queue",
            "patient": patient,
            "age": views.age_on(patient.date_of_birth, today),
            "sex": views.SEX.get(patient.sex, patient.sex),
            "team": team.name if team else "",
            "charts": charts,
            "symptoms": views.symptom_timeline(readings),
            "alerts": details,
            "open_alerts": [d for d in details if d.status != "resolved"],
            "names": names,
            "threshold_fields": views.THRESHOLD_FIELDS,
            "values": values,
            "defaults": defaults,
            "errors": errors or {},
            "form_error": form_error,
            "tokens": tokens,
            "new_token": new_token,
            "return_to": f"/ui/patients/{patient.id}",
            "now": now,
        },
        status,
    )


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
def patient_page(patient_id: str, request: Request, session: SessionDep, now: NowDep) -> Response:
    """A patient's record: charts, symptoms, alerts, thresholds, device tokens (clinician of
    the patient's team; 404 for anyone else's patient)."""
    gate = _gate(request, session, CLINICIAN)
    if isinstance(gate, Response):
        return gate
    pid = _uuid_or_none(patient_id)
    if pid is None:
        return _error(request, gate, 404, "Patient not found", "This link is not valid.")
    return _patient_page(request, session, gate, pid, now)


@router.post("/patients/{patient_id}/thresholds", response_class=HTMLResponse)
def save_thresholds(
    patient_id: uuid.UUID,
    form: Annotated[_ThresholdForm, Form()],
    request: Request,
    session: SessionDep,
    now: NowDep,
) -> Response:
    """Change a patient's personal thresholds, checked as the API checks them (clinician of the
    patient's team)."""
    gate = _gate(request, session, CLINICIAN)
    if isinstance(gate, Response):
        return gate
    if not ui_session.csrf_ok(request, gate.session, form.csrf_token):
        return _csrf_failed(request, gate)
    submitted = {name: getattr(form, name).strip() for name in views.THRESHOLD_NAMES}
    errors: dict[str, str] = {}
    parsed: dict[str, float] = {}
    for name, text in submitted.items():
        if not text:
            continue
        try:
            parsed[name] = float(text)
        except ValueError:
            errors[name] = "Enter a number, or leave it empty to use the pathway default."
    form_error: str | None = None
    if not errors:
        try:
            thresholds = Thresholds.model_validate(
                {
                    k: (int(v) if v.is_integer() and k != "target_weight_kg" else v)
                    for k, v in parsed.items()
                }
            )
            patients.patch_patient(
                session,
                gate.principal,
                route_of(request),
                now,
                patient_id,
                PatientPatch(thresholds=thresholds, version=_int_or_none(form.version)),
            )
        except ValidationError as exc:
            for err in exc.errors():
                field = str(err["loc"][0]) if err["loc"] else "thresholds"
                errors[field] = str(err["msg"]).removeprefix("Value error, ")
        except Problem as exc:
            session.rollback()
            if exc.status == 404:
                return _error(
                    request,
                    gate,
                    404,
                    "Patient not found",
                    "There is no such patient in your teams.",
                )
            for err in exc.extra.get("errors", []):
                errors[str(err.get("field", "")).removeprefix("thresholds.")] = str(
                    err.get("message", exc.detail)
                )
            if not errors or exc.status == 409:
                form_error = exc.detail
    if errors or form_error:
        session.rollback()
        return _patient_page(
            request,
            session,
            gate,
            patient_id,
            now,
            status=409 if form_error and not errors else 422,
            errors=errors,
            form_values=submitted,
            form_error=form_error or "Some thresholds were not saved: see the messages below.",
        )
    target = _with_msg(f"/ui/patients/{patient_id}", "thresholds_saved", "thresholds")
    return _secure(RedirectResponse(target, status_code=303))


class _TokenForm(BaseModel):
    csrf_token: str = ""


@router.post("/patients/{patient_id}/device-token", response_class=HTMLResponse)
def issue_device_token(
    patient_id: uuid.UUID,
    form: Annotated[_TokenForm, Form()],
    request: Request,
    session: SessionDep,
    now: NowDep,
) -> Response:
    """Issue a device token and show it once (clinician of the patient's team)."""
    gate = _gate(request, session, CLINICIAN)
    if isinstance(gate, Response):
        return gate
    if not ui_session.csrf_ok(request, gate.session, form.csrf_token):
        return _csrf_failed(request, gate)
    try:
        issued = patients.issue_device_token(
            session, gate.principal, route_of(request), now, patient_id
        )
    except Problem as exc:
        session.rollback()
        if exc.status == 404:
            return _error(request, gate, 404, "Patient not found", "No such patient in your teams.")
        return _patient_page(
            request, session, gate, patient_id, now, status=409, form_error=exc.detail
        )
    # Shown in this response only: it is stored as a hash and cannot be shown again.
    return _patient_page(request, session, gate, patient_id, now, new_token=issued.token)


@router.post("/patients/{patient_id}/device-tokens/{token_id}/revoke")
def revoke_device_token(
    patient_id: uuid.UUID,
    token_id: uuid.UUID,
    form: Annotated[_TokenForm, Form()],
    request: Request,
    session: SessionDep,
    now: NowDep,
) -> Response:
    """Revoke a device token (clinician of the patient's team)."""
    gate = _gate(request, session, CLINICIAN)
    if isinstance(gate, Response):
        return gate
    if not ui_session.csrf_ok(request, gate.session, form.csrf_token):
        return _csrf_failed(request, gate)
    try:
        patients.revoke_device_token(
            session, gate.principal, route_of(request), now, patient_id, token_id
        )
    except Problem:
        session.rollback()
        return _error(request, gate, 404, "Not found", "No such device token for this patient.")
    target = _with_msg(f"/ui/patients/{patient_id}", "token_revoked", "device-tokens")
    return _secure(RedirectResponse(target, status_code=303))


# --- reports ----------------------------------------------------------------------------------


def _month_choices(now: datetime) -> list[str]:
    current = build.current_month(now)
    return [shift_month(current, -i) for i in range(0, 25)]


def _chosen_month(month: str | None, now: datetime) -> str:
    try:
        return report_month(month or None, now)
    except Problem:
        return report_month(None, now)


def _site_by_code(sites: list[Site], code: str | None) -> Site | None:
    return next((s for s in sites if s.code == code), sites[0] if sites else None)


@router.get("/reports", response_class=HTMLResponse)
def reports_page(
    request: Request,
    session: SessionDep,
    now: NowDep,
    month: str | None = None,
    metric: str | None = None,
    site: str | None = None,
    by: str | None = None,
) -> Response:
    """Sites side by side, trends and equity splits, disclosure-controlled (programme lead)."""
    gate = _gate(request, session, LEAD)
    if isinstance(gate, Response):
        return gate
    chosen = _chosen_month(month, now)
    store = build.FigureStore(session, now)
    report = build.network_report(store, chosen, build.DEFAULT_TREND_MONTHS)
    trend_id = metric if metric in REGISTRY else DEFAULT_TREND_METRIC
    trend_metric = next(m for m in report["metrics"] if m["id"] == trend_id)
    all_sites = build.sites(session)
    trend_charts = [
        views.trend_chart(f"trend-{s['code'].lower()}", trend_metric, s["code"], s["name"])
        for s in report["sites"]
    ]
    equity_site = _site_by_code(all_sites, site)
    equity_by = by if by in EQUITY_DIMENSIONS else "imd_quintile"
    equity = build.equity_report(store, equity_site, chosen, equity_by) if equity_site else None
    sections: dict[str, list[dict[str, Any]]] = {}
    for row in report["metrics"]:
        sections.setdefault(row["section"], []).append(row)
    return _render(
        request,
        "reports.html",
        gate,
        {
            "nav": "reports",
            "report": report,
            "month": chosen,
            "months": _month_choices(now),
            "sections": sections,
            "section_titles": views.SECTIONS,
            "metrics": list(REGISTRY.values()),
            "trend_metric": trend_metric,
            "trend_charts": [
                (s["name"], charts.render(c))
                for s, c in zip(report["sites"], trend_charts, strict=True)
            ],
            "sites": all_sites,
            "equity": equity,
            "equity_site": equity_site,
            "equity_by": equity_by,
            "equity_labels": views.EQUITY_LABELS,
            "disclosure": report["disclosure"],
        },
    )


def _csv_response(body: str, filename: str) -> Response:
    response = Response(
        body,
        media_type=build.CSV_MEDIA,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
    return _secure(response)


@router.get("/reports/network.csv")
def network_csv(
    request: Request, session: SessionDep, now: NowDep, month: str | None = None
) -> Response:
    """The network report as CSV, as the API gives it (programme lead)."""
    gate = _gate(request, session, LEAD)
    if isinstance(gate, Response):
        return gate
    chosen = _chosen_month(month, now)
    rows = build.network_csv_rows(build.FigureStore(session, now), chosen)
    return _csv_response(build.to_csv(rows), f"network-{chosen}.csv")


@router.get("/reports/equity.csv")
def equity_csv(
    request: Request,
    session: SessionDep,
    now: NowDep,
    month: str | None = None,
    site: str | None = None,
    by: str | None = None,
) -> Response:
    """A site's equity split as CSV, as the API gives it (programme lead)."""
    gate = _gate(request, session, LEAD)
    if isinstance(gate, Response):
        return gate
    chosen = _chosen_month(month, now)
    chosen_site = _site_by_code(build.sites(session), site)
    if chosen_site is None:
        return _error(request, gate, 404, "No sites", "There are no sites to report on yet.")
    equity_by = by if by in EQUITY_DIMENSIONS else "imd_quintile"
    report = build.equity_report(build.FigureStore(session, now), chosen_site, chosen, equity_by)
    return _csv_response(
        build.to_csv(build.equity_csv_rows(report)),
        f"equity-{chosen_site.code}-{equity_by}-{chosen}.csv",
    )


__all__ = ["router"]
