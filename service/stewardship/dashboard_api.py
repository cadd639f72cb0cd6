"""The monthly outcomes dashboard of a value framework, as JSON or CSV."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from service.deps import NowDep, Principal, SessionDep, require
from service.reports.csv_export import CSV_MEDIA
from service.stewardship import boards
from service.stewardship.dashboard_csv import dashboard_csv

router = APIRouter(prefix="/api/v1", tags=["stewardship"])
Reader = Annotated[
    Principal,
    Depends(require("clinician", "programme_lead", "admin", "site_admin", "site_lead")),
]


@router.get(
    "/value-frameworks/{framework_id}/dashboard",
    summary="A framework's monthly outcomes dashboard, disclosure-controlled (staff who may "
    "read the framework)",
    description=(
        "Every outcome by Triple Aim domain with its value, target, status, 12-month trend and "
        "SPC reading; the resources and their cost with each site's unit costs; the "
        "before-and-after comparison; the kept STAR scenarios. `meta` names the framework "
        "version in force at the month's end and the unit costs used, with their sources. "
        "Programme leads and admins read every framework; clinicians and site admins those of "
        "their sites and the network's (404 otherwise). Every figure is disclosure-controlled."
    ),
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def framework_dashboard(
    framework_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Reader,
    now: NowDep,
    month: Annotated[
        str | None,
        Query(
            pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
            description="Calendar month in Europe/London, YYYY-MM (default: last month)",
        ),
    ] = None,
    format: Annotated[
        Literal["json", "csv"] | None, Query(description="Or send Accept: text/csv")
    ] = None,
) -> Response:
    board = boards.dashboard_for(session, principal, framework_id, month, now)
    wants_csv = format == "csv" or (
        format is None and "text/csv" in request.headers.get("accept", "")
    )
    if wants_csv:
        filename = f"value-framework-{framework_id}-{board['month']}.csv"
        return Response(
            dashboard_csv(board),
            media_type=CSV_MEDIA,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return JSONResponse(board)
