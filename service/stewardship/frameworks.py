"""Value frameworks as use cases: create, read, list, change (a new version each time), and the
version in force for a month, which the dashboard reads.

Who: a programme lead or a network admin may create and change any framework; a site admin or
site lead only one whose scope is exactly their own site (a network framework, or another site:
403). Staff read the frameworks whose scope includes a site of theirs (a clinician's teams'
sites, a site admin's or site lead's site), every network framework and any framework an
approved access request granted them (read paths that pass ``now``); others are answered 404,
as another team's patient is. Every create and change is in the audit trail.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import Select, delete, exists, false, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from service import changes
from service.access import audit_change
from service.access_requests.grants import granted_targets
from service.deps import Principal
from service.models import Site, Team, ValueFramework, ValueFrameworkSite, ValueFrameworkVersion
from service.problems import Conflict, Forbidden, NotFound, Unprocessable, field_error
from service.reports.groups import EQUITY_DIMENSIONS
from service.reports.metrics import REGISTRY
from service.stewardship.schemas import FrameworkIn, FrameworkOut, FrameworkPatch
from service.stewardship.spec import (
    RESOURCE_METRICS,
    FrameworkSpec,
    OutcomeSpec,
    Population,
    Resources,
)
from service.stewardship.unit_costs import NETWORK_ROLES, SITE_STEWARDS

M = TypeVar("M", bound=BaseModel)


# --- who may see and change what ---------------------------------------------------------------


def visible(session: Session, principal: Principal, now: datetime | None = None) -> Select[Any]:
    """The ids of the frameworks the caller may read, as one SQL query: network frameworks,
    those naming a site of the caller's (a clinician's teams' sites, a site admin's or site
    lead's site) and, given ``now``, those an access request granted them until then."""
    query = select(ValueFramework.id)
    if principal.role in NETWORK_ROLES:
        return query
    mine: ColumnElement[bool]
    if principal.role == "clinician":
        mine = ValueFrameworkSite.site_id.in_(
            select(Team.site_id).where(Team.id.in_(principal.team_ids))
        )
    elif principal.role in SITE_STEWARDS and principal.site_id is not None:
        mine = ValueFrameworkSite.site_id == principal.site_id
    else:
        return query.where(false())
    scoped = exists().where(ValueFrameworkSite.framework_id == ValueFramework.id)
    named = exists().where(ValueFrameworkSite.framework_id == ValueFramework.id, mine)
    if now is None or principal.user_id is None:
        return query.where(or_(~scoped, named))
    granted = ValueFramework.id.in_(granted_targets(principal, "value_framework", now))
    return query.where(or_(~scoped, named, granted))


def may_write(principal: Principal, site_ids: list[uuid.UUID] | tuple[uuid.UUID, ...]) -> bool:
    """A grant never opens a change: it is read access to one framework."""
    if principal.role in NETWORK_ROLES:
        return True
    return (
        principal.role in SITE_STEWARDS
        and principal.site_id is not None
        and list(site_ids) == [principal.site_id]
    )


def framework_for(
    session: Session,
    principal: Principal,
    framework_id: uuid.UUID,
    *,
    write: bool = False,
    now: datetime | None = None,
) -> tuple[ValueFramework, ValueFrameworkVersion]:
    """A framework the caller may read (404 otherwise; with ``now``, a granted one too) and its
    current version; with ``write``, 403 unless the caller may also change it."""
    found = session.scalar(
        visible(session, principal, now).where(ValueFramework.id == framework_id)
    )
    framework = session.get(ValueFramework, framework_id) if found else None
    if framework is None:
        raise NotFound("No such value framework.")
    current = session.get(ValueFrameworkVersion, (framework.id, framework.current_version))
    assert current is not None
    if write and not may_write(principal, _site_ids(current.spec)):
        raise Forbidden("Site admins and site leads change only their own site's frameworks.")
    return framework, current


# --- the spec as stored and as values ----------------------------------------------------------


def _site_ids(spec: dict[str, Any]) -> list[uuid.UUID]:
    return [uuid.UUID(str(s)) for s in spec.get("site_ids", [])]


