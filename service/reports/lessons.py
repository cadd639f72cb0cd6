"""Each site's lessons for a month as use cases: what the site brings to the learning network's
monthly meeting, a plain-text note shown beside its results in the monthly pack.

Written by programme leads, admins and the site's own site admin; read by those and the
clinicians of the site's teams. Anyone else is told the site does not exist (404), as for a
site's unit costs. A note is text, never markup: every place that shows it escapes it.

Each change is in the audit trail (who, when, the site and month, the note's length and digest).
It is not kept in the site's settings history: that history is open to every member of staff,
and a site's lessons only to its own and the network's stewards.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.access import audit_change
from service.deps import Principal
from service.models import Site, SiteLesson, User
from service.models.reports import LESSON_MAX_CHARS
from service.problems import NotFound, field_error
from service.reports.period import EARLIEST_MONTH, current_month, parse_month
from service.stewardship.unit_costs import may_read_site, may_write_site

# Line breaks and tabs are kept; other control characters have no place in a note.
_ALLOWED_CONTROLS = {"\n", "\r", "\t"}


@dataclass(frozen=True, slots=True)
class Lesson:
    site_id: uuid.UUID
    month: str
    text: str
    updated_at: datetime | None
    updated_by_name: str | None


def check_month(month: str, now: datetime) -> str:
    """A month a note may be about: YYYY-MM, started, not before the service (422 naming
    ``month`` otherwise)."""
    try:
        parse_month(month)
    except ValueError:
        raise field_error("month", "must be a month, YYYY-MM") from None
    if month > current_month(now):
        raise field_error("month", "has not started yet")
    if month < EARLIEST_MONTH:
        raise field_error("month", f"must be {EARLIEST_MONTH} or later")
    return month


def check_text(text: str) -> str:
    """The note as stored: line endings made ``\\n``, surrounding blank space trimmed; 422
    naming ``text`` for one too long or holding control characters."""
    cleaned = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(cleaned) > LESSON_MAX_CHARS:
        raise field_error("text", f"must be at most {LESSON_MAX_CHARS} characters")
    if any(ord(c) < 32 and c not in _ALLOWED_CONTROLS for c in cleaned):
        raise field_error("text", "must be plain text, without control characters")
    return cleaned


def _site(session: Session, principal: Principal, site_id: uuid.UUID, *, write: bool) -> Site:
    site = session.get(Site, site_id)
    allowed = (
        may_write_site(principal, site_id) if write else may_read_site(session, principal, site_id)
    )
    if site is None or not allowed:
        raise NotFound("No such site.")
    return site


def may_write(principal: Principal, site_id: uuid.UUID) -> bool:
    return may_write_site(principal, site_id)


def read(
    session: Session, principal: Principal, site_id: uuid.UUID, month: str, now: datetime
) -> Lesson:
    """The site's note for the month (empty when none is written); 404 outside the caller's
    sites, 422 for a month that is not one."""
    _site(session, principal, site_id, write=False)
    check_month(month, now)
    return _lesson(session, site_id, month)


def _lesson(session: Session, site_id: uuid.UUID, month: str) -> Lesson:
    row = session.execute(
        select(SiteLesson, User.display_name, User.username)
        .outerjoin(User, User.id == SiteLesson.updated_by)
        .where(SiteLesson.site_id == site_id, SiteLesson.month == month)
    ).first()
    if row is None:
        return Lesson(site_id, month, "", None, None)
    lesson, display_name, username = row
    return Lesson(site_id, month, lesson.text, lesson.updated_at, display_name or username)


def write(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    site_id: uuid.UUID,
    month: str,
    text: str,
) -> Lesson:
    """Set the site's note for the month; an empty note removes it. Audited when it changes."""
    site = _site(session, principal, site_id, write=True)
    check_month(month, now)
    cleaned = check_text(text)
    row = session.get(SiteLesson, (site.id, month))
    before = row.text if row is not None else ""
    if cleaned == before:
        return _lesson(session, site.id, month)
    if not cleaned:
        session.execute(
            delete(SiteLesson).where(SiteLesson.site_id == site.id, SiteLesson.month == month)
        )
    elif row is None:
        session.add(
            SiteLesson(
                site_id=site.id,
                month=month,
                text=cleaned,
                updated_at=now,
                updated_by=principal.user_id,
            )
        )
    else:
        row.text, row.updated_at, row.updated_by = cleaned, now, principal.user_id
    session.flush()
    digest = hashlib.sha256(cleaned.encode()).hexdigest()[:16] if cleaned else "-"
    audit_change(
        session,
        route,
        principal,
        "U",
        now,
        f"site:{site.id} lessons month={month} chars={len(before)}->{len(cleaned)} sha256={digest}",
    )
    return _lesson(session, site.id, month)


def for_month(session: Session, month: str) -> dict[uuid.UUID, Lesson]:
    """Every site's note for the month, for the monthly pack (a programme lead's)."""
    rows = session.execute(
        select(SiteLesson, User.display_name, User.username)
        .outerjoin(User, User.id == SiteLesson.updated_by)
        .where(SiteLesson.month == month)
    ).all()
    return {
        lesson.site_id: Lesson(
            lesson.site_id, month, lesson.text, lesson.updated_at, display_name or username
        )
        for lesson, display_name, username in rows
    }
