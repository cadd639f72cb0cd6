"""The patient record: charts, symptoms, medicines, bloods, KCCQ, events, alerts, thresholds and
device tokens (clinicians of the patient's team). Changes go through the patients room's use
cases (``service.patients.service``, ``events``, ``outcomes``), as the API's do; the forms that
record outcomes and events are in ``record_forms``; issuing and revoking device tokens is in
``device_tokens``."""

from __future__ import annotations

import math
import uuid
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import changes
from service.access import audit_patient_access, patient_for, route_of
from service.alerting import service as alerting
from service.coding.dose import DOSE_UNITS
from service.contacts import contact_to_show
from service.deps import NowDep, SessionDep
from service.models import DeviceToken, PatientEvent, Team
from service.patients import contacts, events, monitoring, outcomes
from service.patients import service as patients
from service.patients.schemas import PatientPatch, Thresholds
from service.problems import Problem
from service.readings import evaluation as clinical
from service.readings.service import list_readings
from service.timeutil import LONDON
from service.ui import caseload, forms, record, views
from service.ui import patient_charts as charting
from service.ui import session as ui_session
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
# The caseload and enrolment first: /patients/new before /patients/{patient_id}.
for _path, _page, _method in (
    ("/patients", caseload.caseload_page, "GET"),
    ("/patients/new", caseload.enrol_page, "GET"),
    ("/patients/new", caseload.enrol, "POST"),
):
    router.add_api_route(_path, _page, methods=[_method], response_class=HTMLResponse)
BLOOD_DAYS = 365
# The record shows the latest contacts; the API pages through them all.
RECENT_CONTACTS = 20
THRESHOLD_LABELS = {name: label for name, label, *_ in views.THRESHOLD_FIELDS}
THRESHOLD_UNITS = {name: unit for name, _, unit, _ in views.THRESHOLD_FIELDS}


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


def not_found(request: Request, user: PageUser) -> Response:
    return error_page(
        request,
        user,
        404,
        "Patient not found",
        "There is no patient with this link in your teams. Check the link, or find the "
        "patient from your caseload.",
    )


def patient_page(
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
    section: str | None = None,
    section_errors: dict[str, str] | None = None,
    section_values: dict[str, str] | None = None,
) -> Response:
    """The record, or (with ``section``) the record with that form's errors shown at it."""
    principal = user.principal
    route = route_of(request)
    try:
        patient = patient_for(session, principal, patient_id)
    except Problem:
        return not_found(request, user)
    audit_patient_access(session, route, principal, patient.id, "R", now, "ui-patient-record")
    start = now - timedelta(days=charting.CHART_DAYS)
    readings = list_readings(
        session, patient.id, type_=None, start=start, end=None, limit=20_000, after=None
    )
    labs = [
        r
        for kind in record.BLOODS
        for r in list_readings(
            session,
            patient.id,
            type_=kind,
            start=now - timedelta(days=BLOOD_DAYS),
            end=None,
            limit=500,
            after=None,
        )
    ]
    details = alerting.patient_alerts(session, patient, now)
    details.sort(key=lambda d: (d.status == "resolved", -d.raised_at.timestamp()))
    people = {e.actor_id for d in details for e in d.events if e.actor_id}
    people |= {e.assignee_id for d in details for e in d.events if e.assignee_id}
    names = user_names(session, people)
    medicines, _ = outcomes.medications(session, principal, route, now, patient.id, 200, None)
    scores, _ = outcomes.kccq_scores(session, principal, route, now, patient.id, 200, None)
    _, event_query = events.list_events(session, principal, patient.id)
    event_list = session.scalars(
        event_query.order_by(PatientEvent.occurred_on.desc()).limit(200)
    ).all()

    recent_contacts, _ = contacts.contact_page(session, patient.id, RECENT_CONTACTS)

    config = clinical.config_for(clinical.site_overrides(session, patient.team_id))
    limits = asdict(config.thresholds_for(clinical.patient_context(patient)))
    defaults = {name: getattr(config.thresholds, name, None) for name in views.THRESHOLD_NAMES}
    marks = charting.alert_marks(details, readings, start)
    thresholds = dict(patient.thresholds or {})
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
    history = [
        c for c in changes.history(session, "patient", patient.id) if c["setting"] == "thresholds"
    ]
    return render(
        request,
        "patient.html",
        user,
        {
            "nav": "patients",
            "patient": patient,
            "age": views.age_on(patient.date_of_birth, today),
            "sex": views.SEX.get(patient.sex, patient.sex),
            "team": team.name if team else "",
            "contact": contact_to_show(team.escalation_contact if team else None),
            "phone": contact_to_show(patient.phone) if patient.phone else None,
            "charts": charting.patient_charts(readings, marks, limits, now),
            "symptoms": record.symptom_changes(readings),
            "pillars": record.medicines_by_pillar(medicines),
            "bloods": record.blood_results(labs, record.findings_by_reading(details)),
            "kccq": record.kccq_rows(scores),
            "kccq_chart": charting.kccq_chart(scores),
            "events": record.event_rows(event_list, today),
            "alerts": details,
            "open_alerts": [d for d in details if d.status != "resolved"],
            "names": names,
            "threshold_fields": views.THRESHOLD_FIELDS,
            "threshold_labels": THRESHOLD_LABELS,
            "values": values,
            "defaults": defaults,
            "errors": errors or {},
            "form_error": form_error,
            "section": section,
            "section_errors": section_errors or {},
            "section_values": section_values or {},
            "pauses": monitoring.history(session, patient.id),
            "medicine_statuses": record.MEDICINE_STATUSES,
            "dose_units": DOSE_UNITS,
            "kccq_timepoints": record.KCCQ_TIMEPOINTS,
            "event_names": record.EVENT_NAMES,
            "contact_records": recent_contacts,
            "contact_kinds": record.CONTACT_KINDS,
            "open_alert_names": {d.id: d.title for d in details if d.status != "resolved"},
            "discharge_reasons": record.DISCHARGE_REASONS,
            "tokens": tokens,
            "threshold_history": history,
            "return_to": f"/ui/patients/{patient.id}",
            "today": today,
            "now_local": now.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M"),
            "now": now,
        },
        status,
    )


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
def patient_record(
    patient_id: str, request: Request, session: SessionDep, user: Clinician, now: NowDep
) -> Response:
    """A patient's whole record (clinician of the patient's team; 404 for anyone else's)."""
    pid = uuid_or_none(patient_id)
    if pid is None:
        return error_page(request, user, 404, "Patient not found", "This link is not valid.")
    return patient_page(request, session, user, pid, now)


