"""A site's unit costs as use cases: who may read and set them, the costs in force, and the
history of every change (kept with the site's other settings, ``service.changes``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from service import changes
from service.access import audit_change
from service.deps import Principal
from service.models import Site, SiteUnitCost, Team
from service.problems import NotFound, field_error
from service.stewardship.costs import (
    COST_KEYS,
    DEFAULT_UNIT_COSTS,
    CostInForce,
    CostKey,
    in_force,
)
from service.stewardship.schemas import (
    DefaultCostOut,
    UnitCostOut,
    UnitCostsIn,
)

# The source a number is stored with when the caller names none.
UNNAMED_SOURCE = "Set by the site"
NETWORK_ROLES = ("programme_lead", "admin")
# The stewards of one site (``Principal.site_id``): they read and set its costs and frameworks.
SITE_STEWARDS = ("site_admin", "site_lead")


def clinician_site_ids(session: Session, principal: Principal) -> set[uuid.UUID]:
    """The sites of the caller's teams."""
    if not principal.team_ids:
        return set()
    query = select(Team.site_id).where(Team.id.in_(principal.team_ids)).distinct()
    return set(session.scalars(query).all())


def may_read_site(session: Session, principal: Principal, site_id: uuid.UUID) -> bool:
    if principal.role in NETWORK_ROLES:
        return True
    if principal.role in SITE_STEWARDS:
        return principal.site_id == site_id
    if principal.role == "clinician" and principal.team_ids:
        return bool(
            session.scalar(
                select(exists().where(Team.id.in_(principal.team_ids), Team.site_id == site_id))
            )
        )
    return False


def may_write_site(principal: Principal, site_id: uuid.UUID) -> bool:
    if principal.role in NETWORK_ROLES:
        return True
    return principal.role in SITE_STEWARDS and principal.site_id == site_id


def _site(session: Session, principal: Principal, site_id: uuid.UUID, *, write: bool) -> Site:
    site = session.get(Site, site_id)
    allowed = (
        may_write_site(principal, site_id) if write else may_read_site(session, principal, site_id)
    )
    if site is None or not allowed:
        raise NotFound("No such site.")
    return site


def overrides(session: Session, site_id: uuid.UUID) -> dict[CostKey, SiteUnitCost]:
    rows = session.scalars(select(SiteUnitCost).where(SiteUnitCost.site_id == site_id)).all()
    return {row.key: row for row in rows}  # type: ignore[misc]


def costs_in_force(session: Session, site_id: uuid.UUID) -> dict[CostKey, CostInForce]:
    """Every unit cost at a site: its own figure where set, else the national default (what a
    dashboard multiplies counts by)."""
    own = overrides(session, site_id)
    return in_force({key: (row.gbp, row.source) for key, row in own.items()})


def _as_json(rows: dict[CostKey, SiteUnitCost]) -> dict[str, Any] | None:
    return {key: {"gbp": r.gbp, "source": r.source} for key, r in sorted(rows.items())} or None


def unit_costs(
    session: Session, principal: Principal, site_id: uuid.UUID
) -> tuple[dict[CostKey, UnitCostOut], dict[CostKey, DefaultCostOut]]:
    """The costs in force at a site and the national defaults (404 outside the caller's sites)."""
    _site(session, principal, site_id, write=False)
    own = overrides(session, site_id)
    forced = in_force({key: (row.gbp, row.source) for key, row in own.items()})
    costs = {
        key: UnitCostOut(
            key=key,
            title=DEFAULT_UNIT_COSTS[key].title,
            gbp=cost.gbp,
            overridden=cost.overridden,
            source=cost.source,
            year=cost.year or (own[key].updated_at.strftime("%Y") if key in own else ""),
            updated_at=own[key].updated_at if key in own else None,
        )
        for key, cost in forced.items()
    }
    defaults = {
        key: DefaultCostOut(key=key, title=d.title, gbp=d.gbp, source=d.source, year=d.year)
        for key, d in DEFAULT_UNIT_COSTS.items()
    }
    return costs, defaults


def set_unit_costs(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    site_id: uuid.UUID,
    body: UnitCostsIn,
) -> None:
    """Set, change or clear (null) a site's own unit costs; members left out are kept."""
    site = _site(session, principal, site_id, write=True)
    given = body.model_dump(exclude_unset=True)
    sources = body.sources or {}
    before_rows = overrides(session, site.id)
    before = _as_json(before_rows)
    for key in sources:
        if given.get(key) is None and key not in before_rows:
            raise field_error(
                f"sources.{key}", "the site has no cost of its own here to name a source for"
            )
    for key in COST_KEYS:
        if key not in given:
            if key in sources:
                before_rows[key].source = sources[key]
                before_rows[key].updated_at, before_rows[key].updated_by = now, principal.user_id
            continue
        value = given[key]
        if value is None:
            session.execute(
                delete(SiteUnitCost).where(SiteUnitCost.site_id == site.id, SiteUnitCost.key == key)
            )
            continue
        source = sources.get(key) or body.source or UNNAMED_SOURCE
        row = before_rows.get(key)
        if row is None:
            session.add(
                SiteUnitCost(
                    site_id=site.id,
                    key=key,
                    gbp=float(value),
                    source=source,
                    updated_at=now,
                    updated_by=principal.user_id,
                )
            )
        else:
            row.gbp, row.source = float(value), source
            row.updated_at, row.updated_by = now, principal.user_id
    session.flush()
    session.expire_all()
    after = _as_json(overrides(session, site.id))
    if after != before:
        changes.record(
            session, "site", site.id, "unit_costs", before, after, principal.user_id, now
        )
        audit_change(session, route, principal, "U", now, f"site:{site.id} unit_costs={after}")