def spec_of(stored: dict[str, Any]) -> FrameworkSpec:
    population = stored["population"]
    resources = stored["resources"]
    return FrameworkSpec(
        name=stored["name"],
        site_ids=tuple(_site_ids(stored)),
        aim=stored["aim"],
        objectives=tuple(stored["objectives"]),
        population=Population(tuple(population["cohorts"]), population["description"]),
        resources=Resources(resources["team_wte"], resources.get("budget_gbp"), resources["note"]),
        outcomes=tuple(
            OutcomeSpec(
                domain=o["domain"],
                metric=o["metric"],
                target=o["target"],
                direction=o["direction"],
                equity_split=o.get("equity_split"),
                note=o.get("note", ""),
            )
            for o in stored["outcomes"]
        ),
    )


def checked(session: Session, body: FrameworkIn) -> dict[str, Any]:
    """The body as stored, once every outcome and site is known (422 naming the field)."""
    for i, outcome in enumerate(body.outcomes):
        where = f"outcomes.{i}"
        if outcome.metric not in REGISTRY and outcome.metric not in RESOURCE_METRICS:
            raise field_error(
                f"{where}.metric",
                f"unknown metric '{outcome.metric}': see GET /api/v1/reports/metrics",
            )
        if outcome.domain == "inequalities" and outcome.equity_split is None:
            raise field_error(
                f"{where}.equity_split",
                "an inequalities outcome names the split it is judged on: "
                + ", ".join(EQUITY_DIMENSIONS),
            )
        if outcome.domain != "inequalities" and outcome.equity_split is not None:
            raise field_error(f"{where}.equity_split", "only inequalities outcomes take a split")
        metric = REGISTRY.get(outcome.metric)
        if outcome.domain == "inequalities" and (metric is None or not metric.comparable):
            # A gap between groups of different sizes means something only for a figure that
            # is already per person: a proportion, a rate, a median.
            raise field_error(
                f"{where}.metric",
                "an inequalities outcome compares groups: choose a proportion, rate, median or "
                "percentile metric",
            )
    if len(set(body.site_ids)) != len(body.site_ids):
        raise field_error("site_ids", "a site is named twice")
    if body.site_ids:
        known = set(session.scalars(select(Site.id).where(Site.id.in_(body.site_ids))).all())
        for i, site_id in enumerate(body.site_ids):
            if site_id not in known:
                raise field_error(f"site_ids.{i}", f"no such site: {site_id}")
    return body.model_dump(mode="json")


