"""The triage queue and the clinicians' moves on its alerts (clinicians of the alert's team).

The queue and the moves are ``service.alerting.service``'s use cases, the ones the API calls:
a page can never allow what the API refuses, and every read or change is audited the same way.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts import MINUTES_MAX
from service.access import route_of
from service.alerting import service as alerting
from service.alerting.schemas import (
    AlertDetailOut,
    AlertFindingOut,
    AlertOut,
    AlertPage,
    AssignIn,
    MoveIn,
    NoteIn,
    ResolveIn,
)
from service.deps import NowDep, Principal, SessionDep
from service.models import AlertEventRow
from service.org import service as org
from service.problems import Problem
from service.timeutil import LONDON
from service.ui import session as ui_session
from service.ui.pages import (
    Clinician,
    csrf_failed,
    int_or_none,
    render,
    secure,
    team_names,
    user_names,
    uuid_or_none,
    with_msg,
    without_msg,
)
from service.ui.session import PageUser

router = APIRouter(prefix="/ui", include_in_schema=False)
QUEUE_PAGE_SIZE = 50


_LEVEL_RANK = {"red": 2, "amber": 1}


def evidence_text(alert: AlertOut) -> str:
    """The latest finding of each rule behind the alert, the symptoms among them:
    "+2.6 kg in 2 days; breathlessness worse". An alert fed for weeks holds a finding per
    reading; every one of them glued together hid the one that matters under the old ones.

    The rule that set the alert's severity comes first, then the others, most severe and most
    recent first.
    """
    latest: dict[str, AlertFindingOut] = {}
    for finding in alert.findings:  # in the order they were recorded
        known = latest.get(finding.rule_id)
        if finding.summary and (known is None or finding.observed_at >= known.observed_at):
            latest[finding.rule_id] = finding
    ordered = sorted(
        latest.values(),
        key=lambda f: (
            f.rule_id != alert.rule_id,
            -_LEVEL_RANK.get(f.level, 0),
            -f.observed_at.timestamp(),
            f.rule_id,
        ),
    )
    summaries = list(dict.fromkeys(f.summary for f in ordered))
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
    user: Clinician,
    now: NowDep,
    team: str | None = None,
    severity: str | None = None,
    assignee: str | None = None,
    overdue: str | None = None,
    cursor: str | None = None,
    seen: str | None = None,
) -> Response:
    """The teams' open and acknowledged alerts, red first then oldest (clinician).

    ``seen`` is how many alerts the earlier pages showed, so that the page can say which of the
    filter's alerts it shows; it only labels the page, the cursor says where it starts.
    """
    principal = user.principal
    team_id = uuid_or_none(team)
    if team_id not in principal.team_ids:
        team_id = None
    chosen_severity = severity if severity in ("red", "amber") else None
    chosen_assignee: Literal["me", "none"] | None = (
        "me" if assignee == "me" else "none" if assignee == "none" else None
    )
    only_overdue = overdue == "1"
    before = max(0, int_or_none(seen) or 0) if cursor else 0
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
                assignee=chosen_assignee,
                overdue=only_overdue,
            )
        )
    except Problem:
        session.rollback()
        return secure(RedirectResponse("/ui/queue", status_code=303))
    items = page.items
    people = {a.assignee_id for a in items if a.assignee_id}
    notes = _latest_notes(session, [a.id for a in items])
    people |= {n.actor_id for n in notes.values() if n.actor_id}
    names = user_names(session, people)
    teams = team_names(session, principal.team_ids)
    return_to = without_msg(request)
    filters = {
        "team": str(team_id) if team_id else "",
        "severity": chosen_severity or "",
        "assignee": chosen_assignee or "",
        "overdue": "1" if only_overdue else "",
    }
    # Past the end the count cannot go below what is left: a stale ``seen`` only mislabels.
    left = max(0, page.totals.all - before - len(items))
    return render(
        request,
        "queue.html",
        user,
        {
            "nav": "queue",
            "alerts": items,
            "next_cursor": page.next_cursor,
            "notes": notes,
            "evidence": {a.id: evidence_text(a) for a in items},
            "names": names,
            "teams": teams,
            "team_filter": filters["team"],
            "severity_filter": filters["severity"],
            "filters": filters,
            "filtered": any(filters.values()),
            "next_query": urlencode(
                {k: v for k, v in filters.items() if v}
                | {"cursor": page.next_cursor or "", "seen": before + len(items)}
            ),
            "shown_from": before + 1,
            "shown_to": before + len(items),
            "next_count": min(QUEUE_PAGE_SIZE, left),
            "left": left,
            "return_to": return_to,
            "counts": page.totals,
            "contacts": org.escalation_contacts(
                session, {a.team_id for a in items if a.escalated_at}
            ),
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
    minutes: str = ""


def _minutes(text: str) -> int | str | None:
    """The minutes box as the API takes it: empty is not said, digits a number; anything else
    is passed on as typed, for the schema to refuse."""
    text = text.strip()
    return int(text) if text.isdigit() else (text or None)


def _alert_move(
    request: Request,
    session: Session,
    user: PageUser,
    form: _MoveForm,
    alert_id: uuid.UUID,
    move: Callable[[Principal, int | None], AlertDetailOut],
    done: str,
    invalid: str = "not_allowed",
) -> Response:
    if not ui_session.csrf_ok(request, user.session, form.csrf_token):
        return csrf_failed(request, user)
    back = ui_session.safe_next(form.return_to, "/ui/queue")
    anchor = f"alert-{alert_id}"
    try:
        move(user.principal, int_or_none(form.version))
        msg = done
    except ValidationError:
        session.rollback()
        msg = invalid
    except Problem as exc:
        session.rollback()
        msg = {404: "not_found", 409: "conflict", 422: invalid}.get(exc.status, "not_allowed")
    if msg in {"resolved", "not_found"}:
        anchor = "queue-title" if back.startswith("/ui/queue") else "alerts"
    return secure(RedirectResponse(with_msg(back, msg, anchor), status_code=303))


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(
    alert_id: uuid.UUID,
    form: Annotated[_MoveForm, Form()],
    request: Request,
    session: SessionDep,
    user: Clinician,
    now: NowDep,
) -> Response:
    """Acknowledge an open alert (clinician of the alert's team)."""
    return _alert_move(
        request,
        session,
        user,
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
    user: Clinician,
    now: NowDep,
) -> Response:
    """Assign an alert to the signed-in clinician (clinician of the alert's team)."""
    return _alert_move(
        request,
        session,
        user,
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
    user: Clinician,
    now: NowDep,
) -> Response:
    """Add a note to an alert (clinician of the alert's team)."""
    return _alert_move(
        request,
        session,
        user,
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
    user: Clinician,
    now: NowDep,
) -> Response:
    """Resolve an alert with an outcome and the minutes spent (clinician of the alert's team)."""
    minutes = _minutes(form.minutes)
    valid_minutes = minutes is None or (isinstance(minutes, int) and minutes <= MINUTES_MAX)
    return _alert_move(
        request,
        session,
        user,
        form,
        alert_id,
        lambda who, version: alerting.resolve(
            session,
            who,
            route_of(request),
            now,
            alert_id,
            ResolveIn.model_validate(
                {
                    "outcome": form.outcome,
                    "note": form.note.strip() or None,
                    "minutes": minutes,
                    "version": version,
                }
            ),
        ),
        "resolved",
        "invalid_outcome" if valid_minutes else "invalid_minutes",
    )
