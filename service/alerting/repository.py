"""The alert queue's SQL: the page in queue order with its findings, in one statement.

The statements are built once per shape and cached (``lru_cache``): a request binds values to a
statement it shares with every other request of that shape, so PostgreSQL can keep its plan.
The rows come back positional and plain, without ORM objects: this is the hot path of the
clinicians' queue (``bench/alert_queue.py``).
"""

from __future__ import annotations

import functools
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, NamedTuple

from sqlalchemy import (
    CTE,
    Integer,
    Select,
    Subquery,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session

from alerts import Severity, decode_cursor, encode_cursor, queue_sort_key
from service.alerting.rows import PageRow
from service.alerting.schemas import AlertFindingOut
from service.audit import append_patients
from service.db import DriverStatement, driver_rows
from service.db.capabilities import has_audit_functions
from service.models import Alert, AlertFinding, Patient
from service.pagination import decode


def findings_of(
    session: Session, alert_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[AlertFindingOut]]:
    out: dict[uuid.UUID, list[AlertFindingOut]] = defaultdict(list)
    if not alert_ids:
        return out
    rows = session.execute(
        select(
            AlertFinding.alert_id,
            AlertFinding.rule_id,
            AlertFinding.level,
            AlertFinding.pathway_version,
            AlertFinding.title,
            AlertFinding.summary,
            AlertFinding.evidence,
            AlertFinding.observed_at,
        )
        .where(AlertFinding.alert_id.in_(alert_ids))
        .order_by(AlertFinding.alert_id, AlertFinding.id)
    ).all()
    for row in rows:
        out[row.alert_id].append(
            AlertFindingOut(
                rule_id=row.rule_id,
                level=row.level,
                pathway_version=row.pathway_version,
                title=row.title,
                summary=row.summary,
                evidence=row.evidence,
                observed_at=row.observed_at,
            )
        )
    return out


# What a queue item shows: nothing else is read, and no ORM object is built for it.
_PAGE_COLUMNS = (
    Alert.id,
    Alert.patient_id,
    Alert.team_id,
    Alert.rule_id,
    Alert.severity,
    Alert.severity_rank,
    Alert.status,
    Alert.title,
    Alert.summary,
    Alert.pathway_version,
    Alert.raised_at,
    Alert.due_at,
    Alert.acknowledged_at,
    Alert.first_action_at,
    Alert.escalated_at,
    Alert.resolved_at,
    Alert.severity_raised_at,
    Alert.assignee_id,
    Alert.outcome,
    Alert.version,
    Alert.out_of_hours_handling,
    Alert.minutes_spent,
    Patient.nhs_number,
    Patient.date_of_birth,
    Patient.cohort,
)
_FINDING_COLUMNS = (
    AlertFinding.id.label("finding_id"),
    AlertFinding.rule_id.label("finding_rule_id"),
    AlertFinding.level.label("finding_level"),
    AlertFinding.pathway_version.label("finding_pathway_version"),
    AlertFinding.title.label("finding_title"),
    AlertFinding.summary.label("finding_summary"),
    # As its JSON text, parsed in pydantic-core (a tenth of json.loads' cost, which the driver
    # would otherwise spend on every finding).
    cast(AlertFinding.evidence, Text).label("finding_evidence"),
    AlertFinding.observed_at.label("finding_observed_at"),
)
# Rendered into the SQL text, not bound: the planner can match it to the queue index's partial
# predicate only if it sees the constant, and a bound value would stop a cached (generic) plan
# from using the index at all (a full scan: 265 ms instead of 0.3 ms at a million alerts).
_UNRESOLVED = Alert.status != literal("resolved", literal_execute=True)
# The page size in the SQL text too: with "LIMIT $n" PostgreSQL cannot cost the generic plan of
# the prepared statement (it guesses 10 % of the rows) and so plans every execution afresh
# (0.3-1 ms, as long as the page's execution), where a constant lets it keep the generic plan.
# A statement per page size asked for; clients ask for one or two.
_LIMIT = bindparam("limit", type_=Integer(), literal_execute=True)
_QUEUE_ORDER = (Alert.severity_rank.desc(), Alert.raised_at, Alert.id)


def _cursor_key(cursor: str) -> tuple[int, datetime, uuid.UUID]:
    key = decode(cursor, _queue_key)
    assert key is not None  # only called with a cursor
    return key


def _queue_key(cursor: str) -> tuple[int, datetime, uuid.UUID]:
    key = decode_cursor(cursor)  # InvalidCursor is a ValueError: pagination.decode answers 400
    return key.severity_rank, key.raised_at, uuid.UUID(key.alert_id)


# Whose alerts: the caller's own ("me", bound as ``assignee_id``) or nobody's ("none").
Assignee = Literal["me", "none"] | None


class Shape(NamedTuple):
    """What a queue statement is built for (its ``lru_cache`` key); the values are bound."""

    teams: int
    statuses: tuple[str, ...] | None = None
    severity: bool = False
    patient: bool = False
    cursor: bool = False
    assignee: Assignee = None
    overdue: bool = False


def _filtered(query: Select[*tuple[Any, ...]], shape: Shape) -> Select[*tuple[Any, ...]]:
    """The queue's filters, the same for its page and for its totals."""
    statuses = shape.statuses
    if statuses is None:
        query = query.where(_UNRESOLVED)
    else:
        # Constants too: from "status IN ('open')" the planner proves the partial index's
        # predicate and estimates the rows right (adding "<> 'resolved'" halves the estimate
        # twice over and it sorts instead).
        query = query.where(Alert.status.in_([literal(v, literal_execute=True) for v in statuses]))
    if shape.severity:
        # The rank is the index's second column; the severity itself is what the caller asked.
        query = query.where(
            Alert.severity_rank == bindparam("rank"), Alert.severity == bindparam("severity")
        )
    if shape.patient:
        query = query.where(Alert.patient_id == bindparam("patient_id"))
    if shape.assignee == "me":
        query = query.where(Alert.assignee_id == bindparam("assignee_id"))
    elif shape.assignee == "none":
        query = query.where(Alert.assignee_id.is_(None))
    if shape.overdue:
        # ``alerts.is_overdue`` in SQL: past its due time and not resolved.
        query = query.where(_UNRESOLVED, Alert.due_at < bindparam("now", type_=Alert.due_at.type))
    return query


def _team_branch(team: int, shape: Shape) -> Select[*tuple[Any, ...]]:
    """One team's queue rows in queue order, up to the limit: one ordered scan of the index."""
    query = _filtered(
        select(*_PAGE_COLUMNS)
        .join(Patient, Patient.id == Alert.patient_id)
        .where(Alert.team_id == bindparam(f"team_{team}")),
        shape,
    )
    if not shape.cursor:
        return query.order_by(*_QUEUE_ORDER).limit(_LIMIT)
    # After the cursor: the rest of its severity, then the lower ones, each one ordered range
    # of the index, merged. As one OR over (rank, raised_at, id) the index could not give the
    # order, and PostgreSQL read every alert after the cursor and sorted them (and planned the
    # statement afresh on every call).
    after_rank = bindparam("after_rank", type_=Integer())
    same = query.where(
        Alert.severity_rank == after_rank,
        tuple_(Alert.raised_at, Alert.id)
        > tuple_(
            bindparam("after_raised_at", type_=Alert.raised_at.type),
            bindparam("after_id", type_=Alert.id.type),
        ),
    )
    lower = query.where(Alert.severity_rank < after_rank)
    ranges = union_all(
        *(select(q.order_by(*_QUEUE_ORDER).limit(_LIMIT).subquery()) for q in (same, lower))
    ).subquery(f"after_{team}")
    return (
        select(ranges)
        .order_by(ranges.c.severity_rank.desc(), ranges.c.raised_at, ranges.c.id)
        .limit(_LIMIT)
    )


@functools.lru_cache(maxsize=256)
def _queue_select(shape: Shape) -> Select[*tuple[Any, ...]]:
    """The queue's rows in queue order, red first, then oldest, keyset-paginated.

    Built once per shape (number of teams, filters), the values bound as parameters (see
    ``_queue_params``), so a request reuses a statement and its compiled SQL. Several teams are
    one ordered index scan each, merged: with ``team_id IN (...)`` the index cannot give the
    order, and the planner reads and sorts every open alert of those teams (20 ms for two).
    """
    if shape.teams == 1:
        return _team_branch(0, shape)
    branches = [_team_branch(i, shape).subquery(f"team_{i}") for i in range(shape.teams)]
    merged = union_all(*(select(b) for b in branches)).subquery("teams")
    return (
        select(merged)
        .order_by(merged.c.severity_rank.desc(), merged.c.raised_at, merged.c.id)
        .limit(_LIMIT)
    )


def _with_findings(page: Subquery | CTE) -> Select[*tuple[Any, ...]]:
    """The queue page joined to its findings: one row per finding, in queue order."""
    return (
        select(page, *_FINDING_COLUMNS)
        .outerjoin(AlertFinding, AlertFinding.alert_id == page.c.id)
        .order_by(page.c.severity_rank.desc(), page.c.raised_at, page.c.id, AlertFinding.id)
    )


@functools.lru_cache(maxsize=256)
def _page_select(shape: Shape) -> Select[*tuple[Any, ...]]:
    """The queue page joined to its findings: one statement, one row per finding."""
    page = _queue_select(shape).subquery("page")
    return _with_findings(page)


@functools.lru_cache(maxsize=256)
def _audited_page_select(shape: Shape) -> Select[*tuple[Any, ...]]:
    """PostgreSQL: ``_page_select`` that also appends the audit record of the page's patients
    (``append_patients``; parameters from ``audit_params``, and ``shown``, the page size).

    The page's rows are a CTE, read by the findings join and by the audit, so both see the same
    rows; the audit names the patients of the first ``shown`` alerts, not of the one read past
    the page to learn that there is more. The audit's one row is joined to every row, so the
    statement cannot answer a row without having appended it (an empty page names no one).
    """
    page = _queue_select(shape).cte("page")
    shown = (
        select(page.c.patient_id)
        .order_by(page.c.severity_rank.desc(), page.c.raised_at, page.c.id)
        .limit(bindparam("shown", type_=Integer(), literal_execute=True))
        .subquery("shown")
    )
    appended = select(
        append_patients(select(func.array_agg(shown.c.patient_id)).scalar_subquery()).label(
            "audit_seq"
        )
    ).cte("audit")
    return _with_findings(page).join(appended, true())


@functools.lru_cache(maxsize=256)
def _audited_page_driver(shape: Shape, limit: int) -> DriverStatement:
    """``_audited_page_select`` for ``limit`` items, on the driver (``driver_rows``): the
    page's rows through SQLAlchemy's result layer, and its page sizes rendered into the SQL
    text on every call, were a third of the page's Python."""
    return DriverStatement.of(
        _audited_page_select(shape),
        limit=limit + 1,
        shown=limit,
    )


def _queue_params(
    team_ids: frozenset[uuid.UUID],
    *,
    statuses: list[str] | None,
    severity: str | None,
    patient_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
    assigned_to: uuid.UUID | None = None,
    unassigned: bool = False,
    overdue_at: datetime | None = None,
) -> tuple[Shape, dict[str, Any]]:
    """The statement's shape (the ``_queue_select`` key) and its parameters.

    ``assigned_to`` keeps the alerts of that clinician, ``unassigned`` those of nobody (not
    both), ``overdue_at`` those overdue at that instant.
    """
    if assigned_to is not None and unassigned:
        raise ValueError("assigned to someone and to nobody: no alert is both")
    params: dict[str, Any] = {f"team_{i}": t for i, t in enumerate(sorted(team_ids))}
    params["limit"] = limit + 1
    assignee: Assignee = None
    if assigned_to is not None:
        assignee, params["assignee_id"] = "me", assigned_to
    elif unassigned:
        assignee = "none"
    if overdue_at is not None:
        params["now"] = overdue_at
    if severity:
        params["rank"], params["severity"] = Severity(severity).rank, severity
    if patient_id:
        params["patient_id"] = patient_id
    if cursor:
        params["after_rank"], params["after_raised_at"], params["after_id"] = _cursor_key(cursor)
    chosen = tuple(sorted(set(statuses))) if statuses else None
    if chosen == ("acknowledged", "open"):
        chosen = None  # the same rows as no filter: let them share the statement and its plan
    shape = Shape(
        len(team_ids),
        chosen,
        bool(severity),
        bool(patient_id),
        bool(cursor),
        assignee,
        overdue_at is not None,
    )
    return shape, params


def _next_cursor(last: Any) -> str:
    return encode_cursor(queue_sort_key(Severity(last.severity), last.raised_at, str(last.id)))


def queue_rows(
    session: Session,
    team_ids: frozenset[uuid.UUID],
    *,
    statuses: list[str] | None,
    severity: str | None,
    patient_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Any], str | None]:
    """A page of the queue as plain rows (alert and patient columns), and the next cursor."""
    shape, params = _queue_params(
        team_ids,
        statuses=statuses,
        severity=severity,
        patient_id=patient_id,
        limit=limit,
        cursor=cursor,
    )
    if not team_ids:
        return [], None
    rows = list(session.execute(_queue_select(shape), params).all())
    page, more = rows[:limit], len(rows) > limit
    return page, (_next_cursor(page[-1]) if more else None)


