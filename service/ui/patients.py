"""The patient record: charts, symptoms, alerts, thresholds and device tokens (clinicians of
the patient's team). Changes go through ``service.patients.service``, as the API's do; issuing
and revoking device tokens is in ``device_tokens``."""

from __future__ import annotations

import uuid
from dataclasses import asdict, is_dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

import pathway
from service import changes
from service.access import audit_patient_access, patient_for, route_of
from service.alerting import service as alerting
from service.contacts import contact_to_show
from service.deps import NowDep, SessionDep
from service.models import DeviceToken, Team
from service.patients import service as patients
from service.patients.schemas import PatientPatch, Thresholds
from service.problems import Problem
from service.readings.service import list_readings
from service.timeutil import LONDON
from service.ui import session as ui_session
from service.ui import views
from service.ui.pages import (
    Clinician,
    csrf_failed,
    error_page,
    int_or_none,
    render,
    secure,
    user_names,
    uuid_or_none,
    with_msg,
)
from service.ui.session import PageUser

router = APIRouter(prefix="/ui", include_in_schema=False)


def _defaults() -> dict[str, Any]:
    context = pathway.PatientContext(patient_id="defaults", cohort=pathway.Cohort.NEW_DIAGNOSIS)
    values = pathway.default_pathway().thresholds_for(context)
    as_dict: dict[str, Any] = asdict(values) if is_dataclass(values) else {}
    return {name: as_dict.get(name) for name in views.THRESHOLD_NAMES}


class _ThresholdForm(BaseModel):
    csrf_token: str = ""
    version: str = ""
    target_weight_kg: str = ""
    systolic_red_below: str = ""
    systolic_amber_below: str = ""
    pulse_low_red: str = ""
    pulse_low_amber: str = ""
    pulse_high_amber: str = ""
    pulse_high_red: str = ""
    spo2_red_at_or_below: str = ""
    spo2_amber_at_or_below: str = ""


def _patient_page(
    request: Request,
    session: Session,
    user: PageUser,
    patient_id: uuid.UUID,
    now: datetime,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    form_values: dict[str, str] | None = None,
    form_error: str | None = None,
) -> Response:
    principal = user.principal
    try:
        patient = patient_for(session, principal, patient_id)
    except Problem:
        return error_page(
            request,
            user,
            404,
            "Patient not found",
            "There is no patient with this link in your teams. Check the link, or find the "
            "patient from your queue.",
        )
    audit_patient_access(
        session, route_of(request), principal, patient.id, "R", now, "ui-patient-record"
    )
    readings = list_readings(
        session,
        patient.id,
        type_=None,
        start=now - timedelta(days=views.CHART_DAYS),
        end=None,
        limit=20_000,
        after=None,
    )
    details = alerting.patient_alerts(session, patient, now)
    details.sort(key=lambda d: (d.status == "resolved", -d.raised_at.timestamp()))
    people = {e.actor_id for d in details for e in d.events if e.actor_id}
    people |= {e.assignee_id for d in details for e in d.events if e.assignee_id}
    names = user_names(session, people)
    thresholds = dict(patient.thresholds or {})
    defaults = _defaults()
    charts = views.patient_charts(
        readings,
        [views.AlertMark(d.raised_at, d.severity, d.title) for d in details],
        thresholds,
        defaults,
        now,
    )
    tokens = session.scalars(
        select(DeviceToken)
        .where(DeviceToken.patient_id == patient.id)
        .order_by(DeviceToken.created_at.desc())
    ).all()
    team = session.get(Team, patient.team_id)
    values = form_values or {
        name: ("" if thresholds.get(name) is None else f"{thresholds[name]:g}")
        for name in views.THRESHOLD_NAMES
    }
    today = now.astimezone(LONDON).date()
    return render(
        request,
        "patient.html",
        user,
        {
            "nav": "queue",
            "patient": patient,
            "age": views.age_on(patient.date_of_birth, today),
            "sex": views.SEX.get(patient.sex, patient.sex),
            "team": team.name if team else "",
            "contact": contact_to_show(team.escalation_contact if team else None),
            "charts": charts,
            "symptoms": views.symptom_timeline(readings),
            "alerts": details,
            "open_alerts": [d for d in details if d.status != "resolved"],
            "names": names,
            "threshold_fields": views.THRESHOLD_FIELDS,
            "values": values,
            "defaults": defaults,
            "errors": errors or {},
            "form_error": form_error,
            "tokens": tokens,
            "threshold_history": changes.history(session, "patient", patient.id),
            "return_to": f"/ui/patients/{patient.id}",
            "now": now,
        },
        status,
    )


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
def patient_page(
    patient_id: str, request: Request, session: SessionDep, user: Clinician, now: NowDep
) -> Response:
    """A patient's record: charts, symptoms, alerts, thresholds, device tokens (clinician of
    the patient's team; 404 for anyone else's patient)."""
    pid = uuid_or_none(patient_id)
    if pid is None:
        return error_page(request, user, 404, "Patient not found", "This link is not valid.")
    return _patient_page(request, session, user, pid, now)


@router.post("/patients/{patient_id}/thresholds", response_class=HTMLResponse)
def save_thresholds(
    patient_id: uuid.UUID,
    form: Annotated[_ThresholdForm, Form()],
    request: Request,
    session: SessionDep,
    user: Clinician,
    now: NowDep,
) -> Response:
    """Change a patient's personal thresholds, checked as the API checks them (clinician of the
    patient's team)."""
    if not ui_session.csrf_ok(request, user.session, form.csrf_token):
        return csrf_failed(request, user)
    submitted = {name: getattr(form, name).strip() for name in views.THRESHOLD_NAMES}
    errors: dict[str, str] = {}
    parsed: dict[str, float] = {}
    for name, text in submitted.items():
        if not text:
            continue
        try:
            parsed[name] = float(text)
        except ValueError:
            errors[name] = "Enter a number, or leave it empty to use the pathway default."
    form_error: str | None = None
    if not errors:
        try:
            # The form shows every threshold, so it sends every one: an emptied field is an
            # explicit null, which the merge patch clears (back to the pathway's default).
            thresholds = Thresholds.model_validate(
                {
                    k: None
                    if (v := parsed.get(k)) is None
                    else (int(v) if v.is_integer() and k != "target_weight_kg" else v)
                    for k in views.THRESHOLD_NAMES
                }
            )
            patients.patch_patient(
                session,
                user.principal,
                route_of(request),
                now,
                patient_id,
                PatientPatch(thresholds=thresholds, version=int_or_none(form.version)),
            )
        except ValidationError as exc:
            for err in exc.errors():
                field = str(err["loc"][0]) if err["loc"] else "thresholds"
                errors[field] = str(err["msg"]).removeprefix("Value error, ")
        except Problem as exc:
            session.rollback()
            if exc.status == 404:
                return error_page(
                    request,
                    user,
                    404,
                    "Patient not found",
                    "There is no such patient in your teams.",
                )
            for err in exc.extra.get("errors", []):
                errors[str(err.get("field", "")).removeprefix("thresholds.")] = str(
                    err.get("message", exc.detail)
                )
            if not errors or exc.status == 409:
                form_error = exc.detail
    if errors or form_error:
        session.rollback()
        return _patient_page(
            request,
            session,
            user,
            patient_id,
            now,
            status=409 if form_error and not errors else 422,
            errors=errors,
            form_values=submitted,
            form_error=form_error or "Some thresholds were not saved: see the messages below.",
        )
    target = with_msg(f"/ui/patients/{patient_id}", "thresholds_saved", "thresholds")
    return secure(RedirectResponse(target, status_code=303))
