"""A readings body as sent, to the rows ingest stores: read, parsed, and checked whole.

Every error a body has is answered at once (issue 23): the schema is checked over the whole
body, and the plausibility checks (range, time, duplicate ids, who may send labs) run over every
reading that passed it, so a bad time zone at reading 4 does not hide an impossible SpO2 at
reading 3. Each error points into the body as sent (``service.problem_codes``). Nothing is
stored unless the whole body is good: the batch stays all-or-nothing.

The plain route (``api.post_my_readings``), its one-pass twin (``fast.py``) and the clinicians'
route read and check bodies here, so all three answer alike.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from fastapi import Request
from pydantic import TypeAdapter, ValidationError

from service.problem_codes import Code, entry
from service.problems import (
    Problem,
    Unprocessable,
    UnsupportedMediaType,
    field_errors,
    is_json,
    malformed_json,
    summary,
)
from service.readings.schemas import (
    LAB_UNITS,
    BloodPressureIn,
    HeartRateIn,
    LabIn,
    ReadingBatchIn,
    ReadingIn,
    ReadingsBody,
    Spo2In,
    SymptomsIn,
    WeightIn,
)
from service.readings.units import FieldError, check_range, check_time, to_kg


class _NoBody:
    """What an empty request body reads as."""


NO_BODY: Final = _NoBody()
_BODY: TypeAdapter[Any] = TypeAdapter(ReadingsBody)
_ONE: TypeAdapter[Any] = TypeAdapter(ReadingIn)
EMPTY_DETAIL = 'The body is empty: send one reading, or {"readings": [...]} of up to 500.'


async def json_body(request: Request) -> Any:
    """The body parsed as JSON (``NO_BODY`` if empty): 415 for a body that is not declared
    JSON, 422 (line and column) for one that is not JSON, 400 for one no parser takes (nested
    thousands deep). Run before the caller is authenticated, as FastAPI reads a body."""
    raw = await request.body()
    if not raw:
        return NO_BODY
    content_type = request.headers.get("content-type")
    if not is_json(content_type):
        raise UnsupportedMediaType(content_type)
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise malformed_json(exc.doc, exc.pos, exc.msg) from exc
    except (ValueError, RecursionError) as exc:  # not UTF-8; nested too deep
        detail = "The body could not be parsed as UTF-8 JSON."
        error = entry([], Code.MALFORMED_JSON, detail, "json_invalid")
        raise Problem(detail, extra={"errors": [error]}) from exc


def rows_of(
    raw: Any,
    *,
    now: datetime,
    skew: timedelta,
    source: str,
    entered_by: uuid.UUID | None,
    allow_labs: bool,
) -> list[dict[str, Any]]:
    """The rows to insert for a body (one reading or ``{"readings": [...]}``), or 422 with
    every error in it."""
    if raw is NO_BODY:
        raise invalid([entry([], Code.MISSING, EMPTY_DETAIL, "missing")])
    try:
        body = _BODY.validate_python(raw)
    except ValidationError as exc:
        schema = field_errors(exc.errors(include_url=False), raw)
        readings, prefix = _valid_readings(raw)
    else:
        schema = []
        if isinstance(body, ReadingBatchIn):
            readings, prefix = list(enumerate(body.readings)), "readings."
        else:
            readings, prefix = [(0, body)], ""
    rows, errors = check(
        readings,
        prefix=prefix,
        now=now,
        skew=skew,
        source=source,
        entered_by=entered_by,
        allow_labs=allow_labs,
    )
    if schema or errors:
        everything = schema + [error_entry(e) for e in errors]
        raise invalid(sorted(everything, key=_reading_index))
    return rows


def _valid_readings(raw: Any) -> tuple[list[tuple[int, Any]], str]:
    """The readings of a batch that failed the schema which pass it alone, with their index:
    their plausibility is checked too. A single reading that failed has none."""
    if not isinstance(raw, dict) or not isinstance(raw.get("readings"), list):
        return [], ""
    valid = []
    for index, item in enumerate(raw["readings"]):
        try:
            valid.append((index, _ONE.validate_python(item)))
        except ValidationError:
            continue
    return valid, "readings."


def _reading_index(error: dict[str, Any]) -> int:
    steps = str(error.get("pointer", "")).split("/")
    if len(steps) > 2 and steps[1] == "readings" and steps[2].isdigit():
        return int(steps[2])
    return -1


def check(
    readings: Sequence[tuple[int, ReadingIn]],
    *,
    prefix: str,
    now: datetime,
    skew: timedelta,
    source: str,
    entered_by: uuid.UUID | None,
    allow_labs: bool,
) -> tuple[list[dict[str, Any]], list[FieldError]]:
    """The plausibility checks (range, time, duplicate ids, who may send what) of readings that
    passed the schema, each with its index in the body: the rows ready to insert and every
    error found, each named ``{prefix}{index}.{field}``."""
    errors: list[FieldError] = []
    rows: list[dict[str, Any]] = []
    seen: set[uuid.UUID] = set()
    for index, reading in readings:
        where = f"{prefix}{index}." if prefix else ""
        if reading.id in seen:
            errors.append(
                FieldError(
                    f"{where}id",
                    "the same id appears twice in this batch",
                    code=Code.DUPLICATE_ID,
                )
            )
        seen.add(reading.id)
        if (err := check_time(f"{where}taken_at", reading.taken_at, now, skew)) is not None:
            errors.append(err)
        row, row_errors = _convert(reading, where, allow_labs)
        errors.extend(row_errors)
        row.update(
            id=reading.id,
            type=reading.type,
            # In UTC, as the database gives it back, so an answer built from these rows is
            # the same as one built from the stored readings.
            taken_at=reading.taken_at.astimezone(UTC),
            received_at=now,
            source=source,
            entered_by=entered_by,
        )
        rows.append(row)
    return rows, errors


def error_entry(error: FieldError) -> dict[str, str]:
    path = [int(step) if step.isdigit() else step for step in error.field.split(".")]
    return entry(path, error.code, error.message, error.type)


def invalid(errors: list[dict[str, Any]]) -> Unprocessable:
    """422 with every error, in the order of the body."""
    return Unprocessable(summary(errors), extra={"errors": errors})


def _convert(
    reading: ReadingIn, where: str, allow_labs: bool
) -> tuple[dict[str, Any], list[FieldError]]:
    errors: list[FieldError] = []

    def check(name: str, fld: str, value: float, unit: str) -> None:
        if (err := check_range(where + fld, name, value, unit)) is not None:
            errors.append(err)

    row: dict[str, Any] = {"value": None, "systolic": None, "diastolic": None, "answers": None}
    row.update(value_as_sent=None, unit_as_sent=None)
    if isinstance(reading, WeightIn):
        kg = to_kg(reading.value, reading.unit)
        check("weight", "value", kg, "kg")
        row.update(value=kg, value_as_sent=reading.value, unit_as_sent=reading.unit)
    elif isinstance(reading, BloodPressureIn):
        check("systolic", "systolic", reading.systolic, "mmHg")
        check("diastolic", "diastolic", reading.diastolic, "mmHg")
        if reading.diastolic >= reading.systolic:
            errors.append(FieldError(where + "diastolic", "diastolic must be below systolic"))
        row.update(systolic=reading.systolic, diastolic=reading.diastolic, unit_as_sent="mmHg")
    elif isinstance(reading, HeartRateIn):
        check("heart_rate", "value", reading.value, "/min")
        row.update(value=reading.value, unit_as_sent=reading.unit)
    elif isinstance(reading, Spo2In):
        check("spo2", "value", reading.value, "%")
        row.update(value=reading.value, unit_as_sent="%")
    elif isinstance(reading, SymptomsIn):
        row.update(answers=reading.answers.model_dump())
    elif isinstance(reading, LabIn):
        if not allow_labs:
            message = "lab results are entered by clinicians"
            errors.append(FieldError(where + "type", message, code=Code.NOT_ALLOWED))
        if reading.unit != LAB_UNITS[reading.type]:
            message = f"use {LAB_UNITS[reading.type]}"
            errors.append(FieldError(where + "unit", message, code=Code.UNKNOWN_UNIT))
        check(reading.type, "value", reading.value, reading.unit)
        row.update(value=reading.value, unit_as_sent=reading.unit)
    return row, errors
