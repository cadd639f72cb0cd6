"""The caseload route: a team's patients with their latest figures (clinicians of the team)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from service.access import route_of
from service.deps import NowDep, Principal, SessionDep, require
from service.patients.caseload import CaseloadPage, CaseloadQuery, Sort, Status, caseload

router = APIRouter(prefix="/api/v1/caseload", tags=["patients"])
Clinician = Annotated[Principal, Depends(require("clinician"))]


@router.get(
    "",
    response_model=CaseloadPage,
    summary="The caller's teams' patients with last weight, 14-day adherence, open alerts and "
    "next review; searched, filtered, sorted and paged (clinician)",
    description="`q` matches the start of an NHS number (spaces allowed) or part of a name. "
    "`status` may be repeated; `quiet_days` keeps the patients with no reading of any kind in "
    "that many days. Without `order`, `sort=alerts` (the default) puts red alerts first, then "
    "most open alerts; every other sort is ascending. The read of the page's patients is "
    "audited.",
)
def get_caseload(
    request: Request,
    session: SessionDep,
    principal: Clinician,
    now: NowDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    team_id: uuid.UUID | None = None,
    cohort: Annotated[
        str | None,
        Query(pattern="^(new_diagnosis|post_discharge|medication_optimisation|palliative)$"),
    ] = None,
    patient_status: Annotated[list[Status] | None, Query(alias="status")] = None,
    quiet_days: Annotated[int | None, Query(ge=1, le=365)] = None,
    sort: Sort = "alerts",
    order: Annotated[str | None, Query(pattern="^(asc|desc)$")] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CaseloadPage:
    query = CaseloadQuery(
        search=q,
        team_id=team_id,
        cohort=cohort,
        statuses=tuple(patient_status or ()),
        quiet_days=quiet_days,
        sort=sort,
        descending=None if order is None else order == "desc",
        page=page,
        limit=limit,
    )
    return caseload(session, principal, route_of(request), now, query)
