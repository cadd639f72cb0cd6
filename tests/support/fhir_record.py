"""A patient with something in every part of the record FHIR serves, through the API as a team
enters it: readings and a blood result, symptoms, KCCQ-12 scores, medicine changes (one with a
dm+d code and a dose), an emergency admission with its discharge, an A&E visit, a death and the
discharge from the service that follows."""

from __future__ import annotations

import importlib
import uuid
from datetime import timedelta
from typing import Any

from tests.support.clock import T0

# A shape-valid dm+d concept id (Verhoeff check digit, partition 00); the tests need the shape,
# not a particular product.
DMD = "318135008"
SYMPTOMS = {
    "breathlessness": "worse",
    "orthopnoea": True,
    "ankle_swelling": "usual",
    "dizziness": False,
    "chest_pain": False,
    "fatigue": "usual",
}


def _ok(response: Any) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()


def seed_record(client: Any, headers: dict[str, str], pid: uuid.UUID) -> dict[str, int]:
    """Enter the record; the counts of each FHIR resource type it should come out as."""
    base = f"/api/v1/patients/{pid}"
    readings: list[dict[str, Any]] = [
        {"type": "weight", "value": 80 + i / 10, "unit": "kg"} for i in range(4)
    ] + [
        {"type": "potassium", "value": 4.6, "unit": "mmol/L"},
        {"type": "symptoms", **SYMPTOMS},
    ]
    for i, reading in enumerate(readings):
        body: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "taken_at": (T0 - timedelta(days=9 - i)).isoformat(),
        }
        if reading["type"] == "symptoms":
            answers = {k: v for k, v in reading.items() if k != "type"}
            body |= {"type": "symptoms", "answers": answers}
        else:
            body |= reading
        _ok(client.post(f"{base}/readings", json=body, headers=headers))
    for score, on in ((41.5, "2026-10-01"), (63.0, "2026-11-01")):
        kccq = {"score": score, "timepoint": "other", "assessed_on": on}
        _ok(client.post(f"{base}/kccq", json=kccq, headers=headers))
    medicines: list[dict[str, Any]] = [
        {
            "pillar": "beta_blocker",
            "status": "started",
            "changed_on": "2026-10-02",
            "drug": "Bisoprolol",
            "dmd_code": DMD,
            "dose_value": 2.5,
            "dose_unit": "mg",
        },
        {"pillar": "mra", "status": "not_tolerated", "changed_on": "2026-10-20"},
    ]
    for medicine in medicines:
        _ok(client.post(f"{base}/medications", json=medicine, headers=headers))
    events: list[dict[str, Any]] = [
        {
            "kind": "admission",
            "admitted_on": "2026-10-05",
            "discharged_on": "2026-10-09",
            "hf_related": True,
        },
        {"kind": "ae_attendance", "attended_on": "2026-10-25"},
        {"kind": "death", "died_on": "2026-11-19"},
    ]
    for event in events:
        _ok(client.post(f"{base}/events", json=event, headers=headers))
    # Recording a death need not discharge; the team discharges with the reason.
    response = client.post(
        f"{base}/discharge", json={"date": "2026-11-19", "reason": "died"}, headers=headers
    )
    assert response.status_code in (200, 201, 409), response.text
    return {
        "Patient": 1,
        "Encounter": 3,  # the @home episode, the admission, the A&E visit
        "MedicationStatement": 2,
        "Observation": 4 + 1 + 2,  # weights, the potassium, two KCCQ-12 scores
        "QuestionnaireResponse": 1,
    }


def validated(resource: dict[str, Any]) -> Any:
    """The resource built with its fhir.resources R4B class: fails if it is not valid FHIR."""
    kind = resource["resourceType"]
    module = importlib.import_module(f"fhir.resources.R4B.{kind.lower()}")
    return getattr(module, kind).model_validate(resource)
