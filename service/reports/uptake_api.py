"""A site's eligible population (load, list) and the uptake report: who is being missed."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import BaseModel

from service.access import route_of
from service.deps import NowDep, Principal, SessionDep, require
from service.models import EligiblePopulationCount, EligiblePopulationLoad
from service.problems import Problem
from service.reports import population
from service.reports.figures import FigureStore
from service.reports.period import report_month
from service.reports.uptake import ENROLLED_METRIC, uptake_report

router = APIRouter(prefix="/api/v1")

Steward = Annotated[Principal, Depends(require("programme_lead", "admin", "site_admin"))]
Lead = Annotated[Principal, Depends(require("programme_lead"))]
CSV_MEDIA = "text/csv"
JSON_MEDIA = "application/json"


class UnsupportedMediaType(Problem):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class EligibleGroupOut(BaseModel):
    dimension: str
    group: str
    count: int


class EligibleLoadOut(BaseModel):
    id: uuid.UUID
    site_id: uuid.UUID
    as_of: date
    source: str
    loaded_at: datetime
    loaded_by: uuid.UUID | None
    groups: list[EligibleGroupOut]


def _out(load: EligiblePopulationLoad, counts: list[EligiblePopulationCount]) -> EligibleLoadOut:
    return EligibleLoadOut(
        id=load.id,
        site_id=load.site_id,
        as_of=load.as_of,
        source=load.source,
        loaded_at=load.loaded_at,
        loaded_by=load.loaded_by,
        groups=[
            EligibleGroupOut(dimension=c.dimension, group=c.grp, count=c.people) for c in counts
        ],
    )


async def _body(request: Request) -> bytes:
    return await request.body()


_GROUP_SCHEMA = {
    "type": "object",
    "required": ["dimension", "group", "count"],
    "additionalProperties": False,
    "properties": {
        "dimension": {"type": "string", "enum": ["imd_quintile", "ethnicity", "age_band", "sex"]},
        "group": {"type": "string"},
        "count": {"type": "integer", "minimum": 0},
    },
}
_LOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            JSON_MEDIA: {
                "schema": {
                    "type": "object",
                    "required": ["as_of", "source", "groups"],
                    "additionalProperties": False,
                    "properties": {
                        "as_of": {"type": "string", "format": "date"},
                        "source": {"type": "string", "maxLength": population.SOURCE_MAX},
                        "groups": {"type": "array", "items": _GROUP_SCHEMA},
                    },
                }
            },
            CSV_MEDIA: {
                "schema": {"type": "string"},
                "example": "dimension,group,count\nsex,female,410\nsex,male,455\n"
                "sex,other,0\nsex,unknown,5\n",
            },
        },
    }
}
LOAD_RULES = (
    "JSON `{as_of, source, groups: [{dimension, group, count}]}`, or CSV (`Content-Type: "
    "text/csv`) with the header `dimension,group,count`, `as_of` and `source` as query "
    "parameters. Groups are named as the equity splits name them. A dimension given is given "
    "whole (every group, 0 where nobody), and every dimension given adds up to the same people. "
    "Every error is reported at once, each naming its field (`groups[2].count`) or CSV line "
    "(`line 3.count`, the header is line 1), and a load with any error stores nothing. Loads "
    "are kept: a month's uptake reads the latest dated on or before its last day."
)


@router.post(
    "/sites/{site_id}/eligible-population",
    status_code=status.HTTP_201_CREATED,
    response_model=EligibleLoadOut,
    tags=["reports"],
    summary="Load a site's eligible population by equity group, JSON or CSV "
    "(programme lead, admin, site admin of the site)",
    description=LOAD_RULES,
    openapi_extra=_LOAD_BODY,
)
def load_eligible_population(
    site_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Steward,
    now: NowDep,
    body: Annotated[bytes, Depends(_body)],
    as_of: Annotated[str | None, Query(max_length=10, description="CSV only")] = None,
    source: Annotated[str | None, Query(max_length=500, description="CSV only")] = None,
) -> EligibleLoadOut:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == CSV_MEDIA:
        given = population.from_csv(body, as_of, source)
    elif media == JSON_MEDIA:
        if as_of is not None or source is not None:
            # One place for each value: a JSON load carries them in its body.
            raise population.query_given_with_json()
        given = population.from_json(body)
    else:
        raise UnsupportedMediaType("Send application/json or text/csv.")
    load = population.add_load(session, principal, route_of(request), now, site_id, given)
    ((stored, counts),) = [
        pair for pair in population.loads(session, principal, site_id) if pair[0].id == load.id
    ]
    return _out(stored, counts)


@router.get(
    "/sites/{site_id}/eligible-population",
    response_model=list[EligibleLoadOut],
    tags=["reports"],
    summary="A site's eligible-population loads, newest first "
    "(programme lead, admin, site admin of the site)",
)
def list_eligible_population(
    site_id: uuid.UUID, session: SessionDep, principal: Steward
) -> list[EligibleLoadOut]:
    return [_out(load, counts) for load, counts in population.loads(session, principal, site_id)]


@router.get(
    "/reports/uptake",
    tags=["reports"],
    summary="Uptake: patients on the pathway over eligible people, per equity group and site, "
    "with a funnel across sites, disclosure-controlled (programme lead)",
    description=f"Enrolled is the `{ENROLLED_METRIC}` metric; eligible the latest load dated "
    "on or before the month's last day. Uptake is computed from the published (rounded) "
    "enrolled count; a hidden count hides its uptake and its funnel point.",
)
def uptake(
    session: SessionDep,
    principal: Lead,
    now: NowDep,
    by: Annotated[Literal["imd_quintile", "ethnicity", "age_band", "sex"], Query()],
    month: Annotated[
        str | None,
        Query(
            pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
            description="Calendar month in Europe/London, YYYY-MM (default: last month)",
        ),
    ] = None,
) -> dict[str, Any]:
    store = FigureStore(session, now, [ENROLLED_METRIC])
    # A plain dict, as the route declares: its OpenAPI schema stays a free-form object.
    return dict(uptake_report(store, report_month(month, now), by))
