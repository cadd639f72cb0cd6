"""The month's pack from the reports page (``/ui/reports/pack.zip``, programme leads) and each
site's lessons for a month (``/ui/reports/lessons``): read by the staff of the site and the
network's stewards, written by programme leads, admins and the site's own site admin, through
the same use cases as the API (``service.reports.pack``, ``service.reports.lessons``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from service.access import route_of
from service.deps import NowDep, SessionDep
from service.models import Site
from service.problems import NotFound, Problem
from service.reports import lessons
from service.reports.pack import PACK_MEDIA, build_pack
from service.reports.period import current_month, report_month, shift_month
from service.ui import session as ui_session
from service.ui.forms import problem_errors
from service.ui.pages import (
    MESSAGES,
    AnyStaff,
    Lead,
    csrf_failed,
    error_page,
    render,
    secure,
    signed_in,
    with_msg,
)
from service.ui.session import PageUser
from service.ui.stewardship import readable_sites

router = APIRouter(prefix="/ui", include_in_schema=False)
MESSAGES.update({"lessons_saved": ("success", "Lessons saved. The month's pack shows them.")})
Stewards = Annotated[PageUser, Depends(signed_in("programme_lead", "admin", "site_admin"))]
LABELS = {"text": "Lessons"}
LESSON_MONTHS = 13


@router.get("/reports/pack.zip")
def pack_zip(
    request: Request, session: SessionDep, user: Lead, now: NowDep, month: str | None = None
) -> Response:
    """The month's pack as one zip, the same as ``mhf report`` writes (programme lead)."""
    try:
        chosen = report_month(month or None, now)
        lessons.check_month(chosen, now)
    except Problem:
        message = "Choose a month from the list on the reports page: that one is not a month."
        return error_page(request, user, 422, "No pack for that month", message)
    pack = build_pack(session, user.principal, chosen, now)
    response = Response(
        pack.zip_bytes(),
        media_type=PACK_MEDIA,
        headers={"Content-Disposition": f'attachment; filename="{pack.filename}"'},
    )
    return secure(response)


class _LessonForm(BaseModel):
    csrf_token: str = ""
    site: str = ""
    month: str = ""
    text: str = ""


def _months(now: datetime) -> list[str]:
    current = current_month(now)
    return [shift_month(current, -i) for i in range(LESSON_MONTHS)]


def _lessons_page(
    request: Request,
    session: Session,
    user: PageUser,
    now: datetime,
    site_id: uuid.UUID | None,
    month: str | None,
    text: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    sites = readable_sites(session, user)
    if not sites:
        return error_page(request, user, 404, "No sites", "You have no site to read lessons of.")
    chosen_site = site_id if site_id in {s for s, _ in sites} else sites[0][0]
    chosen_month = month if month in _months(now) else shift_month(current_month(now), -1)
    try:
        lesson = lessons.read(session, user.principal, chosen_site, chosen_month, now)
    except NotFound:
        return error_page(request, user, 404, "Site not found", "That site is not among yours.")
    site = session.get(Site, chosen_site)
    return render(
        request,
        "lessons.html",
        user,
        {
            "nav": "reports" if user.role == "programme_lead" else "value_frameworks",
            "sites": sites,
            "site": site,
            "month": chosen_month,
            "months": _months(now),
            "lesson": lesson,
            "text": lesson.text if text is None else text,
            "errors": errors or {},
            "may_edit": lessons.may_write(user.principal, chosen_site),
        },
        status,
    )


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@router.get("/reports/lessons", response_class=HTMLResponse)
def lessons_page(
    request: Request,
    session: SessionDep,
    user: AnyStaff,
    now: NowDep,
    site: str | None = None,
    month: str | None = None,
) -> Response:
    """A site's lessons for a month: read by its staff, written by its stewards."""
    return _lessons_page(request, session, user, now, _uuid(site), month)


@router.post("/reports/lessons", response_class=HTMLResponse)
def save_lessons(
    form: Annotated[_LessonForm, Form()],
    request: Request,
    session: SessionDep,
    user: Stewards,
    now: NowDep,
) -> Response:
    if not ui_session.csrf_ok(request, user.session, form.csrf_token):
        return csrf_failed(request, user)
    site_id = _uuid(form.site)
    try:
        if site_id is None:
            raise NotFound("No such site.")
        lessons.write(
            session, user.principal, route_of(request), now, site_id, form.month, form.text
        )
    except NotFound:
        return error_page(request, user, 404, "Site not found", "That site is not among yours.")
    except Problem as exc:
        session.rollback()
        errors = problem_errors(exc, LABELS, default="text")
        return _lessons_page(
            request, session, user, now, site_id, form.month, form.text, errors, 422
        )
    target = with_msg(f"/ui/reports/lessons?site={site_id}&month={form.month}", "lessons_saved")
    return secure(RedirectResponse(target, 303))
