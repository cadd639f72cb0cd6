"""Callers a route must refuse, beside the world's own: for the tests that hold a one-pass route
to FastAPI's general handler (readings, FHIR Bundles), which send every request as each."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from service.db import unit_of_work
from service.models import DeviceToken, Patient
from tests.support.clock import T0
from tests.support.factories import NHS_NUMBERS, make_device_token, make_patient


def refused_callers(world: Any, app: Any) -> dict[str, dict[str, str]]:
    """Headers of callers without a way in: none, a made-up or revoked device token, a
    discharged patient's, Basic credentials and a malformed access token."""
    with unit_of_work(app.state.sessions) as s:
        revoked_patient = make_patient(s, NHS_NUMBERS[3], world.teams["A1"])
        revoked = make_device_token(s, revoked_patient)
        discharged_patient = make_patient(s, NHS_NUMBERS[4], world.teams["A1"])
        discharged = make_device_token(s, discharged_patient)
        s.flush()
        s.execute(
            update(DeviceToken)
            .where(DeviceToken.patient_id == revoked_patient)
            .values(revoked_at=T0)
        )
        s.execute(
            update(Patient).where(Patient.id == discharged_patient).values(status="discharged")
        )
    return {
        "anonymous": {},
        "bad device token": {"authorization": "Bearer mhfd_not-a-token"},
        "basic": {"authorization": "Basic eDp5"},
        "revoked": {"authorization": f"Bearer {revoked}"},
        "discharged": {"authorization": f"Bearer {discharged}"},
        "bad jwt": {"authorization": "Bearer not.a.jwt"},
    }
