"""The patient record's forms (clinicians of the patient's team): hospital events, a discharge
date for an open admission, medicine changes, KCCQ-12 scores, pausing or resuming monitoring and
the discharge from monitoring, and the patient's name and telephone number.

Each posts to the use case the API's route calls (``service.patients.events``, ``outcomes``,
``monitoring``), checked by the API's own schemas; a refusal shows the record again with every
problem in words at the form, what was typed kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from service.access import route_of
from service.deps import NowDep, Principal, SessionDep
from service.patients import contacts, events, monitoring, outcomes
from service.patients import service as patients
from service.patients.schemas import ContactIn, PatientPatch
from service.problems import Problem, field_error
from service.reports.schemas import DischargeIn, EventIn, EventPatch, KccqIn, MedicationIn
from service.timeutil import LONDON
from service.ui import forms
from service.ui import session as ui_session
from service.ui.pages import Clinician, csrf_failed, int_or_none, secure, with_msg
from service.ui.patients import not_found, patient_page
from service.ui.session import PageUser

router = APIRouter(prefix="/ui", include_in_schema=False)
_EVENT = TypeAdapter(EventIn)

# The API's field names, as the forms label them (several API dates are one form field).
LABELS = {
    "occurred_on": "Date",
    "admitted_on": "Date",
    "attended_on": "Date",
    "died_on": "Date",
    "discharged_on": "Date of discharge from hospital",
    "hf_related": "Heart failure admission",
    "kind": "What happened",
    "pillar": "Pillar",
    "status": "Change",
    "drug": "Medicine",
    "dmd_code": "dm+d code",
    "dose_value": "Dose",
    "dose_unit": "Dose unit",
    "changed_on": "Date of the change",
    "at_target_or_max_tolerated": "At target dose",
    "score": "KCCQ-12 summary score",
    "timepoint": "Timepoint",
    "assessed_on": "Date of the questionnaire",
    "date": "Date of discharge from monitoring",
    "reason": "Reason",
    "name": "Name",
    "phone": "Telephone",
    "form": "Form",
}
FIELD_OF = {"admitted_on": "occurred_on", "attended_on": "occurred_on", "died_on": "occurred_on"}


class _Form(BaseModel):
    csrf_token: str = ""


_F = TypeVar("_F", bound=_Form)


# A use case's leading arguments: the session, the caller, the route, now and the patient.
Call = tuple[Session, Principal, str, datetime, uuid.UUID]


def _submit(
    request: Request,
    session: SessionDep,
    user: PageUser,
    now: NowDep,
    patient_id: uuid.UUID,
    form: _F,
    section: str,
    msg: str,
    action: Callable[[_F, Call], object],
    labels: Mapping[str, str] | None = None,
) -> Response:
    """Run the use case; on a refusal, the record again with the form's problems in words."""
    if not ui_session.csrf_ok(request, user.session, form.csrf_token):
        return csrf_failed(request, user)
    labels = LABELS if labels is None else labels
    values = {k: str(v) for k, v in form.model_dump(exclude={"csrf_token"}).items()}
    try:
        action(form, (session, user.principal, route_of(request), now, patient_id))
    except ValidationError as exc:
        errors = forms.validation_errors(exc, labels)
        status = 422
    except Problem as exc:
        if exc.status == 404 and "patient" in exc.detail.lower():
            session.rollback()
            return not_found(request, user)
        errors = forms.problem_errors(exc, labels, default="form")
        status = exc.status if exc.status in (404, 409, 422) else 422
    else:
        target = with_msg(f"/ui/patients/{patient_id}", msg, section)
        return secure(RedirectResponse(target, status_code=303))
    session.rollback()
    errors = {FIELD_OF.get(k, k): v for k, v in errors.items()}
    return patient_page(
        request,
        session,
        user,
        patient_id,
        now,
        status=status,
        section=section,
        section_errors=errors,
        section_values=values,
    )


class _EventForm(_Form):
    kind: str = ""
    occurred_on: str = ""
    discharged_on: str = ""
    hf_related: str = ""
    planned: str = ""


