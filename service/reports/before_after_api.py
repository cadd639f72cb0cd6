"""``GET /api/v1/reports/before-after``: the before/after enrolment comparison for programme
leads, disclosure-controlled (``service.reports.before_after``)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from service.deps import NowDep, Principal, SessionDep, require
from service.reports.before_after import (
    DEFAULT_WINDOW_MONTHS,
    MAX_WINDOW_MONTHS,
    before_after,
)
from service.reports.period import as_of_date, report_month

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

Lead = Annotated[Principal, Depends(require("programme_lead"))]


@router.get(
    "/before-after",
    summary="Admissions, bed days and A&E per patient-year before and after enrolment, "
    "per site and in total, disclosure-controlled (programme lead)",
)
def before_after_report(
    session: SessionDep,
    principal: Lead,
    now: NowDep,
    month: Annotated[
        str | None,
        Query(
            pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
            description="Calendar month in Europe/London, YYYY-MM (default: last month)",
        ),
    ] = None,
    site_id: Annotated[
        list[uuid.UUID] | None,
        Query(description="Sites to compare, repeatable (default: every site, and the network)"),
    ] = None,
    window_months: Annotated[
        int, Query(ge=1, le=MAX_WINDOW_MONTHS, description="Months in each window")
    ] = DEFAULT_WINDOW_MONTHS,
) -> dict[str, Any]:
    chosen = report_month(month, now)
    # A plain dict, as the route declares: its OpenAPI schema stays a free-form object.
    return dict(before_after(session, chosen, site_id or None, window_months, as_of_date(now)))