def queue(
    session: Session,
    team_ids: frozenset[uuid.UUID],
    *,
    statuses: list[str] | None,
    severity: str | None,
    patient_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[tuple[Alert, Patient]], str | None]:
    """The same page as ``queue_rows``, as ORM objects for callers that work the alerts."""
    rows, next_cursor = queue_rows(
        session,
        team_ids,
        statuses=statuses,
        severity=severity,
        patient_id=patient_id,
        limit=limit,
        cursor=cursor,
    )
    alerts = {
        a.id: a for a in session.scalars(select(Alert).where(Alert.id.in_([r.id for r in rows])))
    }
    patients = {
        p.id: p
        for p in session.scalars(
            select(Patient).where(Patient.id.in_({r.patient_id for r in rows}))
        )
    }
    return [(alerts[r.id], patients[r.patient_id]) for r in rows], next_cursor


if tuple(c.key for c in (*_PAGE_COLUMNS, *_FINDING_COLUMNS)) != PageRow._fields:
    # The driver's rows are plain tuples: a column added to the statement and not here (or in
    # another order) would shift every field after it, so the module refuses to load instead.
    raise RuntimeError("PageRow's fields must be the queue statement's columns, in order")


def audits_in_statement(session: Session) -> bool:
    """Whether ``page_rows`` can append the page's audit record in its own statement: on
    a database with the audit's functions (``append_patients`` calls one), one round trip
    fewer."""
    return has_audit_functions(session)