def _record_event(form: _EventForm, call: Call) -> object:
    body: dict[str, Any] = {"kind": form.kind}
    day = form.occurred_on.strip()
    if form.kind == "admission":
        body |= {
            "admitted_on": day,
            "discharged_on": form.discharged_on.strip() or None,
            "hf_related": {"yes": True, "no": False}.get(form.hf_related),
            "emergency": form.planned != "yes",
        }
    elif form.kind == "ae_attendance":
        body["attended_on"] = day
    elif form.kind == "death":
        body["died_on"] = day
    else:
        raise field_error("kind", "must be chosen")
    return events.record_event(*call, _EVENT.validate_python(body))


@router.post("/patients/{patient_id}/events", response_class=HTMLResponse)
def record_event(
    patient_id: uuid.UUID,
    form: Annotated[_EventForm, Form()],
    request: Request,
    session: SessionDep,
    user: Clinician,
    now: NowDep,
) -> Response:
    """Record an admission, A&E visit or death (clinician of the patient's team)."""
    return _submit(request, session, user, now, patient_id, form, "events", "event", _record_event)


class _DischargeDateForm(_Form):
    discharged_on: str = ""


@router.post("/patients/{patient_id}/events/{event_id}/discharged", response_class=HTMLResponse)
def record_hospital_discharge(
    patient_id: uuid.UUID,
    event_id: uuid.UUID,
    form: Annotated[_DischargeDateForm, Form()],
    request: Request,
    session: SessionDep,
    user: Clinician,
    now: NowDep,
) -> Response:
    """Add the discharge date to an open admission (clinician of the patient's team)."""

    def action(form: _DischargeDateForm, call: Call) -> object:
        patch = EventPatch.model_validate({"discharged_on": form.discharged_on.strip() or None})
        return events.edit_event(*call, event_id, patch.model_dump(exclude_unset=True))

    return _submit(request, session, user, now, patient_id, form, "events", "event", action)


class _MedicineForm(_Form):
    pillar: str = ""
    status: str = ""
    drug: str = ""
    dmd_code: str = ""
    dose_value: str = ""
    dose_unit: str = ""
    changed_on: str = ""
    at_target: str = ""


def _record_medicine(form: _MedicineForm, call: Call) -> object:
    body = MedicationIn.model_validate(
        {
            "pillar": form.pillar,
            "status": form.status,
            "drug": form.drug.strip() or None,
            "dmd_code": form.dmd_code.strip() or None,
            "dose_value": form.dose_value.strip() or None,
            "dose_unit": form.dose_unit or None,
            "changed_on": form.changed_on.strip(),
            "at_target_or_max_tolerated": form.at_target == "yes",
        }
    )
    return outcomes.record_medication(*call, body)


@router.post("/patients/{patient_id}/medicines", response_class=HTMLResponse)
def record_medicine(
    patient_id: uuid.UUID,
    form: Annotated[_MedicineForm, Form()],
    request: Request,
    session: SessionDep,
    user: Clinician,
    now: NowDep,
) -> Response:
    """Record a change in one of the four pillars (clinician of the patient's team)."""
    return _submit(
        request, session, user, now, patient_id, form, "medicines", "medicine", _record_medicine
    )


class _KccqForm(_Form):
    score: str = ""
    timepoint: str = ""
    assessed_on: str = ""


def _record_kccq(form: _KccqForm, call: Call) -> object:
    fields = {"score": form.score, "timepoint": form.timepoint, "assessed_on": form.assessed_on}
    body = KccqIn.model_validate({k: v.strip() for k, v in fields.items()})
    return outcomes.record_kccq(*call, body)


@router.post("/patients/{patient_id}/kccq", response_class=HTMLResponse)
def record_kccq(
    patient_id: uuid.UUID,
    form: Annotated[_KccqForm, Form()],
    request: Request,
    session: SessionDep,
    user: Clinician,
    now: NowDep,
) -> Response:
    """Record a KCCQ-12 overall summary score (clinician of the patient's team)."""
    return _submit(request, session, user, now, patient_id, form, "kccq", "kccq", _record_kccq)


class _MonitoringForm(_Form):
    status: str = ""
    reason: str = ""
    version: str = ""


def _pause_or_resume(form: _MonitoringForm, call: Call) -> object:
    return monitoring.set_monitoring(*call, form.status, form.reason, int_or_none(form.version))


