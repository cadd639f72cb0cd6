"""What the readings routes answer: a reading as ``ReadingOut`` shows it, and ingest's answer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

from fastapi import Response, status
from pydantic_core import to_json

from service.models import Reading
from service.patients.state import Stay, in_hospital_on
from service.readings.evaluation import IngestPatient
from service.readings.schemas import ReadingOut
from service.readings.service import IngestResult
from service.timeutil import LONDON

_UNITS = {"heart_rate": "/min", "spo2": "%", "blood_pressure": "mmHg"}


def reading_fields(row: Reading | dict[str, Any], stays: Sequence[Stay] = ()) -> dict[str, Any]:
    """A reading as the API shows it (ReadingOut's fields), from a stored row or its dict;
    ``stays``: the patient's hospital stays, to mark a reading taken during one."""
    get = row.get if isinstance(row, dict) else partial(getattr, row)
    kind, value = get("type"), get("value")
    unit = None
    if kind == "weight" and value is not None:
        value, unit = round(value, 2), "kg"
    elif kind in ("heart_rate", "spo2", "blood_pressure"):
        unit = _UNITS[kind]
    elif kind in ("potassium", "creatinine", "egfr"):
        unit = get("unit_as_sent")
    return {
        "id": get("id"),
        "type": kind,
        "taken_at": get("taken_at"),
        "received_at": get("received_at"),
        "value": value,
        "unit": unit,
        "systolic": get("systolic"),
        "diastolic": get("diastolic"),
        "answers": get("answers"),
        "value_as_sent": get("value_as_sent"),
        "unit_as_sent": get("unit_as_sent"),
        "source": get("source"),
        "in_hospital": _in_hospital(get("taken_at"), stays),
    }


def _in_hospital(taken_at: datetime | None, stays: Sequence[Stay]) -> bool:
    if not stays or taken_at is None:
        return False
    return in_hospital_on(stays, taken_at.astimezone(LONDON).date())


def reading_out(row: Reading, stays: Sequence[Stay] = ()) -> ReadingOut:
    return ReadingOut.model_validate(reading_fields(row, stays))


def ingest_answer(patient: IngestPatient, result: IngestResult) -> Response:
    """201 with what was stored, or 200 if every reading had been stored before."""
    # The stay the patient is in now, from their row: no query on the busiest route. A late
    # reading from an earlier stay is marked in the lists, which read every stay.
    since = patient.in_hospital_since
    stays = [Stay(since, None, None)] if since is not None else []
    # Serialised here, once, from plain values in pydantic-core: returning the model would have
    # FastAPI validate it again as the response model (in another thread hop), and building
    # IngestOut first cost twice the serialising. The values are typed as IngestOut's fields
    # (reading_fields, _finding_fields, _advice_fields), so the bytes are the ones the model
    # gives (tests/service/test_readings.py compares them).
    body = {
        "stored": [reading_fields(r, stays) for r in result.stored_rows],
        "already_stored": [reading_fields(r, stays) for r in result.already_stored],
        "findings": [_finding_fields(f) for f in result.findings],
        "advice": _advice_fields(result.advice),
    }
    return Response(
        to_json(body),
        status_code=status.HTTP_201_CREATED if result.stored_rows else status.HTTP_200_OK,
        media_type="application/json",
    )


def _finding_fields(finding: dict[str, Any]) -> dict[str, Any]:
    """A finding as FindingOut shows it: its fields in order, nothing else (a re-sent reading's
    findings come from its stored JSON)."""
    return {
        "rule_id": finding["rule_id"],
        "level": finding["level"],
        "pathway_version": finding["pathway_version"],
        "title": finding["title"],
        "summary": finding["summary"],
        "evidence": list(finding["evidence"]),
    }


def _advice_fields(advice: dict[str, Any]) -> dict[str, Any]:
    """The advice as AdviceOut shows it."""
    return {"level": advice["level"], "code": advice["code"], "text": advice["text"]}
