"""Month-end snapshot: freeze a month's figures so published numbers do not change under readers.

Run by the scheduler after a month closes. Idempotent: re-running a month replaces its rows in
the same transaction, so readers see either the old figures or the new ones, never a mixture.
Figures are stored unsuppressed; disclosure control is applied when they are read.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TypedDict

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from service.models import EquitySnapshot, ReportSnapshot
from service.reports import before_after
from service.reports.groups import EQUITY_DIMENSIONS, Grouping, site_and, split_site_key
from service.reports.period import Period, as_of_date
from service.reports.runner import MetricValue, compute_all


def snapshot_month(session: Session, month: str, now: datetime) -> int:
    """Compute ``month`` by site, team and network, each site's equity groups and its
    before-and-after sums, and store them; the number of rows written.

    Refuses a month that has not ended in London yet: a partial month is not a month-end figure.
    Does not commit: the caller's unit of work does.
    """
    period = Period.for_month(month, as_of=as_of_date(now))
    if not period.complete:
        raise ValueError(f"{month} has not ended yet")
    by_site = compute_all(session, period, Grouping("site"))
    by_team = compute_all(session, period, Grouping("team"))
    rows: list[SnapshotRow] = []
    for metric_id, grouped in by_site.items():
        total = grouped.total
        rows.append(_row(month, "network", None, metric_id, total, now))
        for site_id, value in grouped.groups.items():
            rows.append(_row(month, "site", site_id, metric_id, value, now))
    for metric_id, grouped in by_team.items():
        for team_id, value in grouped.groups.items():
            rows.append(_row(month, "team", team_id, metric_id, value, now))
    equity_rows = _equity_rows(session, period, month, now)
    session.execute(delete(ReportSnapshot).where(ReportSnapshot.month == month))
    session.execute(delete(EquitySnapshot).where(EquitySnapshot.month == month))
    if rows:
        session.execute(insert(ReportSnapshot), rows)
    if equity_rows:
        session.execute(insert(EquitySnapshot), equity_rows)
    return len(rows) + len(equity_rows) + before_after.freeze(session, month, now)


def _equity_rows(
    session: Session, period: Period, month: str, now: datetime
) -> list[dict[str, object]]:
    """Every site's equity groups of every metric, one statement per equity dimension."""
    rows: list[dict[str, object]] = []
    for dimension in EQUITY_DIMENSIONS:
        computed = compute_all(session, period, Grouping(site_and(dimension)))
        for metric_id, grouped in computed.items():
            for key, value in grouped.groups.items():
                site_id, group = split_site_key(str(key))
                rows.append(
                    {
                        "month": month,
                        "dimension": dimension,
                        "site_id": site_id,
                        "grp": group,
                        "metric_id": metric_id,
                        "numerator": value.numerator,
                        "denominator": value.denominator,
                        "value": value.value,
                        "n": value.n,
                        "computed_at": now,
                    }
                )
    return rows


class SnapshotRow(TypedDict):
    """One figure as ``report_snapshots`` stores it."""

    month: str
    scope: str
    scope_id: uuid.UUID | None
    scope_key: str
    metric_id: str
    numerator: float | None
    denominator: float | None
    value: float | None
    n: int
    computed_at: datetime


def _row(
    month: str,
    scope: str,
    scope_id: uuid.UUID | None,
    metric_id: str,
    value: MetricValue,
    now: datetime,
) -> SnapshotRow:
    return {
        "month": month,
        "scope": scope,
        "scope_id": scope_id,
        "scope_key": "network" if scope_id is None else str(scope_id),
        "metric_id": metric_id,
        "numerator": value.numerator,
        "denominator": value.denominator,
        "value": value.value,
        "n": value.n,
        "computed_at": now,
    }
