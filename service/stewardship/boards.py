"""A value framework's monthly dashboard as a use case: the framework the caller may read, the
version in force at the month's end, its sites' unit costs, the before-and-after comparison and
the kept STAR scenarios, built by ``service.stewardship.dashboard``.

The API, the page, its CSV and the monthly pack all come through here, so a dashboard is the
same wherever it is released. Every figure is disclosure-controlled, whoever asks: a dashboard is
made to be shared at a stewardship meeting.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.deps import Principal
from service.models import ValueFramework, ValueFrameworkVersion
from service.reports.before_after import before_after
from service.reports.figures import FigureStore
from service.reports.period import as_of_date, check_month, report_month
from service.stewardship import dashboard, frameworks, interventions, unit_costs
from service.stewardship.dashboard import FrameworkVersion
from service.stewardship.scope import scope_of
from service.stewardship.shapes import Dashboard


def _build(
    session: Session, principal: Principal, framework_id: uuid.UUID, month: str, now: datetime
) -> Dashboard:
    period = check_month(month, now)
    version, spec = frameworks.spec_for_month(session, framework_id, period.end_utc)
    row = session.get(ValueFrameworkVersion, (framework_id, version))
    assert row is not None
    store = FigureStore(session, now, dashboard.metrics_needed(spec))
    costs = {
        s.id: unit_costs.costs_in_force(session, s.id) for s in scope_of(store, spec.site_ids).sites
    }
    comparison = before_after(session, month, list(spec.site_ids) or None, as_of=as_of_date(now))
    kept = interventions.scenarios(session, principal, framework_id, now)
    return dashboard.build(
        store,
        FrameworkVersion(framework_id, version, row.created_at, spec),
        month,
        costs,
        before_after=dict(comparison),
        scenarios=[s.model_dump(mode="json") for s in kept],
    )


def dashboard_for(
    session: Session,
    principal: Principal,
    framework_id: uuid.UUID,
    month: str | None,
    now: datetime,
) -> Dashboard:
    """The dashboard of a framework the caller may read (404 otherwise) for ``month`` (default
    last month; 422 for a month not started or before the service's first)."""
    frameworks.framework_for(session, principal, framework_id, now=now)
    return _build(session, principal, framework_id, report_month(month, now), now)


def every_dashboard(
    session: Session, principal: Principal, month: str, now: datetime
) -> list[Dashboard]:
    """Each framework's dashboard for the month, oldest framework first (the monthly pack)."""
    ids = session.scalars(
        select(ValueFramework.id)
        .where(ValueFramework.id.in_(frameworks.visible(session, principal, now)))
        .order_by(ValueFramework.created_at, ValueFramework.id)
    ).all()
    return [_build(session, principal, framework_id, month, now) for framework_id in ids]