@router.post("/patients/{patient_id}/monitoring", response_class=HTMLResponse)
def pause_or_resume(
    patient_id: uuid.UUID,
    form: Annotated[_MonitoringForm, Form()],
    request: Request,
    session: SessionDep,
    user: Clinician,
    now: NowDep,
) -> Response:
    """Pause or resume monitoring, with the reason (clinician of the patient's team)."""
    msg = "paused" if form.status == "paused" else "resumed"
    return _submit(
        request, session, user, now, patient_id, form, "monitoring", msg, _pause_or_resume
    )


class _DischargeForm(_Form):
    date: str = ""
    reason: str = ""


def _discharge(form: _DischargeForm, call: Call) -> object:
    body = DischargeIn.model_validate({"date": form.date.strip(), "reason": form.reason})
    return events.discharge(*call, body)


@router.post("/patients/{patient_id}/discharge", response_class=HTMLResponse)
def discharge(
    patient_id: uuid.UUID,
    form: Annotated[_DischargeForm, Form()],
    request: Request,
    session: SessionDep,
    user: Clinician,
    now: NowDep,
) -> Response:
    """Discharge the patient from monitoring with a reason (clinician of the patient's team)."""
    return _submit(
        request, session, user, now, patient_id, form, "discharge", "discharged", _discharge
    )


class _ContactForm(_Form):
    name: str = ""
    phone: str = ""
    version: str = ""


def _change_contact(form: _ContactForm, call: Call) -> object:
    # An emptied box clears the detail (a number no longer in use), as null does in the API.
    body = PatientPatch.model_validate(
        {
            "name": form.name.strip() or None,
            "phone": form.phone.strip() or None,
            "version": int_or_none(form.version),
        }
    )
    return patients.patch_patient(*call, body)


@router.post("/patients/{patient_id}/contact", response_class=HTMLResponse)
def change_contact(
    patient_id: uuid.UUID,
    form: Annotated[_ContactForm, Form()],
    request: Request,
    session: SessionDep,
    user: Clinician,
    now: NowDep,
) -> Response:
    """Change the name the team uses and the number it rings (clinician of the patient's team)."""
    return _submit(
        request, session, user, now, patient_id, form, "contact", "contact", _change_contact
    )


# The contact form's own words: "kind" and "minutes" name other things on the record's forms.
CONTACT_LABELS = {
    "kind": "Kind of contact",
    "occurred_at": "Date and time of the contact",
    "minutes": "Minutes spent",
    "note": "Note",
    "alert_id": "Alert",
    "form": "Form",
}


class _ContactRecordForm(_Form):
    kind: str = ""
    occurred_at: str = ""
    minutes: str = ""
    note: str = ""
    alert_id: str = ""


def _london_instant(text: str) -> datetime:
    """A datetime-local box's value (London wall-clock time, to the minute) as an instant."""
    try:
        local = datetime.fromisoformat(text.strip())
    except ValueError:
        raise field_error("occurred_at", "must be a date and time, like 20/11/2026 14:30") from None
    if local.tzinfo is not None:
        raise field_error("occurred_at", "must be a date and time, like 20/11/2026 14:30")
    return local.replace(tzinfo=LONDON)


def _record_contact(form: _ContactRecordForm, call: Call) -> object:
    body: dict[str, Any] = {
        "kind": form.kind,
        "occurred_at": _london_instant(form.occurred_at),
        "note": form.note.strip() or None,
        "alert_id": form.alert_id.strip() or None,
    }
    minutes = form.minutes.strip()
    if minutes:
        # Digits as a number; anything else as typed, for the API's schema to refuse in words.
        body["minutes"] = int(minutes) if minutes.isdigit() else minutes
    return contacts.record_contact(*call, ContactIn.model_validate(body))


@router.post("/patients/{patient_id}/contacts", response_class=HTMLResponse)
def record_contact(
    patient_id: uuid.UUID,
    form: Annotated[_ContactRecordForm, Form()],
    request: Request,
    session: SessionDep,
    user: Clinician,
    now: NowDep,
) -> Response:
    """Record a call, visit or message and the minutes it took (clinician of the patient's
    team)."""
    return _submit(
        request,
        session,
        user,
        now,
        patient_id,
        form,
        "contacts",
        "contact_recorded",
        _record_contact,
        CONTACT_LABELS,
    )
