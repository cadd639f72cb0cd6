"""Shared helpers for the FHIR tests: every response is parsed with the R4B model classes."""

from __future__ import annotations

import copy
import importlib
import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from service.models import Reading
from tests.support.clock import T0

EXAMPLES = Path(__file__).parent / "examples"
FHIR_JSON = "application/fhir+json"
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"observation-example-{name}.json").read_text())


def parse(response: Any) -> Any:
    """The response as an R4B model: fails the test if it is not valid FHIR."""
    assert response.headers["content-type"].startswith(FHIR_JSON), response.headers
    data = response.json()
    kind = data["resourceType"]
    module = importlib.import_module(f"fhir.resources.R4B.{kind.lower()}")
    return getattr(module, kind).model_validate(data)


def at(hours: float = 1.0, base: datetime = T0) -> str:
    return (base - timedelta(hours=hours)).isoformat()


def as_ours(resource: dict[str, Any], patient_id: uuid.UUID, hours: float = 1.0) -> dict[str, Any]:
    """A spec example about one of our patients, taken recently (nothing else changed)."""
    out = copy.deepcopy(resource)
    out["subject"] = {"reference": f"Patient/{patient_id}"}
    out.pop("effectiveDateTime", None)
    out["effectiveDateTime"] = at(hours)
    return out


def quantity_obs(
    code: str,
    value: float,
    unit: str,
    patient_id: uuid.UUID,
    *,
    hours: float = 1.0,
    identifier: str | None = None,
    system: str = LOINC,
) -> dict[str, Any]:
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": at(hours),
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }
    if identifier:
        obs["identifier"] = [{"system": "urn:example:device-readings", "value": identifier}]
    return obs


def entry(resource: dict[str, Any], **extra: Any) -> dict[str, Any]:
    request = {"method": "POST", "url": resource["resourceType"]}
    request.update(extra.pop("request", {}))
    return {"resource": resource, "request": request, **extra}


def bundle(resources: list[dict[str, Any]], kind: str = "transaction") -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": [entry(r) for r in resources]}


def symptoms(patient_id: uuid.UUID, hours: float = 1.0, **answers: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "breathlessness": "usual",
        "orthopnoea": False,
        "ankle_swelling": "none",
        "dizziness": False,
        "chest_pain": False,
        "fatigue": "usual",
    }
    values.update(answers)
    items = []
    for link_id, value in values.items():
        if isinstance(value, bool):
            answer: dict[str, Any] = {"valueBoolean": value}
        else:
            answer = {
                "valueCoding": {
                    "system": "https://mhf-home.example/fhir/CodeSystem/symptom-answer",
                    "code": value,
                }
            }
        items.append({"linkId": link_id, "answer": [answer]})
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": "https://mhf-home.example/fhir/Questionnaire/mhf-symptoms",
        "status": "completed",
        "subject": {"reference": f"Patient/{patient_id}"},
        "authored": at(hours),
        "item": items,
    }


def rows(world, patient="pat_A1"):
    with world.app.state.sessions() as s:
        return list(
            s.scalars(
                select(Reading)
                .where(Reading.patient_id == world.patients[patient])
                .order_by(Reading.taken_at)
            ).all()
        )


def post(client, world, resource, who="pat_A1", path=None, **headers):
    path = path or f"/fhir/{resource['resourceType']}"
    if resource["resourceType"] == "Bundle":
        path = "/fhir"
    return client.post(
        path,
        json=resource,
        headers={**world.auth(who), "Content-Type": FHIR_JSON, **headers},
    )


def issues(response):
    outcome = parse(response)
    assert outcome.get_resource_type() == "OperationOutcome"
    return outcome.issue