def validated(merged: Any, model: type[M]) -> M:
    """A merged patch validated as a whole body; every error named by its field path."""
    try:
        return model.model_validate(merged)
    except ValidationError as exc:
        errors = [
            {
                "field": ".".join(str(p) for p in e["loc"]) or "body",
                "message": str(e["msg"]),
                "type": str(e["type"]),
            }
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise Unprocessable(detail, extra={"errors": errors}) from exc


def _set_scope(session: Session, framework_id: uuid.UUID, site_ids: list[uuid.UUID]) -> None:
    session.execute(
        delete(ValueFrameworkSite).where(ValueFrameworkSite.framework_id == framework_id)
    )
    session.add_all(ValueFrameworkSite(framework_id=framework_id, site_id=s) for s in site_ids)


def out(framework: ValueFramework, version: ValueFrameworkVersion) -> FrameworkOut:
    spec = version.spec
    return FrameworkOut(
        id=framework.id,
        version=version.version,
        is_network=not spec["site_ids"],
        created_at=framework.created_at,
        version_created_at=version.created_at,
        version_created_by=version.created_by,
        **spec,
    )


# --- use cases ---------------------------------------------------------------------------------


def create(
    session: Session, principal: Principal, route: str, now: datetime, body: FrameworkIn
) -> FrameworkOut:
    if not may_write(principal, body.site_ids):
        raise Forbidden("Site admins create frameworks for exactly their own site.")
    spec = checked(session, body)
    framework = ValueFramework(
        id=uuid.uuid4(), current_version=1, created_at=now, created_by=principal.user_id
    )
    version = ValueFrameworkVersion(
        framework_id=framework.id,
        version=1,
        spec=spec,
        created_at=now,
        created_by=principal.user_id,
    )
    session.add(framework)
    session.flush()
    session.add(version)
    _set_scope(session, framework.id, body.site_ids)
    session.flush()
    audit_change(session, route, principal, "C", now, f"value_framework:{framework.id} created v1")
    return out(framework, version)


def patch(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    framework_id: uuid.UUID,
    body: FrameworkPatch,
) -> FrameworkOut:
    """A new version: the current one merged with the patch (RFC 7396), validated whole."""
    framework, current = framework_for(session, principal, framework_id, write=True, now=now)
    patch_json = body.model_dump(exclude_unset=True, mode="json")
    based_on = patch_json.pop("version", None)
    if based_on is not None and based_on != current.version:
        raise Conflict("The framework was changed by someone else: reload and try again.")
    merged = validated(changes.merge_patch(current.spec, patch_json), FrameworkIn)
    if not may_write(principal, merged.site_ids):
        raise Forbidden("Site admins keep a framework to exactly their own site.")
    spec = checked(session, merged)
    if spec == current.spec:
        return out(framework, current)
    version = ValueFrameworkVersion(
        framework_id=framework.id,
        version=current.version + 1,
        spec=spec,
        created_at=now,
        created_by=principal.user_id,
    )
    # Two changes from the same version: the second finds it moved on (409), never a clash.
    moved = session.execute(
        update(ValueFramework)
        .where(
            ValueFramework.id == framework.id,
            ValueFramework.current_version == current.version,
        )
        .values(current_version=version.version)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("The framework was changed by someone else: reload and try again.")
    session.add(version)
    framework.current_version = version.version
    _set_scope(session, framework.id, merged.site_ids)
    session.flush()
    fields = ",".join(sorted(k for k in patch_json if spec.get(k) != current.spec.get(k)))
    audit_change(
        session,
        route,
        principal,
        "U",
        now,
        f"value_framework:{framework.id} v{version.version} changed {fields}",
    )
    return out(framework, version)


def read(
    session: Session, principal: Principal, framework_id: uuid.UUID, now: datetime | None = None
) -> FrameworkOut:
    return out(*framework_for(session, principal, framework_id, now=now))


def listing(
    session: Session, principal: Principal, now: datetime | None = None
) -> list[FrameworkOut]:
    """The frameworks the caller may read (with ``now``, granted ones too), each at its current
    version, by name."""
    rows = session.execute(
        select(ValueFramework, ValueFrameworkVersion)
        .join(
            ValueFrameworkVersion,
            (ValueFrameworkVersion.framework_id == ValueFramework.id)
            & (ValueFrameworkVersion.version == ValueFramework.current_version),
        )
        .where(ValueFramework.id.in_(visible(session, principal, now)))
        .order_by(ValueFramework.created_at, ValueFramework.id)
    ).all()
    return sorted((out(f, v) for f, v in rows), key=lambda f: f.name.lower())


def versions(
    session: Session, principal: Principal, framework_id: uuid.UUID, now: datetime | None = None
) -> list[ValueFrameworkVersion]:
    framework, _ = framework_for(session, principal, framework_id, now=now)
    return list(
        session.scalars(
            select(ValueFrameworkVersion)
            .where(ValueFrameworkVersion.framework_id == framework.id)
            .order_by(ValueFrameworkVersion.version.desc())
        ).all()
    )


def spec_for_month(
    session: Session, framework_id: uuid.UUID, month_end: datetime
) -> tuple[int, FrameworkSpec]:
    """The version in force at a month's end: the latest created on or before it, else the
    first (a framework agreed mid-year is shown against the months before it too)."""
    latest = (
        select(func.max(ValueFrameworkVersion.version))
        .where(
            ValueFrameworkVersion.framework_id == framework_id,
            ValueFrameworkVersion.created_at <= month_end,
        )
        .scalar_subquery()
    )
    row = session.scalar(
        select(ValueFrameworkVersion).where(
            ValueFrameworkVersion.framework_id == framework_id,
            ValueFrameworkVersion.version == func.coalesce(latest, 1),
        )
    )
    if row is None:
        raise NotFound("No such value framework.")
    return row.version, spec_of(row.spec)
