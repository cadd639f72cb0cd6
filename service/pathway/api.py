"""The pathway in force: version, rules and thresholds, by default or as a site runs it."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

import pathway
from service.contract import RATE_LIMITED
from service.deps import Principal, SessionDep, require
from service.models import Patient, Site, Team
from service.problems import NotFound
from service.readings import evaluation

router = APIRouter(prefix="/api/v1", tags=["pathway"])


@router.get(
    "/pathway",
    summary="Pathway version, rules and thresholds, by default or for a site (any signed-in "
    "caller; a patient: their own site)",
    description="With site_id: the site's effective rules and thresholds (the defaults with "
    "the site's overrides applied, as ingest applies them) and the version string the findings "
    "raised at that site carry.",
    responses={429: RATE_LIMITED},
)
def get_pathway(
    principal: Annotated[
        Principal,
        Depends(
            require("patient", "clinician", "programme_lead", "admin", "site_admin", "site_lead")
        ),
    ],
    session: SessionDep,
    site_id: Annotated[uuid.UUID | None, Query()] = None,
) -> dict[str, Any]:
    if site_id is None:
        return pathway.describe(pathway.default_pathway())
    site = session.get(Site, site_id)
    if site is None or not _may_see(session, principal, site.id):
        raise NotFound("No such site.")
    return {
        "site_id": str(site.id),
        **pathway.describe(evaluation.config_for(site.pathway_overrides)),
    }


def _may_see(session: Session, principal: Principal, site_id: uuid.UUID) -> bool:
    # A site's settings are not patient data; a patient is shown only their own site's, so a
    # patient's app cannot list which sites exist.
    if principal.role != "patient":
        return True
    own = session.scalar(
        select(Team.site_id)
        .join(Patient, Patient.team_id == Team.id)
        .where(Patient.id == principal.patient_id)
    )
    return own == site_id