def _range_message(name: str) -> str:
    """The allowed range of a threshold, from the API's own schema, in words."""
    schema = Thresholds.model_json_schema()["properties"][name]["anyOf"][0]
    unit = THRESHOLD_UNITS[name]
    unit = unit if unit == "%" else f" {unit}"
    low, high = schema.get("minimum"), schema.get("maximum")
    whole = " whole" if schema.get("type") == "integer" else ""
    return f"{THRESHOLD_LABELS[name]}: enter a{whole} number from {low:g} to {high:g}{unit}."


def threshold_errors(parsed: dict[str, float]) -> dict[str, str]:
    """Every problem with the submitted thresholds at once: the API's ranges, then the
    pathway's safety rules, each field named by its label."""
    errors: dict[str, str] = {}
    body = {
        k: (int(v) if v.is_integer() and k != "target_weight_kg" else v) for k, v in parsed.items()
    }
    try:
        Thresholds.model_validate(body)
    except ValidationError as exc:
        for err in exc.errors():
            name = str(err["loc"][0])
            if name in THRESHOLD_LABELS and name not in errors:
                errors[name] = _range_message(name)
    # The safety check stops at the first unsafe value: check again without it, until none is
    # left, so the nurse sees every unsafe value at once.
    candidate: dict[str, object] = {k: v for k, v in body.items() if k not in errors}
    for _ in range(len(candidate)):
        try:
            patients.check_thresholds(candidate)
            break
        except Problem as exc:
            found = forms.problem_errors(exc, THRESHOLD_LABELS)
            name = next(iter(found), "")
            if name not in candidate:
                errors[name or "thresholds"] = exc.detail
                break
            # "patient.thresholds.pulse_low_amber: must be ... 60 /min": the rule, in words.
            rule = str(exc.extra["errors"][0]["message"]).split(": ", 1)[-1]
            errors[name] = f"{THRESHOLD_LABELS[name]}: {rule.replace(' /min', ' per minute')}."
            candidate.pop(name)
    return errors


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
            number = float(text)
        except ValueError:
            number = math.nan
        if math.isfinite(number):
            parsed[name] = number
        else:
            errors[name] = (
                f"{THRESHOLD_LABELS[name]}: enter a number, or leave it empty to use the "
                "pathway default."
            )
    errors |= threshold_errors({k: v for k, v in parsed.items() if k not in errors})
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
        except Problem as exc:
            session.rollback()
            if exc.status == 404:
                return not_found(request, user)
            errors = forms.problem_errors(exc, THRESHOLD_LABELS)
            if not errors or exc.status == 409:
                form_error = exc.detail
    if errors or form_error:
        session.rollback()
        count = len(errors)
        return patient_page(
            request,
            session,
            user,
            patient_id,
            now,
            status=409 if form_error and not errors else 422,
            errors=errors,
            form_values=submitted,
            form_error=form_error
            or f"{count} threshold{'s' if count > 1 else ''} need changing. Nothing was saved.",
        )
    target = with_msg(f"/ui/patients/{patient_id}", "thresholds_saved", "thresholds")
    return secure(RedirectResponse(target, status_code=303))
