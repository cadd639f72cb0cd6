"""A framework's STAR register as use cases: its interventions, their yearly activity (entered,
or measured from the service's reports), and what-if scenarios computed and kept.

The same rules as the framework: staff who read the framework read its register and scenarios;
those who may change the framework change its register and save scenarios.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import changes
from service.access import audit_change
from service.deps import Principal
from service.models import Intervention, StarScenario, ValueFrameworkVersion
from service.problems import NotFound, field_error
from service.reports.disclosure import disclose_count
from service.reports.figures import FigureStore
from service.reports.metrics import REGISTRY
from service.reports.period import current_month, last_months, shift_month
from service.stewardship import star
from service.stewardship.frameworks import framework_for, validated
from service.stewardship.schemas import (
    InterventionIn,
    InterventionOut,
    InterventionPatch,
    ScenarioIn,
    ScenarioOut,
)

MEASURABLE_KINDS = ("count", "sum")
MEASURED_MONTHS = 12


@dataclass(frozen=True, slots=True)
class Activity:
    # Disclosed: rounded to 5, or None when it rests on 1-7 (suppressed).
    value: float | None
    source: str


def measured_activity(
    store: FigureStore, metric_id: str, site_ids: list[uuid.UUID], now: datetime
) -> Activity:
    """A metric summed over the last 12 complete months for a framework's scope (its sites, or
    the network), then disclosed as every published count is."""
    months = last_months(shift_month(current_month(now), -1), MEASURED_MONTHS)
    figures = store.get(months)
    total = 0.0
    for month in months:
        grouped = figures[month].by_metric[metric_id]
        if not site_ids:
            total += grouped.total.numerator or 0.0
        else:
            total += sum(
                (grouped.groups[s].numerator or 0.0) for s in site_ids if s in grouped.groups
            )
    shown = disclose_count(total)
    where = "the network" if not site_ids else f"{len(site_ids)} site(s)"
    span = f"{months[0]} to {months[-1]}"
    if isinstance(shown, str):
        return Activity(
            None, f"measured: {metric_id} summed over {span} for {where}; suppressed (1-7)"
        )
    return Activity(
        float(shown),
        f"measured: {metric_id} summed over {span} for {where}, rounded to the nearest 5",
    )


def _checked(body: InterventionIn) -> dict[str, Any]:
    if body.qaly_per_person is not None and body.qaly_source is None:
        raise field_error("qaly_source", "name the source of the QALYs per person")
    if body.sourcing == "measured":
        if body.measured_metric is None:
            raise field_error("measured_metric", "a measured intervention names its metric")
        metric = REGISTRY.get(body.measured_metric)
        if metric is None:
            raise field_error(
                "measured_metric",
                f"unknown metric '{body.measured_metric}': see GET /api/v1/reports/metrics",
            )
        if metric.kind not in MEASURABLE_KINDS:
            raise field_error("measured_metric", "must be a count or sum metric, to add up")
        if body.yearly_activity is not None:
            raise field_error(
                "yearly_activity", "measured from the service: leave it out, or enter it"
            )
    else:
        if body.yearly_activity is None:
            raise field_error("yearly_activity", "an entered intervention gives its activity")
        if body.measured_metric is not None:
            raise field_error("measured_metric", "only measured interventions name a metric")
    return body.model_dump()


def _scope(version: ValueFrameworkVersion) -> list[uuid.UUID]:
    return [uuid.UUID(str(s)) for s in version.spec["site_ids"]]


def _out(row: Intervention, activity: Activity) -> InterventionOut:
    yearly_cost = None if activity.value is None else activity.value * row.unit_cost_gbp
    return InterventionOut(
        id=row.id,
        framework_id=row.framework_id,
        name=row.name,
        yearly_activity=activity.value,
        activity_source=activity.source,
        activity_unit=row.activity_unit,
        unit_cost_gbp=row.unit_cost_gbp,
        yearly_cost_gbp=None if yearly_cost is None else round(yearly_cost, 2),
        people_per_year=row.people_per_year,
        qaly_per_person=row.qaly_per_person,
        qaly_source=row.qaly_source,
        sourcing=row.sourcing,
        measured_metric=row.measured_metric,
        note=row.note,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _activity(
    row: Intervention, store: FigureStore, scope: list[uuid.UUID], now: datetime
) -> Activity:
    if row.sourcing == "entered":
        return Activity(row.yearly_activity, "entered")
    if row.measured_metric in REGISTRY:
        return measured_activity(store, row.measured_metric, scope, now)
    return Activity(None, f"measured: {row.measured_metric} is no longer reported")


def _rows(session: Session, framework_id: uuid.UUID) -> list[Intervention]:
    return list(
        session.scalars(
            select(Intervention)
            .where(Intervention.framework_id == framework_id)
            .order_by(Intervention.created_at, Intervention.name)
        ).all()
    )


def listing(
    session: Session, principal: Principal, now: datetime, framework_id: uuid.UUID
) -> list[InterventionOut]:
    _, version = framework_for(session, principal, framework_id, now=now)
    store = FigureStore(session, now)
    scope = _scope(version)
    return [_out(row, _activity(row, store, scope, now)) for row in _rows(session, framework_id)]


def create(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    framework_id: uuid.UUID,
    body: InterventionIn,
    store: FigureStore | None = None,
) -> InterventionOut:
    """Add an intervention; ``store``: figures already read in this run (the demo's)."""
    _, version = framework_for(session, principal, framework_id, write=True, now=now)
    values = _checked(body)
    row = Intervention(
        id=uuid.uuid4(),
        framework_id=framework_id,
        created_at=now,
        created_by=principal.user_id,
        updated_at=now,
        **values,
    )
    session.add(row)
    session.flush()
    audit_change(
        session, route, principal, "C", now, f"intervention:{row.id} framework={framework_id}"
    )
    store = store or FigureStore(session, now)
    return _out(row, _activity(row, store, _scope(version), now))


def _intervention(
    session: Session, framework_id: uuid.UUID, intervention_id: uuid.UUID
) -> Intervention:
    row = session.get(Intervention, intervention_id)
    if row is None or row.framework_id != framework_id:
        raise NotFound("No such intervention.")
    return row


FIELDS = tuple(InterventionIn.model_fields)


def patch(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    framework_id: uuid.UUID,
    intervention_id: uuid.UUID,
    body: InterventionPatch,
) -> InterventionOut:
    _, version = framework_for(session, principal, framework_id, write=True, now=now)
    row = _intervention(session, framework_id, intervention_id)
    before = {name: getattr(row, name) for name in FIELDS}
    stored = {k: v for k, v in before.items() if v is not None}
    merged = changes.merge_patch(stored, body.model_dump(exclude_unset=True))
    values = _checked(validated(merged, InterventionIn))
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at = now
    session.flush()
    changed = sorted(k for k in FIELDS if before[k] != values[k])
    audit_change(
        session, route, principal, "U", now, f"intervention:{row.id} changed {','.join(changed)}"
    )
    return _out(row, _activity(row, FigureStore(session, now), _scope(version), now))


def remove(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    framework_id: uuid.UUID,
    intervention_id: uuid.UUID,
) -> None:
    framework_for(session, principal, framework_id, write=True, now=now)
    row = _intervention(session, framework_id, intervention_id)
    session.delete(row)
    session.flush()
    audit_change(session, route, principal, "D", now, f"intervention:{row.id} deleted")


# --- scenarios ---------------------------------------------------------------------------------


def compute_scenario(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    framework_id: uuid.UUID,
    body: ScenarioIn,
    store: FigureStore | None = None,
) -> ScenarioOut:
    """Work out a scenario from the register as it is now, keep it, and answer it."""
    framework, version = framework_for(session, principal, framework_id, write=True, now=now)
    store = store or FigureStore(session, now)
    scope = _scope(version)
    rows = {str(r.id): r for r in _rows(session, framework_id)}
    figures: list[star.InterventionFigures] = []
    moves: list[star.Change] = []
    for i, change in enumerate(body.changes):
        field = f"changes.{i}"
        row = rows.get(str(change.intervention_id))
        if row is None:
            raise field_error(f"{field}.intervention_id", "no such intervention in the framework")
        if change.action == "stabilise" and change.by is not None:
            raise field_error(f"{field}.by", "stabilise keeps activity as it is: give no 'by'")
        if change.action != "stabilise" and change.by is None:
            raise field_error(f"{field}.by", f"say how much to {change.action} by")
        activity = _activity(row, store, scope, now)
        if activity.value is None:
            raise field_error(
                f"{field}.intervention_id",
                "its measured activity is suppressed (1-7): too small to model",
            )
        figures.append(
            star.InterventionFigures(
                id=str(row.id),
                name=row.name,
                yearly_activity=activity.value,
                activity_unit=row.activity_unit,
                unit_cost_gbp=row.unit_cost_gbp,
                people_per_year=row.people_per_year,
                qaly_per_person=row.qaly_per_person,
                qaly_source=row.qaly_source,
            )
        )
        moves.append(star.Change(str(row.id), change.action, change.by or 0.0))
    try:
        result = star.scenario(figures, moves)
    except star.InvalidChange as exc:
        raise field_error(exc.field, exc.message) from exc
    scenario = StarScenario(
        id=uuid.uuid4(),
        framework_id=framework.id,
        framework_version=version.version,
        name=body.name or f"Scenario of {now:%Y-%m-%d %H:%M}",
        changes=[c.model_dump(mode="json") for c in body.changes],
        result=asdict(result),
        created_at=now,
        created_by=principal.user_id,
    )
    session.add(scenario)
    session.flush()
    audit_change(
        session, route, principal, "C", now, f"star_scenario:{scenario.id} framework={framework.id}"
    )
    return ScenarioOut.model_validate(scenario, from_attributes=True)


def scenarios(
    session: Session, principal: Principal, framework_id: uuid.UUID, now: datetime | None = None
) -> list[ScenarioOut]:
    framework_for(session, principal, framework_id, now=now)
    rows = session.scalars(
        select(StarScenario)
        .where(StarScenario.framework_id == framework_id)
        .order_by(StarScenario.created_at.desc(), StarScenario.id)
    ).all()
    return [ScenarioOut.model_validate(r, from_attributes=True) for r in rows]
