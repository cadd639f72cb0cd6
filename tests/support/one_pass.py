"""For the tests that hold a one-pass route to FastAPI's general handler (readings, FHIR
Bundles): the callers a route must refuse, the count of requests the one-pass handler served,
and the comparison of two answers."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
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


# The headers a client acts on.
HEADERS = ("content-type", "location", "www-authenticate", "retry-after", "content-length")


def count_passes(monkeypatch: pytest.MonkeyPatch, module: ModuleType, name: str) -> list[int]:
    """A list that grows by one each time ``module.name`` (the one-pass worker) runs."""
    passes: list[int] = []
    worker = getattr(module, name)

    def counted(*args: Any) -> Any:
        passes.append(1)
        return worker(*args)

    monkeypatch.setattr(module, name, counted)
    return passes


def assert_same_answer(one_pass: Any, plain: Any, name: str, plain_body: bytes) -> None:
    """Status, the headers a client acts on, and the body (``plain_body``: the plain answer's,
    read as the one-pass caller's) are equal."""
    assert one_pass.status_code == plain.status_code, name
    for header in HEADERS:
        assert one_pass.headers.get(header) == plain.headers.get(header), (name, header)
    assert one_pass.content == plain_body, name