def page_rows(
    session: Session,
    team_ids: frozenset[uuid.UUID],
    *,
    statuses: list[str] | None,
    severity: str | None,
    patient_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
    audit: dict[str, Any] | None,
    assigned_to: uuid.UUID | None = None,
    unassigned: bool = False,
    overdue_at: datetime | None = None,
) -> Sequence[Any]:
    """The page's rows (limit + 1 alerts, to know whether there is more), one per finding, in
    queue order; with ``audit`` (``access.audit_params``) the statement appends that record."""
    shape, params = _queue_params(
        team_ids,
        statuses=statuses,
        severity=severity,
        patient_id=patient_id,
        limit=limit,
        cursor=cursor,
        assigned_to=assigned_to,
        unassigned=unassigned,
        overdue_at=overdue_at,
    )
    if not team_ids:
        return []
    if audit is not None:
        return driver_rows(session, _audited_page_driver(shape, limit), params | audit)
    # A Core execution on the session's connection: plain rows, without the ORM's result layer.
    return session.connection().execute(_page_select(shape), params).all()


@functools.lru_cache(maxsize=64)
def _totals_select(shape: Shape) -> Select[*tuple[Any, ...]]:
    """The queue's counts for the whole filter, in one aggregate: every page reads the same
    (``shape.cursor`` is False: the totals do not depend on the page)."""
    red = Alert.severity_rank == literal(Severity.RED.rank, literal_execute=True)
    late = and_(_UNRESOLVED, Alert.due_at < bindparam("totals_now", type_=Alert.due_at.type))
    query = select(
        func.count().label("all"),
        func.coalesce(func.sum(case((red, 1), else_=0)), 0).label("red"),
        func.coalesce(func.sum(case((red, 0), else_=1)), 0).label("amber"),
        func.coalesce(func.sum(case((late, 1), else_=0)), 0).label("overdue"),
    ).where(
        Alert.team_id.in_(
            [bindparam(f"team_{i}", type_=Alert.team_id.type) for i in range(shape.teams)]
        )
    )
    return _filtered(query, shape)


def totals(
    session: Session,
    team_ids: frozenset[uuid.UUID],
    now: datetime,
    *,
    statuses: list[str] | None,
    severity: str | None,
    patient_id: uuid.UUID | None,
    assigned_to: uuid.UUID | None = None,
    unassigned: bool = False,
    overdue_at: datetime | None = None,
) -> dict[str, int]:
    """How many alerts the filter holds, red, amber and overdue at ``now``, over all its pages."""
    if not team_ids:
        return {"red": 0, "amber": 0, "overdue": 0, "all": 0}
    shape, params = _queue_params(
        team_ids,
        statuses=statuses,
        severity=severity,
        patient_id=patient_id,
        limit=0,
        cursor=None,
        assigned_to=assigned_to,
        unassigned=unassigned,
        overdue_at=overdue_at,
    )
    row = session.connection().execute(_totals_select(shape), params | {"totals_now": now}).one()
    return {"red": row.red, "amber": row.amber, "overdue": row.overdue, "all": row.all}
