"""The caseload and enrolment pages (clinicians): find any patient of the team by NHS number or
name, see who has gone quiet or has alerts waiting, and enrol a new patient.

The list is ``service.patients.caseload.caseload``, the use case ``GET /api/v1/caseload``
serves; enrolment is ``service.patients.service.enrol``, as ``POST /api/v1/patients``.

The routes are added to the patient record's router (``service.ui.patients.router``) ahead of
its own, so /ui/patients/new is never taken for a patient's id.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError

from service.access import route_of
from service.contacts import contact_to_show
from service.deps import NowDep, SessionDep
from service.patients import service as patients
from service.patients.caseload import SORTS, CaseloadQuery, caseload
from service.patients.schemas import PatientIn
from service.problems import Conflict, Problem
from service.ui import forms
from service.ui import session as ui_session
from service.ui.pages import (
    Clinician,
    csrf_failed,
    int_or_none,
    render,
    secure,
    team_names,
    uuid_or_none,
)
from service.ui.session import PageUser
from service.ui.views import COHORTS

PAGE_SIZE = 25
# The status filter's choices: "current" (the default) is everyone still on the caseload.
STATUS_CHOICES = {
    "current": ("Active or paused", ("active", "paused")),
    "active": ("Active", ("active",)),
    "paused": ("Paused", ("paused",)),
    "discharged": ("Discharged", ("discharged",)),
    "all": ("Everyone", ()),
}
QUIET_CHOICES = (2, 3, 7, 14, 30)
SORT_LABELS = {
    "alerts": "Open alerts",
    "name": "Name",
    "nhs_number": "NHS number",
    "age": "Age",
    "last_weight": "Last weight",
    "adherence": "Adherence (14 days)",
    "next_review": "Next review",
    "last_reading": "Last reading",
}


def caseload_page(
    request: Request,
    session: SessionDep,
    user: Clinician,
    now: NowDep,
    q: str = "",
    team: str = "",
    cohort: str = "",
    status: str = "current",
    quiet: str = "",
    sort: str = "alerts",
    order: str = "",
    page: str = "1",
) -> Response:
    """The teams' patients, searched, filtered, sorted and paged (clinician)."""
    principal = user.principal
    team_id = uuid_or_none(team)
    status = status if status in STATUS_CHOICES else "current"
    quiet_days = int_or_none(quiet)
    filters: dict[str, str] = {
        "q": q.strip()[:100],
        "team": str(team_id) if team_id in principal.team_ids else "",
        "cohort": cohort if cohort in COHORTS else "",
        "status": status,
        "quiet": str(quiet_days) if quiet_days in QUIET_CHOICES else "",
    }
    sort = sort if sort in SORTS else "alerts"
    descending = order == "desc" if order in ("asc", "desc") else sort == "alerts"
    number = max(int_or_none(page) or 1, 1)
    query = CaseloadQuery(
        search=filters["q"] or None,
        team_id=uuid_or_none(filters["team"]),
        cohort=filters["cohort"] or None,
        statuses=STATUS_CHOICES[status][1],
        quiet_days=int(filters["quiet"]) if filters["quiet"] else None,
        sort=sort,
        descending=descending,
        page=min(number, 10_000),
        limit=PAGE_SIZE,
    )
    result = caseload(session, principal, route_of(request), now, query)
    pages = max((result.total + PAGE_SIZE - 1) // PAGE_SIZE, 1)

    def link(**changes: Any) -> str:
        params = {**filters, "sort": sort, "order": "desc" if descending else "asc"}
        params.update({k: str(v) for k, v in changes.items()})
        kept = {k: v for k, v in params.items() if v and not (k == "page" and v == "1")}
        return "/ui/patients?" + urlencode(kept)

    if not result.items and number > pages:
        # Past the last page (the list got shorter, or a hand-typed page): the last one.
        return secure(RedirectResponse(link(page=pages), status_code=303))

    def sort_link(key: str) -> str:
        if sort == key:
            flip = "asc" if descending else "desc"
        else:
            flip = "desc" if key == "alerts" else "asc"
        return link(sort=key, order=flip, page=1)

    # Each number as the link a phone dials (tel:+44...), as the patient page and queue show it.
    dial = {i.id: c.href for i in result.items if (c := contact_to_show(i.phone)) and c.href}
    return render(
        request,
        "caseload.html",
        user,
        {
            "nav": "patients",
            "result": result,
            "dial": dial,
            "filters": filters,
            "teams": team_names(session, principal.team_ids),
            "status_choices": STATUS_CHOICES,
            "quiet_choices": QUIET_CHOICES,
            "sort": sort,
            "descending": descending,
            "sort_labels": SORT_LABELS,
            "sort_link": sort_link,
            "pages": pages,
            "previous_link": link(page=number - 1) if number > 1 else None,
            "next_link": link(page=number + 1) if number < pages else None,
            "searched": any(filters[k] for k in ("q", "cohort", "quiet")) or status != "current",
            "now": now,
        },
    )


# --- enrolment -----------------------------------------------------------------------------------

ENROL_LABELS = {
    "nhs_number": "NHS number",
    "name": "Name",
    "phone": "Telephone",
    "date_of_birth": "Date of birth",
    "sex": "Sex",
    "team_id": "Team",
    "cohort": "Cohort",
    "hf_type": "Heart failure type",
    "ethnicity": "Ethnic group",
    "imd_quintile": "IMD quintile",
    "enrolled_on": "Enrolment date",
    "expects_daily_weight": "Daily weights",
    "target_weight_kg": "Target (dry) weight",
}


class _EnrolForm(BaseModel):
    csrf_token: str = ""
    nhs_number: str = ""
    name: str = ""
    phone: str = ""
    date_of_birth: str = ""
    sex: str = ""
    team_id: str = ""
    cohort: str = ""
    hf_type: str = ""
    imd_quintile: str = ""
    enrolled_on: str = ""
    expects_daily_weight: str = ""
    target_weight_kg: str = ""


def _enrol_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
    form_error: str | None = None,
) -> Response:
    return render(
        request,
        "enrol.html",
        user,
        {
            "nav": "patients",
            "teams": team_names(session, user.principal.team_ids),
            "values": values,
            "errors": errors,
            "form_error": form_error,
            "labels": ENROL_LABELS,
        },
        status,
    )


