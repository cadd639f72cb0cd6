"""The stewardship routes: a site's unit costs, value frameworks and their versions, the STAR
register of interventions and its scenarios. Each parses the request and calls a use case."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from service.access import route_of
from service.deps import NowDep, Principal, SessionDep, require
from service.stewardship import frameworks, interventions, unit_costs
from service.stewardship.schemas import (
    FrameworkIn,
    FrameworkOut,
    FrameworkPatch,
    FrameworkVersionOut,
    InterventionIn,
    InterventionOut,
    InterventionPatch,
    ScenarioIn,
    ScenarioOut,
    UnitCostsIn,
    UnitCostsOut,
)

router = APIRouter(prefix="/api/v1", tags=["stewardship"])
Reader = Annotated[
    Principal,
    Depends(require("clinician", "programme_lead", "admin", "site_admin", "site_lead")),
]
Steward = Annotated[
    Principal, Depends(require("programme_lead", "admin", "site_admin", "site_lead"))
]
SCOPE = (
    "Clinicians, site admins and site leads read the frameworks of their sites, the network's "
    "and any an approved access request granted them; programme leads and admins every one. "
    "Programme leads and admins change any; a site admin or site lead only one scoped to "
    "exactly their site (403 otherwise). Another site's framework is 404."
)


@router.get(
    "/sites/{site_id}/unit-costs",
    response_model=UnitCostsOut,
    summary="A site's unit costs in force, with the national defaults and their sources "
    "(programme lead, admin; site admin and clinicians of the site)",
)
def get_unit_costs(site_id: uuid.UUID, session: SessionDep, principal: Reader) -> UnitCostsOut:
    costs, defaults = unit_costs.unit_costs(session, principal, site_id)
    return UnitCostsOut(site_id=site_id, costs=costs, defaults=defaults)


@router.put(
    "/sites/{site_id}/unit-costs",
    response_model=UnitCostsOut,
    summary="Set a site's own unit costs (programme lead, admin, site admin of the site)",
    description="Any of the costs, in GBP (0 or more); null goes back to the national default, "
    "a cost left out is kept. `source` names where the numbers come from (`sources` per cost). "
    "Every change is kept in the site's settings history (GET /api/v1/sites/{site_id}).",
)
def put_unit_costs(
    site_id: uuid.UUID,
    body: UnitCostsIn,
    request: Request,
    session: SessionDep,
    principal: Steward,
    now: NowDep,
) -> UnitCostsOut:
    unit_costs.set_unit_costs(session, principal, route_of(request), now, site_id, body)
    costs, defaults = unit_costs.unit_costs(session, principal, site_id)
    return UnitCostsOut(site_id=site_id, costs=costs, defaults=defaults)


@router.get(
    "/value-frameworks",
    response_model=list[FrameworkOut],
    summary="The value frameworks the caller may read, each at its current version (staff)",
    description=SCOPE,
)
def list_frameworks(session: SessionDep, principal: Reader, now: NowDep) -> list[FrameworkOut]:
    return frameworks.listing(session, principal, now)


@router.post(
    "/value-frameworks",
    status_code=status.HTTP_201_CREATED,
    response_model=FrameworkOut,
    summary="Agree a value framework: version 1 (programme lead, admin; site admin, site lead: "
    "own site)",
    description=SCOPE,
)
def create_framework(
    body: FrameworkIn, request: Request, session: SessionDep, principal: Steward, now: NowDep
) -> FrameworkOut:
    return frameworks.create(session, principal, route_of(request), now, body)


@router.get(
    "/value-frameworks/{framework_id}",
    response_model=FrameworkOut,
    summary="A value framework at its current version (staff who may read it)",
    description=SCOPE,
)
def get_framework(
    framework_id: uuid.UUID, session: SessionDep, principal: Reader, now: NowDep
) -> FrameworkOut:
    return frameworks.read(session, principal, framework_id, now)


@router.patch(
    "/value-frameworks/{framework_id}",
    response_model=FrameworkOut,
    summary="Change a value framework by JSON Merge Patch: a new version, the old kept "
    "(programme lead, admin; site admin, site lead: own site)",
    description="RFC 7396: a member left out is kept, null removes it, lists are replaced "
    "whole; the result is validated as a whole and a refusal names the field. " + SCOPE,
)
def patch_framework(
    framework_id: uuid.UUID,
    body: FrameworkPatch,
    request: Request,
    session: SessionDep,
    principal: Steward,
    now: NowDep,
) -> FrameworkOut:
    return frameworks.patch(session, principal, route_of(request), now, framework_id, body)


@router.get(
    "/value-frameworks/{framework_id}/versions",
    response_model=list[FrameworkVersionOut],
    summary="Every version of a value framework, newest first (staff who may read it)",
)
def framework_versions(
    framework_id: uuid.UUID, session: SessionDep, principal: Reader, now: NowDep
) -> list[FrameworkVersionOut]:
    rows = frameworks.versions(session, principal, framework_id, now)
    return [FrameworkVersionOut.model_validate(r, from_attributes=True) for r in rows]


@router.get(
    "/value-frameworks/{framework_id}/interventions",
    response_model=list[InterventionOut],
    summary="A framework's STAR register: interventions with yearly activity and cost "
    "(staff who may read it)",
    description="A measured intervention's activity is its report metric summed over the last "
    "12 complete months for the framework's sites (or the network), rounded to 5 and "
    "suppressed at 1-7 as every published count is.",
)
def list_interventions(
    framework_id: uuid.UUID, session: SessionDep, principal: Reader, now: NowDep
) -> list[InterventionOut]:
    return interventions.listing(session, principal, now, framework_id)


@router.post(
    "/value-frameworks/{framework_id}/interventions",
    status_code=status.HTTP_201_CREATED,
    response_model=InterventionOut,
    summary="Add an intervention to a framework's register (those who may change it)",
)
def create_intervention(
    framework_id: uuid.UUID,
    body: InterventionIn,
    request: Request,
    session: SessionDep,
    principal: Steward,
    now: NowDep,
) -> InterventionOut:
    return interventions.create(session, principal, route_of(request), now, framework_id, body)


@router.patch(
    "/value-frameworks/{framework_id}/interventions/{intervention_id}",
    response_model=InterventionOut,
    summary="Change an intervention by JSON Merge Patch (those who may change the framework)",
)
def patch_intervention(
    framework_id: uuid.UUID,
    intervention_id: uuid.UUID,
    body: InterventionPatch,
    request: Request,
    session: SessionDep,
    principal: Steward,
    now: NowDep,
) -> InterventionOut:
    return interventions.patch(
        session, principal, route_of(request), now, framework_id, intervention_id, body
    )


@router.delete(
    "/value-frameworks/{framework_id}/interventions/{intervention_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an intervention (those who may change the framework)",
)
def delete_intervention(
    framework_id: uuid.UUID,
    intervention_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Steward,
    now: NowDep,
) -> Response:
    interventions.remove(session, principal, route_of(request), now, framework_id, intervention_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/value-frameworks/{framework_id}/scenarios",
    status_code=status.HTTP_201_CREATED,
    response_model=ScenarioOut,
    summary="Work out and keep a STAR scenario: stabilise, reduce or increase interventions "
    "(those who may change the framework)",
    description="Answers each move's change in activity, cost and QALYs, its cost per QALY "
    "against NICE's GBP 20,000-30,000 threshold, the totals, and the assumptions in words "
    "(service/stewardship/star.py).",
)
def create_scenario(
    framework_id: uuid.UUID,
    body: ScenarioIn,
    request: Request,
    session: SessionDep,
    principal: Steward,
    now: NowDep,
) -> ScenarioOut:
    return interventions.compute_scenario(
        session, principal, route_of(request), now, framework_id, body
    )


@router.get(
    "/value-frameworks/{framework_id}/scenarios",
    response_model=list[ScenarioOut],
    summary="A framework's saved STAR scenarios, newest first (staff who may read it)",
)
def list_scenarios(
    framework_id: uuid.UUID, session: SessionDep, principal: Reader, now: NowDep
) -> list[ScenarioOut]:
    return interventions.scenarios(session, principal, framework_id, now)
