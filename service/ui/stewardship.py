"""The value frameworks a staff member may read, listed with their scope and version; each
links to its dashboard page (``/ui/value-frameworks/{id}``). The list is the API's use case,
so the page shows exactly what ``GET /api/v1/value-frameworks`` would. A site's unit costs are
shown to the staff of the site and set by its stewards through the API's use case too."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.access import route_of
from service.deps import NowDep, SessionDep
from service.models import Site
from service.problems import NotFound, Problem
from service.stewardship import frameworks, unit_costs
from service.stewardship.costs import COST_KEYS, DEFAULT_UNIT_COSTS, CostKey
from service.stewardship.schemas import UnitCostOut, UnitCostsIn
from service.stewardship.spec import DOMAIN_TITLES
from service.ui import session as ui_session
from service.ui.forms import number, problem_errors, validation_errors
from service.ui.pages import (
    MESSAGES,
    AnyStaff,
    csrf_failed,
    error_page,
    render,
    secure,
    signed_in,
    with_msg,
)
from service.ui.session import PageUser

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/value-frameworks", response_class=HTMLResponse)
def value_frameworks_page(
    request: Request, session: SessionDep, user: AnyStaff, now: NowDep
) -> Response:
    listed = frameworks.listing(session, user.principal, now)
    names = {row.id: row.name for row in session.execute(select(Site.id, Site.name))}
    rows = [
        {
            "id": f.id,
            "name": f.name,
            "scope": "The network"
            if f.is_network
            else ", ".join(sorted(names.get(s, "a removed site") for s in f.site_ids)),
            "version": f.version,
            "changed": f.version_created_at,
            "domains": {d: sum(o.domain == d for o in f.outcomes) for d in DOMAIN_TITLES},
        }
        for f in listed
    ]
    return render(
        request,
        "value_frameworks.html",
        user,
        {
            "nav": "value_frameworks",
            "frameworks": rows,
            "domain_titles": DOMAIN_TITLES,
            "sites": readable_sites(session, user),
        },
    )


# --- a site's unit costs -----------------------------------------------------------------------

MESSAGES.update({"costs_saved": ("success", "Unit costs saved. Dashboards use them from now.")})
LABELS = {key: cost.title for key, cost in DEFAULT_UNIT_COSTS.items()} | {"source": "Source"}
Stewards = Annotated[
    PageUser, Depends(signed_in("programme_lead", "admin", "site_admin", "site_lead"))
]


class _CostsForm(BaseModel):
    csrf_token: str = ""
    source: str = ""
    bed_day_gbp: str = ""
    admission_gbp: str = ""
    ae_attendance_gbp: str = ""
    nurse_hour_gbp: str = ""
    kit_patient_month_gbp: str = ""


def readable_sites(session: Session, user: PageUser) -> list[tuple[uuid.UUID, str]]:
    """The sites whose unit costs the caller may read, by name."""
    query = select(Site.id, Site.name).order_by(Site.name)
    principal = user.principal
    if principal.role in unit_costs.SITE_STEWARDS:
        query = query.where(Site.id == principal.site_id)
    elif principal.role == "clinician":
        query = query.where(Site.id.in_(unit_costs.clinician_site_ids(session, principal)))
    return [(row.id, row.name) for row in session.execute(query)]


def _costs_page(
    request: Request,
    session: Session,
    user: PageUser,
    site_id: uuid.UUID,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    try:
        costs, _ = unit_costs.unit_costs(session, user.principal, site_id)
    except NotFound:
        message = "There is no site with this link among yours."
        return error_page(request, user, 404, "Site not found", message)
    site = session.get(Site, site_id)
    assert site is not None
    shown = values or {k: f"{c.gbp:g}" if c.overridden else "" for k, c in costs.items()}
    return render(
        request,
        "unit_costs.html",
        user,
        {
            "nav": "value_frameworks",
            "site": site,
            "costs": costs,
            "defaults": DEFAULT_UNIT_COSTS,
            "values": shown,
            "errors": errors or {},
            "may_edit": unit_costs.may_write_site(user.principal, site_id),
        },
        status,
    )


@router.get("/sites/{site_id}/unit-costs", response_class=HTMLResponse)
def unit_costs_page(
    site_id: uuid.UUID, request: Request, session: SessionDep, user: AnyStaff
) -> Response:
    return _costs_page(request, session, user, site_id)


def _body(form: _CostsForm, costs: Mapping[CostKey, UnitCostOut]) -> dict[str, Any]:
    """The costs the form changed, as the API's body: blank is the national default."""
    body: dict[str, Any] = {}
    for key in COST_KEYS:
        text = getattr(form, key).strip()
        before = costs[key].gbp if costs[key].overridden else None
        try:
            value = number(text) if text else None
        except ValueError:
            body[key] = text  # refused by validation, named by its label
            continue
        if value != before:
            body[key] = value
    if form.source.strip():
        body["source"] = form.source.strip()
    return body


@router.post("/sites/{site_id}/unit-costs", response_class=HTMLResponse)
def save_unit_costs(
    site_id: uuid.UUID,
    form: Annotated[_CostsForm, Form()],
    request: Request,
    session: SessionDep,
    user: Stewards,
    now: NowDep,
) -> Response:
    """Set the site's own costs through the API's use case (validated, kept in the site's
    history and audited alike); a blank cost goes back to the national default."""
    if not ui_session.csrf_ok(request, user.session, form.csrf_token):
        return csrf_failed(request, user)
    try:
        costs, _ = unit_costs.unit_costs(session, user.principal, site_id)
    except NotFound:
        return _costs_page(request, session, user, site_id)
    errors: dict[str, str] = {}
    try:
        body = UnitCostsIn.model_validate(_body(form, costs))
        unit_costs.set_unit_costs(session, user.principal, route_of(request), now, site_id, body)
    except ValidationError as exc:
        errors = validation_errors(exc, LABELS)
    except Problem as exc:
        errors = problem_errors(exc, LABELS, default="form")
    if not errors:
        target = with_msg(f"/ui/sites/{site_id}/unit-costs", "costs_saved")
        return secure(RedirectResponse(target, 303))
    session.rollback()
    values = {key: getattr(form, key) for key in COST_KEYS} | {"source": form.source}
    return _costs_page(request, session, user, site_id, values, errors, 422)