def enrol_page(request: Request, session: SessionDep, user: Clinician) -> Response:
    """The enrolment form (clinician)."""
    return _enrol_page(request, session, user, {"expects_daily_weight": "yes"}, {})


def enrol(
    form: Annotated[_EnrolForm, Form()],
    request: Request,
    session: SessionDep,
    user: Clinician,
    now: NowDep,
) -> Response:
    """Enrol a patient in one of the caller's teams, checked as the API checks it (clinician)."""
    if not ui_session.csrf_ok(request, user.session, form.csrf_token):
        return csrf_failed(request, user)
    values = form.model_dump(exclude={"csrf_token"})
    teams = user.principal.team_ids
    team = values["team_id"] or (str(next(iter(teams))) if len(teams) == 1 else "")
    body: dict[str, Any] = {
        "nhs_number": values["nhs_number"],
        "name": values["name"].strip() or None,
        "phone": values["phone"].strip() or None,
        "date_of_birth": values["date_of_birth"],
        "sex": values["sex"],
        "team_id": team,
        "cohort": values["cohort"],
        "hf_type": values["hf_type"] or None,
        "imd_quintile": values["imd_quintile"] or None,
        "enrolled_on": values["enrolled_on"] or None,
        "expects_daily_weight": values["expects_daily_weight"] == "yes",
    }
    if values["target_weight_kg"].strip():
        body["thresholds"] = {"target_weight_kg": values["target_weight_kg"].strip()}
    try:
        patient = patients.enrol(
            session, user.principal, route_of(request), now, PatientIn.model_validate(body)
        )
    except ValidationError as exc:
        errors = forms.validation_errors(exc, ENROL_LABELS)
        return _enrol_page(request, session, user, values, errors, 422)
    except Conflict as exc:
        return _enrol_page(request, session, user, values, {}, 409, exc.detail)
    except Problem as exc:
        session.rollback()
        errors = forms.problem_errors(exc, ENROL_LABELS)
        if exc.status == 404:
            errors = {"team_id": "Choose one of your teams."}
        return _enrol_page(request, session, user, values, errors, 422, None)
    target = f"/ui/patients/{patient.id}?msg=enrolled"
    return secure(RedirectResponse(target, status_code=303))
