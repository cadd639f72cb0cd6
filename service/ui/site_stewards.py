"""Site stewards' pages: access requests (ask to read a site's report or a value framework;
admins and programme leads approve or refuse) and a site's practice beside its results, the
pathway it ran each month in words. Both call the API's use cases."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.access import route_of
from service.access_requests import service as access
from service.access_requests.schemas import AccessRequestIn, ApproveIn, RefuseIn
from service.deps import NowDep, SessionDep
from service.models import Site
from service.problems import Problem
from service.reports import practice, scope
from service.reports.figures import sites
from service.reports.period import last_months, report_month
from service.ui import session as ui_session
from service.ui.forms import problem_errors, validation_errors
from service.ui.pages import (
    MESSAGES,
    ReportReaders,
    csrf_failed,
    error_page,
    render,
    secure,
    signed_in,
    with_msg,
)
from service.ui.session import PageUser

router = APIRouter(prefix="/ui", include_in_schema=False)
Askers = Annotated[PageUser, Depends(signed_in(*access.REQUESTERS))]
Deciders = Annotated[PageUser, Depends(signed_in(*access.DECIDERS))]
Everyone = Annotated[PageUser, Depends(signed_in(*access.REQUESTERS, *access.DECIDERS))]
MESSAGES.update(
    {
        "asked": ("success", "Request sent. An administrator or programme lead will decide."),
        "approved": ("success", "Request approved: the requester can read it now."),
        "refused": ("success", "Request refused."),
    }
)
LABELS = {
    "kind": "What you need",
    "target_id": "Which one",
    "site_id": "Which site",
    "framework_id": "Which value framework",
    "reason": "Why you need it",
    "note": "Note",
    "expires_on": "Until",
    "form": "Request",
}
KINDS = {"site_report": "A site's report", "value_framework": "A value framework"}
PRACTICE_HISTORY_MONTHS = 12


class _AskForm(BaseModel):
    csrf_token: str = ""
    kind: str = ""
    # A site is chosen from a list; a framework the asker cannot see is named by its id, from
    # the link they were given (its name is not listed to people who may not read it).
    site_id: str = ""
    framework_id: str = ""
    reason: str = ""

    @property
    def target_field(self) -> str:
        return "framework_id" if self.kind == "value_framework" else "site_id"

    @property
    def target_id(self) -> str:
        return (self.framework_id if self.kind == "value_framework" else self.site_id).strip()


class _DecideForm(BaseModel):
    csrf_token: str = ""
    note: str = ""
    expires_on: str = ""


def _requests_page(
    request: Request,
    session: Session,
    user: PageUser,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    listed = access.listing(session, user.principal)
    site_rows = session.execute(select(Site.id, Site.name).order_by(Site.name)).all()
    prefill = {k: request.query_params.get(k, "") for k in ("kind", "site_id", "framework_id")}
    return render(
        request,
        "access_requests.html",
        user,
        {
            "nav": "access_requests",
            "requests": listed,
            "may_ask": user.role in access.REQUESTERS,
            "may_decide": user.role in access.DECIDERS,
            "kinds": KINDS,
            "sites": [(row.id, row.name) for row in site_rows],
            "values": values or prefill,
            "errors": errors or {},
        },
        status,
    )


@router.get("/access-requests", response_class=HTMLResponse)
def access_requests_page(request: Request, session: SessionDep, user: Everyone) -> Response:
    """Your requests and a form to ask; for admins and programme leads, every request to
    decide."""
    return _requests_page(request, session, user)


@router.post("/access-requests", response_class=HTMLResponse)
def ask_access(
    form: Annotated[_AskForm, Form()],
    request: Request,
    session: SessionDep,
    user: Askers,
    now: NowDep,
) -> Response:
    if not ui_session.csrf_ok(request, user.session, form.csrf_token):
        return csrf_failed(request, user)
    errors: dict[str, str] = {}
    raw = {"kind": form.kind, "target_id": form.target_id, "reason": form.reason}
    try:
        body = AccessRequestIn.model_validate(raw)
        access.ask(session, user.principal, route_of(request), now, body)
    except ValidationError as exc:
        errors = validation_errors(exc, LABELS)
    except Problem as exc:
        errors = problem_errors(exc, LABELS, default="form")
    if "target_id" in errors:
        # The message belongs beside the field the asker filled in (or should have).
        errors[form.target_field] = errors.pop("target_id")
    if not errors:
        return secure(RedirectResponse(with_msg("/ui/access-requests", "asked"), 303))
    session.rollback()
    values = form.model_dump(exclude={"csrf_token"})
    return _requests_page(request, session, user, values, errors, 422)


def _decide(
    request: Request,
    session: Session,
    user: PageUser,
    now: Any,
    request_id: uuid.UUID,
    form: _DecideForm,
    approving: bool,
) -> Response:
    if not ui_session.csrf_ok(request, user.session, form.csrf_token):
        return csrf_failed(request, user)
    errors: dict[str, str] = {}
    route = route_of(request)
    try:
        if approving:
            body = ApproveIn.model_validate(
                {"note": form.note, "expires_on": form.expires_on.strip() or None}
            )
            access.approve(session, user.principal, route, now, request_id, body)
        else:
            refusal = RefuseIn.model_validate({"note": form.note})
            access.refuse(session, user.principal, route, now, request_id, refusal)
    except ValidationError as exc:
        errors = validation_errors(exc, LABELS)
    except Problem as exc:
        errors = problem_errors(exc, LABELS, default="form")
    if not errors:
        msg = "approved" if approving else "refused"
        return secure(RedirectResponse(with_msg("/ui/access-requests", msg), 303))
    session.rollback()
    return _requests_page(request, session, user, None, errors, 422)


@router.post("/access-requests/{request_id}/approve", response_class=HTMLResponse)
def approve_access(
    request_id: uuid.UUID,
    form: Annotated[_DecideForm, Form()],
    request: Request,
    session: SessionDep,
    user: Deciders,
    now: NowDep,
) -> Response:
    return _decide(request, session, user, now, request_id, form, approving=True)


@router.post("/access-requests/{request_id}/refuse", response_class=HTMLResponse)
def refuse_access(
    request_id: uuid.UUID,
    form: Annotated[_DecideForm, Form()],
    request: Request,
    session: SessionDep,
    user: Deciders,
    now: NowDep,
) -> Response:
    return _decide(request, session, user, now, request_id, form, approving=False)


@router.get("/reports/practice", response_class=HTMLResponse)
def practice_page(
    request: Request,
    session: SessionDep,
    user: ReportReaders,
    now: NowDep,
    site: str | None = None,
    month: str | None = None,
) -> Response:
    """A site's pathway in words for the month, and each month's changes over the year before
    it (programme lead: any site; site lead: their own)."""
    readable = scope.readable_sites(session, user.principal, sites(session), now)
    chosen_site = next((s for s in readable if s.code == site), readable[0] if readable else None)
    if chosen_site is None:
        return error_page(request, user, 404, "No sites", "There are no sites to report on yet.")
    try:
        chosen = report_month(month or None, now)
        month_error = ""
    except Problem:
        chosen = report_month(None, now)
        month_error = f"There is no report for '{month}': showing last month instead."
    months = last_months(chosen, PRACTICE_HISTORY_MONTHS)
    history = practice.site_practice_months(session, chosen_site, list(reversed(months)))
    return render(
        request,
        "practice.html",
        user,
        {
            "nav": "reports",
            "site": chosen_site,
            "sites": readable,
            "month": chosen,
            "month_error": month_error,
            "practice": history[0],
            "history": [p for p in history if p["changes"]],
        },
    )
