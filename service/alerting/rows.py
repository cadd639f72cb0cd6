"""The queue page's rows as queue items: the one loop of Python the queue's hot path runs.

``repository`` builds the statement and checks that its columns are ``PageRow``'s fields in
order; this module reads its plain tuples by name without SQLAlchemy's row mapping.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from pydantic_core import from_json

from alerts import AlertStatus, Severity, encode_cursor, is_overdue, queue_sort_key
from service.timeutil import LONDON


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


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
    severity_raised_at: datetime | None
    assignee_id: uuid.UUID | None
    outcome: str | None
    version: int
    out_of_hours_handling: str | None
    minutes_spent: int | None
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
                    "severity_raised_at": row.severity_raised_at,
                    "assignee_id": row.assignee_id,
                    "outcome": row.outcome,
                    "version": row.version,
                    "out_of_hours_handling": row.out_of_hours_handling,
                    "minutes_spent": row.minutes_spent,
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


def cursor_after(item: dict[str, Any]) -> str:
    """The cursor of the page that follows ``item`` (a ``page_items`` item)."""
    return encode_cursor(
        queue_sort_key(Severity(item["severity"]), item["raised_at"], str(item["id"]))
    )
