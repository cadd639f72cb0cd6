"""The month's pack as one zip (``GET /api/v1/reports/pack``) and each site's lessons for a
month (``/api/v1/sites/{site_id}/lessons/{month}``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from service.access import route_of
from service.deps import NowDep, Principal, SessionDep, require
from service.reports import lessons
from service.reports.pack import PACK_MEDIA, build_pack
from service.reports.period import report_month
from service.reports.schemas import LessonIn, LessonOut

router = APIRouter(prefix="/api/v1")

Lead = Annotated[Principal, Depends(require("programme_lead"))]
LessonReader = Annotated[
    Principal, Depends(require("clinician", "programme_lead", "admin", "site_admin"))
]
LessonWriter = Annotated[Principal, Depends(require("programme_lead", "admin", "site_admin"))]
LESSON_SCOPE = (
    "Programme leads and admins: every site; a site admin: their own site; clinicians read "
    "the sites of their teams. Any other site is 404."
)


@router.get(
    "/reports/pack",
    tags=["reports"],
    summary="The month's pack: one zip with index.html, tables, charts, equity splits, value "
    "frameworks and lessons, disclosure-controlled (programme lead)",
    response_class=Response,
    responses={200: {"content": {PACK_MEDIA: {}}}},
)
def month_pack(
    session: SessionDep,
    principal: Lead,
    now: NowDep,
    month: Annotated[
        str | None,
        Query(
            pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
            description="Calendar month in Europe/London, YYYY-MM (default: last month)",
        ),
    ] = None,
) -> Response:
    pack = build_pack(session, principal, report_month(month, now), now)
    return Response(
        pack.zip_bytes(),
        media_type=PACK_MEDIA,
        headers={"Content-Disposition": f'attachment; filename="{pack.filename}"'},
    )


def _out(lesson: lessons.Lesson) -> LessonOut:
    return LessonOut(
        site_id=lesson.site_id,
        month=lesson.month,
        text=lesson.text,
        updated_at=lesson.updated_at,
        updated_by_name=lesson.updated_by_name,
    )


@router.get(
    "/sites/{site_id}/lessons/{month}",
    tags=["reports"],
    response_model=LessonOut,
    summary="A site's lessons for a month (programme lead, admin; site admin and clinicians of "
    "the site)",
    description="An empty `text` when none is written. " + LESSON_SCOPE,
)
def get_lesson(
    site_id: uuid.UUID, month: str, session: SessionDep, principal: LessonReader, now: NowDep
) -> LessonOut:
    return _out(lessons.read(session, principal, site_id, month, now))


@router.put(
    "/sites/{site_id}/lessons/{month}",
    tags=["reports"],
    response_model=LessonOut,
    summary="Write a site's lessons for a month (programme lead, admin, site admin of the site)",
    description="Plain text up to 4000 characters; an empty text removes the note. Shown in the "
    "month's pack, escaped. Each change is audited. " + LESSON_SCOPE,
)
def put_lesson(
    site_id: uuid.UUID,
    month: str,
    body: LessonIn,
    request: Request,
    session: SessionDep,
    principal: LessonWriter,
    now: NowDep,
) -> LessonOut:
    lesson = lessons.write(session, principal, route_of(request), now, site_id, month, body.text)
    return _out(lesson)
