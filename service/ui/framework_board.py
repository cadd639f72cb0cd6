"""A value framework's monthly outcomes dashboard page and its CSV, built by the same use case
as ``GET /api/v1/value-frameworks/{id}/dashboard`` (``service.stewardship.boards``)."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from service import charts
from service.deps import NowDep, SessionDep
from service.problems import NotFound, Problem
from service.reports.csv_export import CSV_MEDIA
from service.reports.period import current_month, report_month, shift_month
from service.stewardship import boards
from service.stewardship.costs import DEFAULT_UNIT_COSTS
from service.stewardship.dashboard_csv import dashboard_csv
from service.stewardship.shapes import Dashboard, OutcomeJson
from service.ui.framework_charts import outcome_chart
from service.ui.pages import AnyStaff, error_page, render, secure
from service.ui.session import PageUser
from service.ui.views import EQUITY_LABELS

router = APIRouter(prefix="/ui", include_in_schema=False)

STATUS_WORDS = {
    "met": "Target met",
    "not_met": "Target not met",
    "suppressed": "Hidden (small numbers)",
    "no_data": "Nothing to count",
}
VARIATION_WORDS = {
    "improvement_high": "Special cause: improvement (higher)",
    "improvement_low": "Special cause: improvement (lower)",
    "concern_high": "Special cause: concern (higher)",
    "concern_low": "Special cause: concern (lower)",
    "neither_high": "Special cause (higher), neither better nor worse",
    "neither_low": "Special cause (lower), neither better nor worse",
    "common_cause": "Common cause variation",
}
ASSURANCE_WORDS = {
    "consistent_pass": "will consistently meet the target",
    "consistent_fail": "will not meet the target without change",
    "hit_and_miss": "will hit and miss the target",
}
MONTHS_LISTED = 24


def _months(now: datetime) -> list[str]:
    latest = shift_month(current_month(now), -1)
    return [shift_month(latest, -i) for i in range(MONTHS_LISTED)]


def _board(
    request: Request,
    session: SessionDep,
    user: PageUser,
    framework_id: str,
    month: str | None,
    now: datetime,
) -> tuple[Dashboard | None, str, Response | None]:
    """The dashboard, and the words for a month that cannot be shown (then last month's)."""
    try:
        chosen = uuid.UUID(framework_id)
    except ValueError:
        chosen = None
    month_error = ""
    try:
        if chosen is None:
            raise NotFound("No such value framework.")
        try:
            if month is not None:
                report_month(month, now)
        except Problem:
            month_error = f"There is no dashboard for '{month}': showing last month instead."
            month = None
        return boards.dashboard_for(session, user.principal, chosen, month, now), month_error, None
    except NotFound:
        page = error_page(
            request, user, 404, "Page not found", "There is no value framework at this address."
        )
        return None, "", page


@router.get("/value-frameworks/{framework_id}", response_class=HTMLResponse)
def framework_page(
    framework_id: str,
    request: Request,
    session: SessionDep,
    user: AnyStaff,
    now: NowDep,
    month: str | None = None,
) -> Response:
    """A framework's outcomes by Triple Aim domain, resources and costs, before and after, STAR
    scenarios: disclosure-controlled (staff who may read the framework)."""
    board, month_error, refused = _board(request, session, user, framework_id, month, now)
    if board is None:
        assert refused is not None
        return refused
    domains: dict[str, list[OutcomeJson]] = {}
    for outcome in board["outcomes"]:
        domains.setdefault(outcome["domain"], []).append(outcome)
    offsets, charts_svg, seen = {}, [], 0
    for domain, outcomes in domains.items():
        offsets[domain] = seen
        for outcome in outcomes:
            chart = outcome_chart(f"outcome-{seen}", outcome)
            charts_svg.append(charts.render_responsive(chart))
            seen += 1
    return render(
        request,
        "value_framework.html",
        user,
        {
            "nav": "value_frameworks",
            "board": board,
            "month": board["month"],
            "months": _months(now),
            "month_error": month_error,
            "domains": list(domains.items()),
            "charts": charts_svg,
            "offsets": offsets,
            "r": board["resources"],
            "status_words": STATUS_WORDS,
            "variation_words": VARIATION_WORDS,
            "assurance_words": ASSURANCE_WORDS,
            "equity_titles": EQUITY_LABELS,
            "cost_titles": {key: cost.title for key, cost in DEFAULT_UNIT_COSTS.items()},
        },
    )


@router.get("/value-frameworks/{framework_id}/dashboard.csv")
def framework_csv(
    framework_id: str,
    request: Request,
    session: SessionDep,
    user: AnyStaff,
    now: NowDep,
    month: str | None = None,
) -> Response:
    board, _error, refused = _board(request, session, user, framework_id, month, now)
    if board is None:
        assert refused is not None
        return refused
    filename = f"value-framework-{board['framework']['id']}-{board['month']}.csv"
    return secure(
        Response(
            dashboard_csv(board),
            media_type=CSV_MEDIA,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    )
