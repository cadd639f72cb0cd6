"""Device tokens from the patient page: issue (or replace) with POST-redirect-GET, show the new
token once, revoke (clinicians of the patient's team).

The token is stored only as a hash, so the page that shows it must get it from the POST that
made it. The POST puts it in a short-lived cookie, Fernet-encrypted under a key of its own and
bound to the signed-in session and the patient, scoped to the one page that shows it; that page
deletes the cookie as it shows the token. A reload, the back button or another tab finds no
cookie and says the token was already shown; a reload can never issue a second token, because
only a POST issues one.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Annotated

from cryptography.fernet import Fernet, InvalidToken
from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel
from sqlalchemy import select

from service.access import audit_patient_access, patient_for, route_of
from service.deps import NowDep, SessionDep
from service.identity.security import hash_device_token
from service.models import DeviceToken
from service.patients import service as patients
from service.problems import Problem
from service.settings import Settings, derived_key
from service.ui import session as ui_session
from service.ui.pages import Clinician, csrf_failed, error_page, render, secure, with_msg
from service.ui.session import PageUser

router = APIRouter(prefix="/ui", include_in_schema=False)

COOKIE_NAME = "mhf_ui_new_token"
# Long enough to survive a slow redirect, short enough that a forgotten cookie is useless.
SHOW_WITHIN_SECONDS = 300


class _TokenForm(BaseModel):
    csrf_token: str = ""
    replace: str = ""


def _page_path(patient_id: uuid.UUID) -> str:
    return f"/ui/patients/{patient_id}/device-token"


def _box(settings: Settings) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(derived_key(settings, "mhf-ui-new-device-token")))


def _seal(
    request: Request, user: PageUser, patient_id: uuid.UUID, token: str, now: datetime
) -> str:
    owner = {"u": str(user.principal.user_id), "n": user.session.nonce, "p": str(patient_id)}
    payload = json.dumps({**owner, "t": token}).encode()
    return _box(request.app.state.settings).encrypt_at_time(payload, int(now.timestamp())).decode()


def _unseal(request: Request, user: PageUser, patient_id: uuid.UUID, now: datetime) -> str | None:
    """The token the POST left for this user, session and patient, or None."""
    sealed = request.cookies.get(COOKIE_NAME)
    if not sealed or len(sealed) > 1000:
        return None
    try:
        raw = _box(request.app.state.settings).decrypt_at_time(
            sealed.encode(), SHOW_WITHIN_SECONDS, int(now.timestamp())
        )
        data = json.loads(raw)
    except (InvalidToken, ValueError):
        return None
    if data.get("u") != str(user.principal.user_id) or data.get("n") != user.session.nonce:
        return None
    if data.get("p") != str(patient_id):
        return None
    token = data.get("t")
    return token if isinstance(token, str) else None


def _cookie_args(request: Request, patient_id: uuid.UUID) -> dict[str, object]:
    settings: Settings = request.app.state.settings
    return {
        "path": _page_path(patient_id),
        "httponly": True,
        "secure": settings.secure_cookies or request.url.scheme == "https",
        "samesite": "strict",
    }


def _not_found(request: Request, user: PageUser) -> Response:
    return error_page(request, user, 404, "Patient not found", "No such patient in your teams.")


@router.post("/patients/{patient_id}/device-token", response_class=HTMLResponse)
def issue_device_token(
    patient_id: uuid.UUID,
    form: Annotated[_TokenForm, Form()],
    request: Request,
    session: SessionDep,
    user: Clinician,
    now: NowDep,
) -> Response:
    """Issue a device token, or replace the ones in use, and go to the page that shows it once
    (clinician of the patient's team)."""
    if not ui_session.csrf_ok(request, user.session, form.csrf_token):
        return csrf_failed(request, user)
    try:
        issued = patients.issue_device_token(
            session, user.principal, route_of(request), now, patient_id, replace=bool(form.replace)
        )
    except Problem as exc:
        session.rollback()
        if exc.status == 404:
            return _not_found(request, user)
        return error_page(request, user, exc.status, "No device token issued", exc.detail)
    response = RedirectResponse(_page_path(patient_id), status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        _seal(request, user, patient_id, issued.token, now),
        max_age=SHOW_WITHIN_SECONDS,
        **_cookie_args(request, patient_id),  # type: ignore[arg-type]
    )
    return secure(response)


@router.get("/patients/{patient_id}/device-token", response_class=HTMLResponse)
def new_device_token(
    patient_id: uuid.UUID, request: Request, session: SessionDep, user: Clinician, now: NowDep
) -> Response:
    """The token just issued, shown once; afterwards, that it was shown (clinician of the
    patient's team)."""
    try:
        patient = patient_for(session, user.principal, patient_id)
    except Problem:
        return _not_found(request, user)
    token = _unseal(request, user, patient_id, now)
    if token is not None:
        row = session.scalar(
            select(DeviceToken).where(DeviceToken.token_hash == hash_device_token(token))
        )
        # Revoked in the meantime (another tab, a colleague): showing it would only mislead.
        if row is None or row.patient_id != patient.id or row.revoked_at is not None:
            token = None
    audit_patient_access(
        session,
        route_of(request),
        user.principal,
        patient.id,
        "R",
        now,
        "device-token shown" if token else "device-token page",
    )
    response = render(
        request,
        "device_token.html",
        user,
        {"nav": "queue", "patient": patient, "token": token},
    )
    response.delete_cookie(COOKIE_NAME, **_cookie_args(request, patient_id))  # type: ignore[arg-type]
    return response


@router.post("/patients/{patient_id}/device-tokens/{token_id}/revoke")
def revoke_device_token(
    patient_id: uuid.UUID,
    token_id: uuid.UUID,
    form: Annotated[_TokenForm, Form()],
    request: Request,
    session: SessionDep,
    user: Clinician,
    now: NowDep,
) -> Response:
    """Revoke a device token (clinician of the patient's team)."""
    if not ui_session.csrf_ok(request, user.session, form.csrf_token):
        return csrf_failed(request, user)
    try:
        patients.revoke_device_token(
            session, user.principal, route_of(request), now, patient_id, token_id
        )
    except Problem:
        session.rollback()
        return error_page(request, user, 404, "Not found", "No such device token for this patient.")
    target = with_msg(f"/ui/patients/{patient_id}", "token_revoked", "device-tokens")
    return secure(RedirectResponse(target, status_code=303))
