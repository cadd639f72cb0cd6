"""Access requests as use cases: a member of staff asks to read one site's report or one value
framework outside their reach; an admin or programme lead approves (a grant, optionally until
a date) or refuses it, with a note. Requesters list their own requests, deciders every one.
Each request, decision and grant is in the audit trail (``service.access.audit_change``)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from service.access import audit_change
from service.access_requests.schemas import AccessRequestIn, AccessRequestOut, ApproveIn, RefuseIn
from service.deps import Principal
from service.models import (
    AccessGrant,
    AccessRequest,
    Site,
    User,
    ValueFramework,
    ValueFrameworkVersion,
)
from service.problems import Conflict, Forbidden, NotFound, field_error
from service.reports.period import as_of_date, london_midnight
from service.reports.scope import may_read_site_report
from service.stewardship.frameworks import visible

# Who asks: staff whose reach ends at their teams or their site. Who decides: the network's.
REQUESTERS = ("clinician", "site_admin", "site_lead")
DECIDERS = ("admin", "programme_lead")


def _target_exists(session: Session, kind: str, target_id: uuid.UUID) -> bool:
    table = Site if kind == "site_report" else ValueFramework
    return session.get(table, target_id) is not None


def _already_readable(
    session: Session, principal: Principal, kind: str, target_id: uuid.UUID, now: datetime
) -> bool:
    if kind == "site_report":
        return may_read_site_report(session, principal, target_id, now)
    query = visible(session, principal, now).where(ValueFramework.id == target_id)
    return session.scalar(query) is not None


def ask(
    session: Session, principal: Principal, route: str, now: datetime, body: AccessRequestIn
) -> AccessRequestOut:
    """A pending request; 422 for no such target, 409 for one the caller can already read or
    has already asked for and not had an answer."""
    assert principal.user_id is not None
    if not _target_exists(session, body.kind, body.target_id):
        name = "site" if body.kind == "site_report" else "value framework"
        raise field_error("target_id", f"no such {name}")
    if _already_readable(session, principal, body.kind, body.target_id, now):
        raise Conflict("You can already read it.")
    pending = session.scalar(
        select(AccessRequest.id).where(
            AccessRequest.requested_by == principal.user_id,
            AccessRequest.kind == body.kind,
            AccessRequest.target_id == body.target_id,
            AccessRequest.status == "pending",
        )
    )
    if pending is not None:
        raise Conflict(f"You have already asked for it (request {pending}).")
    request = AccessRequest(
        id=uuid.uuid4(),
        kind=body.kind,
        target_id=body.target_id,
        reason=body.reason,
        requested_by=principal.user_id,
        requested_at=now,
        status="pending",
    )
    session.add(request)
    session.flush()
    audit_change(
        session,
        route,
        principal,
        "C",
        now,
        f"access_request:{request.id} asked kind={body.kind} target={body.target_id}",
    )
    return _listed(session, [request])[0]


def _pending(session: Session, principal: Principal, request_id: uuid.UUID) -> AccessRequest:
    request = session.get(AccessRequest, request_id)
    if request is None:
        raise NotFound("No such access request.")
    if request.requested_by == principal.user_id:
        raise Forbidden("Someone else decides your own request.")
    if request.status != "pending":
        raise Conflict(f"This request was already {request.status}.")
    return request


def approve(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    request_id: uuid.UUID,
    body: ApproveIn,
) -> AccessRequestOut:
    """Approve a pending request: a grant of read access to its one target, until the end of
    ``expires_on`` (Europe/London) if given; 422 for an expiry before today."""
    request = _pending(session, principal, request_id)
    expires_at = None
    if body.expires_on is not None:
        if body.expires_on < as_of_date(now):
            raise field_error("expires_on", "must be today or later")
        expires_at = london_midnight(body.expires_on + timedelta(days=1))
    _decide(request, principal, now, "approved", body.note)
    grant = AccessGrant(
        id=uuid.uuid4(),
        request_id=request.id,
        user_id=request.requested_by,
        kind=request.kind,
        target_id=request.target_id,
        granted_by=principal.user_id,
        granted_at=now,
        expires_at=expires_at,
    )
    session.add(grant)
    session.flush()
    audit_change(session, route, principal, "U", now, f"access_request:{request.id} approved")
    audit_change(
        session,
        route,
        principal,
        "C",
        now,
        f"access_grant:{grant.id} user={grant.user_id} kind={grant.kind} "
        f"target={grant.target_id} expires={expires_at.isoformat() if expires_at else 'never'}",
    )
    return _listed(session, [request])[0]


def refuse(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    request_id: uuid.UUID,
    body: RefuseIn,
) -> AccessRequestOut:
    request = _pending(session, principal, request_id)
    _decide(request, principal, now, "refused", body.note)
    session.flush()
    audit_change(session, route, principal, "U", now, f"access_request:{request.id} refused")
    return _listed(session, [request])[0]


def _decide(
    request: AccessRequest, principal: Principal, now: datetime, status: str, note: str
) -> None:
    request.status = status
    request.decided_by = principal.user_id
    request.decided_at = now
    request.decision_note = note


def listing(session: Session, principal: Principal) -> list[AccessRequestOut]:
    """Deciders: every request; anyone else: their own. Pending first, then newest first."""
    query = select(AccessRequest).order_by(
        case((AccessRequest.status == "pending", 0), else_=1),
        AccessRequest.requested_at.desc(),
        AccessRequest.id,
    )
    if principal.role not in DECIDERS:
        query = query.where(AccessRequest.requested_by == principal.user_id)
    return _listed(session, list(session.scalars(query).all()))


def _listed(session: Session, requests: list[AccessRequest]) -> list[AccessRequestOut]:
    """The requests with the names of their people and targets, in three queries in all."""
    people = {r.requested_by for r in requests} | {r.decided_by for r in requests if r.decided_by}
    names = {
        row.id: row.display_name or row.username
        for row in session.execute(
            select(User.id, User.display_name, User.username).where(User.id.in_(people))
        )
    }
    targets = {r.target_id for r in requests}
    target_names = {
        row.id: row.name
        for row in session.execute(select(Site.id, Site.name).where(Site.id.in_(targets)))
    }
    frameworks = session.execute(
        select(ValueFrameworkVersion.framework_id, ValueFrameworkVersion.spec)
        .join(
            ValueFramework,
            (ValueFramework.id == ValueFrameworkVersion.framework_id)
            & (ValueFramework.current_version == ValueFrameworkVersion.version),
        )
        .where(ValueFramework.id.in_(targets))
    )
    target_names |= {row.framework_id: str(row.spec["name"]) for row in frameworks}
    grants = {
        row.request_id: row.expires_at
        for row in session.execute(
            select(AccessGrant.request_id, AccessGrant.expires_at).where(
                AccessGrant.request_id.in_([r.id for r in requests])
            )
        )
    }
    return [
        AccessRequestOut(
            id=r.id,
            kind=r.kind,
            target_id=r.target_id,
            target_name=target_names.get(r.target_id, "(removed)"),
            reason=r.reason,
            requested_by=r.requested_by,
            requested_by_name=names.get(r.requested_by, ""),
            requested_at=r.requested_at,
            status=r.status,
            decided_by=r.decided_by,
            decided_by_name=names.get(r.decided_by) if r.decided_by else None,
            decided_at=r.decided_at,
            decision_note=r.decision_note,
            expires_at=grants.get(r.id),
        )
        for r in requests
    ]
