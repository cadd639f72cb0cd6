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
from datetime import date, datetime
from typing import Any, NamedTuple

from pydantic_core import from_json
from sqlalchemy import (
    CTE,
    Integer,
    Select,
    Subquery,
    Text,
    bindparam,
    cast,
    func,
    literal,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session

from alerts import AlertStatus, Severity, decode_cursor, encode_cursor, is_overdue, queue_sort_key
from service.alerting.schemas import AlertFindingOut
from service.audit import append_patients
from service.db import DriverStatement, driver_rows
from service.db.capabilities import has_audit_functions
from service.models import Alert, AlertFinding, Patient
from service.pagination import decode
from service.timeutil import LONDON


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


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
    Alert.assignee_id,
    Alert.outcome,
    Alert.version,
    Alert.out_of_hours_handling,
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


def _team_branch(
    team: int, statuses: tuple[str, ...] | None, severity: bool, patient: bool, cursor: bool
) -> Select[*tuple[Any, ...]]:
    """One team's queue rows in queue order, up to the limit: one ordered scan of the index."""
    query = (
        select(*_PAGE_COLUMNS)
        .join(Patient, Patient.id == Alert.patient_id)
        .where(Alert.team_id == bindparam(f"team_{team}"))
    )
    if statuses is None:
        query = query.where(_UNRESOLVED)
    else:
        # Constants too: from "status IN ('open')" the planner proves the partial index's
        # predicate and estimates the rows right (adding "<> 'resolved'" halves the estimate
        # twice over and it sorts instead).
        query = query.where(Alert.status.in_([literal(v, literal_execute=True) for v in statuses]))
    if severity:
        # The rank is the index's second column; the severity itself is what the caller asked.
        query = query.where(
            Alert.severity_rank == bindparam("rank"), Alert.severity == bindparam("severity")
        )
    if patient:
        query = query.where(Alert.patient_id == bindparam("patient_id"))
    if not cursor:
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
def _queue_select(
    teams: int, statuses: tuple[str, ...] | None, severity: bool, patient: bool, cursor: bool
) -> Select[*tuple[Any, ...]]:
    """The queue's rows in queue order, red first, then oldest, keyset-paginated.

    Built once per shape (number of teams, filters), the values bound as parameters (see
    ``_queue_params``), so a request reuses a statement and its compiled SQL. Several teams are
    one ordered index scan each, merged: with ``team_id IN (...)`` the index cannot give the
    order, and the planner reads and sorts every open alert of those teams (20 ms for two).
    """
    if teams == 1:
        return _team_branch(0, statuses, severity, patient, cursor)
    branches = [
        _team_branch(i, statuses, severity, patient, cursor).subquery(f"team_{i}")
        for i in range(teams)
    ]
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
def _page_select(
    teams: int, statuses: tuple[str, ...] | None, severity: bool, patient: bool, cursor: bool
) -> Select[*tuple[Any, ...]]:
    """The queue page joined to its findings: one statement, one row per finding."""
    page = _queue_select(teams, statuses, severity, patient, cursor).subquery("page")
    return _with_findings(page)


@functools.lru_cache(maxsize=256)
def _audited_page_select(
    teams: int, statuses: tuple[str, ...] | None, severity: bool, patient: bool, cursor: bool
) -> Select[*tuple[Any, ...]]:
    """PostgreSQL: ``_page_select`` that also appends the audit record of the page's patients
    (``append_patients``; parameters from ``audit_params``, and ``shown``, the page size).

    The page's rows are a CTE, read by the findings join and by the audit, so both see the same
    rows; the audit names the patients of the first ``shown`` alerts, not of the one read past
    the page to learn that there is more. The audit's one row is joined to every row, so the
    statement cannot answer a row without having appended it (an empty page names no one).
    """
    page = _queue_select(teams, statuses, severity, patient, cursor).cte("page")
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
def _audited_page_driver(
    teams: int,
    statuses: tuple[str, ...] | None,
    severity: bool,
    patient: bool,
    cursor: bool,
    limit: int,
) -> DriverStatement:
    """``_audited_page_select`` for ``limit`` items, on the driver (``driver_rows``): the
    page's rows through SQLAlchemy's result layer, and its page sizes rendered into the SQL
    text on every call, were a third of the page's Python."""
    return DriverStatement.of(
        _audited_page_select(teams, statuses, severity, patient, cursor),
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
) -> tuple[tuple[int, tuple[str, ...] | None, bool, bool, bool], dict[str, Any]]:
    """The statement's shape (the ``_queue_select`` key) and its parameters."""
    params: dict[str, Any] = {f"team_{i}": t for i, t in enumerate(sorted(team_ids))}
    params["limit"] = limit + 1
    if severity:
        params["rank"], params["severity"] = Severity(severity).rank, severity
    if patient_id:
        params["patient_id"] = patient_id
    if cursor:
        params["after_rank"], params["after_raised_at"], params["after_id"] = _cursor_key(cursor)
    chosen = tuple(sorted(set(statuses))) if statuses else None
    if chosen == ("acknowledged", "open"):
        chosen = None  # the same rows as no filter: let them share the statement and its plan
    return (len(team_ids), chosen, bool(severity), bool(patient_id), bool(cursor)), params


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
    rows = list(session.execute(_queue_select(*shape), params).all())
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


_STATUSES = {s.value: s for s in AlertStatus}


class PageRow(NamedTuple):
    """A row of the queue page's statement: an alert with its patient's columns and one of its
    findings (``finding_*`` all None for an alert without findings), named as the statement
    names its columns (``_page_select``; checked when this module loads)."""

    id: uuid.UUID
    patient_id: uuid.UUID
    team_id: uuid.UUID
    rule_id: str
    severity: str
    severity_rank: int
    status: str
    title: str
    summary: str
    pathway_version: str
    raised_at: datetime
    due_at: datetime
    acknowledged_at: datetime | None
    first_action_at: datetime | None
    escalated_at: datetime | None
    resolved_at: datetime | None
    assignee_id: uuid.UUID | None
    outcome: str | None
    version: int
    out_of_hours_handling: str | None
    nhs_number: str
    date_of_birth: date
    cohort: str
    finding_id: int | None
    finding_rule_id: str | None
    finding_level: str | None
    finding_pathway_version: str | None
    finding_title: str | None
    finding_summary: str | None
    finding_evidence: str | None
    finding_observed_at: datetime | None


if tuple(c.key for c in (*_PAGE_COLUMNS, *_FINDING_COLUMNS)) != PageRow._fields:
    # The driver's rows are plain tuples: a column added to the statement and not here (or in
    # another order) would shift every field after it, so the module refuses to load instead.
    raise RuntimeError("PageRow's fields must be the queue statement's columns, in order")


# ``PageRow._make`` without its Python frame and length check (the check above stands for
# it): a C call per row, a third of the cost of reading them by name.
_as_page_row = functools.partial(tuple.__new__, PageRow)


def page_items(rows: Sequence[Any], limit: int, now: datetime) -> tuple[list[dict[str, Any]], bool]:
    """Queue items from the page's rows (one per finding), and whether more rows follow.

    The rows come in queue order with each alert's findings together, so one pass groups them.
    This loop is most of the Python the queue costs: each row is read as a ``PageRow`` (a
    tuple, its fields C-level index lookups), not through SQLAlchemy's row mapping.
    """
    today = now.astimezone(LONDON).date()
    items: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    last_id = None
    for row in map(_as_page_row, rows):
        if row.id != last_id:
            if len(items) == limit:
                return items, True
            last_id = row.id
            findings = []
            items.append(
                {
                    "id": row.id,
                    "patient_id": row.patient_id,
                    "team_id": row.team_id,
                    "patient": {
                        "id": row.patient_id,
                        "nhs_number": row.nhs_number,
                        "age": age_on(row.date_of_birth, today),
                        "cohort": row.cohort,
                    },
                    "rule_id": row.rule_id,
                    "severity": row.severity,
                    "status": row.status,
                    "title": row.title,
                    "summary": row.summary,
                    "pathway_version": row.pathway_version,
                    "raised_at": row.raised_at,
                    "due_at": row.due_at,
                    "overdue": is_overdue(row.due_at, _STATUSES[row.status], now),
                    "acknowledged_at": row.acknowledged_at,
                    "first_action_at": row.first_action_at,
                    "escalated_at": row.escalated_at,
                    "resolved_at": row.resolved_at,
                    "assignee_id": row.assignee_id,
                    "outcome": row.outcome,
                    "version": row.version,
                    "out_of_hours_handling": row.out_of_hours_handling,
                    "findings": findings,
                }
            )
        if row.finding_id is not None:
            findings.append(
                {
                    "rule_id": row.finding_rule_id,
                    "level": row.finding_level,
                    "pathway_version": row.finding_pathway_version,
                    "title": row.finding_title,
                    "summary": row.finding_summary,
                    "evidence": from_json(row.finding_evidence or "null"),
                    "observed_at": row.finding_observed_at,
                }
            )
    return items, False


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
    )
    if not team_ids:
        return []
    if audit is not None:
        return driver_rows(session, _audited_page_driver(*shape, limit), params | audit)
    # A Core execution on the session's connection: plain rows, without the ORM's result layer.
    return session.connection().execute(_page_select(*shape), params).all()


def cursor_after(item: dict[str, Any]) -> str:
    """The cursor of the page that follows ``item`` (a ``page_items`` item)."""
    return encode_cursor(
        queue_sort_key(Severity(item["severity"]), item["raised_at"], str(item["id"]))
    )
