"""Readings: patients post their own; clinicians post readings taken in clinic or by phone."""

from __future__ import annotations

import asyncio
import contextvars
import email.message
import json
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import lru_cache, partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import AwareDatetime
from pydantic_core import PydanticUndefined as Undefined
from pydantic_core import to_json
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY

from service import clinical
from service import readings as service
from service.access import audit_patient_access, patient_for, route_of
from service.api.fastapi_internals import body_limit_error, validate_body
from service.db import unit_of_work
from service.deps import (
    NowDep,
    Principal,
    SessionDep,
    SettingsDep,
    authenticate,
    bearer_credentials,
    require,
)
from service.models import Reading
from service.pagination import aware_datetime, decode, encode_cursor, keyset, uuid_value
from service.patients.events import hospital_stays
from service.patients.state import Stay, in_hospital_on
from service.problems import Conflict, Forbidden, Unauthorized
from service.schemas import IngestOut, Page, ReadingOut, ReadingsBody
from service.security import DEVICE_TOKEN_PREFIX, hash_device_token
from service.timeutil import LONDON

router = APIRouter(prefix="/api/v1", tags=["readings"])
PatientCaller = Annotated[Principal, Depends(require("patient"))]
Clinician = Annotated[Principal, Depends(require("clinician"))]
ReadingType = Literal[
    "weight", "blood_pressure", "heart_rate", "spo2", "symptoms", "potassium", "creatinine", "egfr"
]
INGEST_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"description": "Every reading had been stored before: answered as the first time"},
    409: {"description": "A reading id was already used for a different reading"},
    422: {"description": "A reading is invalid; nothing of the batch was stored"},
}


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


def _ingest(
    body: object,
    patient: clinical.IngestPatient,
    principal: Principal,
    session: SessionDep,
    settings: SettingsDep,
    now: datetime,
    locked: service.LockedPatient | None = None,
) -> Response:
    if patient.status == "discharged":
        raise Conflict("The patient has been discharged from monitoring.")
    items, prefix = service.as_list(body)  # type: ignore[arg-type]
    rows = service.prepare(
        items,
        prefix=prefix,
        now=now,
        skew=timedelta(seconds=settings.future_skew_seconds),
        source="device" if principal.role == "patient" else "clinician",
        entered_by=principal.user_id,
        allow_labs=principal.role == "clinician",
    )
    result = service.ingest(session, patient, rows, now, locked=locked)
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


class _OwnReadingsRoute(APIRoute):
    """POST /me/readings, the busiest route, as one pass instead of FastAPI's general one.

    The general handler resolves five dependencies per request (session, bearer, principal,
    role guard, body) and hops to the thread pool three times (principal, endpoint, commit).
    This handler does what they do in the same order, with the same answers: the body is
    parsed as JSON first (invalid JSON is a 422 before anything else), the bearer credentials
    are read as the ``_bearer`` dependency reads them, then in one worker thread the caller is
    authenticated (401), the role checked (403), the body's validation errors raised (422),
    the readings ingested and the transaction committed before the response, or rolled back.
    The route keeps the declared endpoint below for its OpenAPI description.
    """

    def get_route_handler(self) -> Any:
        async def handler(request: Request) -> Response:
            body = await _json_body(request)
            values, errors = await validate_body(self, body)
            credentials = await bearer_credentials(request)
            return await _in_worker(
                _post_own, request, credentials, values.get("body"), errors, body
            )

        return handler


# The route's worker threads, as many as anyio's default limiter allows the app's others.
_WORKERS = ThreadPoolExecutor(max_workers=40, thread_name_prefix="mhf-own-readings")


async def _in_worker(func: Callable[..., Response], *args: Any) -> Response:
    """``func(*args)`` in a worker thread, in a copy of this context, as run_in_threadpool
    runs it, for a fraction of the event loop's CPU: anyio's to_thread.run_sync (a capacity
    limiter acquired and released, cancel scopes, its own worker queue) cost ~2 % of a single
    reading's post (~75k of ~3.2M instructions). Cancelling the awaiting task does not stop
    the call: the unit of work still commits or rolls back in the thread, and only its
    response is not sent."""
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(_WORKERS, context.run, func, *args)


async def _json_body(request: Request) -> Any:
    """The body as FastAPI's handler reads a JSON body (strict content type): bytes unless the
    content type is JSON, nothing for an empty body, 422 for invalid JSON, 400 for a body that
    cannot be parsed at all (e.g. nested too deep), the body limit's error for one too large."""
    try:
        body_bytes = await request.body()
        if not body_bytes:
            return Undefined
        content_type = request.headers.get("content-type")
        if not content_type or not _is_json(content_type):
            return body_bytes
        return json.loads(body_bytes)
    except json.JSONDecodeError as e:
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body", e.pos),
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": e.msg},
                }
            ],
            body=e.doc,
        ) from e
    except HTTPException:
        raise
    except Exception as e:
        if MAX_BODY_SIZE_SCOPE_KEY in request.scope and (error := body_limit_error(e)):
            raise error from e
        raise HTTPException(status_code=400, detail="There was an error parsing the body") from e


@lru_cache(maxsize=64)
def _is_json(content_type: str) -> bool:
    """FastAPI's test for a JSON body, kept per header value: parsing the header as a MIME
    message on every reading cost more than parsing the reading."""
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def _post_own(
    request: Request, credentials: Any, body: Any, errors: list[Any], raw: Any
) -> Response:
    state = request.app.state
    with unit_of_work(state.sessions) as session:
        token = credentials.credentials if credentials is not None else ""
        if credentials is not None and token.startswith(DEVICE_TOKEN_PREFIX):
            # Device-token auth as get_principal does it (same conditions, same 401), as one
            # Core statement that also takes ingest's patient lock: the token's own patient
            # is the only one this can reach.
            locked = service.lock_device_patient(session, hash_device_token(token))
            if locked is None:
                raise Unauthorized("The device token is not valid.")
            principal = Principal(role="patient", patient_id=locked.patient.id)
        else:
            locked, principal = None, authenticate(request, session, credentials)
        request.state.principal = principal
        if principal.role != "patient":
            raise Forbidden("Your role does not allow this.")
        if errors:
            raise RequestValidationError(errors, body=None if raw is Undefined else raw)
        if locked is None:  # a staff role named "patient" does not exist; never a way in
            raise Forbidden("Your role does not allow this.")
        response = _ingest(
            body, locked.patient, principal, session, state.settings, state.clock(), locked
        )
    return response


def post_my_readings(
    body: Annotated[ReadingsBody, Body()],
    request: Request,
    session: SessionDep,
    principal: PatientCaller,
) -> Response:
    # Declares the route (parameters, security, OpenAPI); _OwnReadingsRoute serves it.
    assert principal.patient_id is not None
    patient = patient_for(session, principal, principal.patient_id)
    state = request.app.state
    return _ingest(body, patient, principal, session, state.settings, state.clock())


router.add_api_route(
    "/me/readings",
    post_my_readings,
    methods=["POST"],
    response_model=IngestOut,
    status_code=status.HTTP_201_CREATED,
    responses=INGEST_RESPONSES,
    summary="Post own readings: one, or {readings: [...]} of up to 500 (patient device token)",
    route_class_override=_OwnReadingsRoute,
)


@router.post(
    "/patients/{patient_id}/readings",
    response_model=IngestOut,
    status_code=status.HTTP_201_CREATED,
    responses=INGEST_RESPONSES,
    summary="Post readings taken in clinic or by phone (clinician of the patient's team)",
)
def post_patient_readings(
    patient_id: uuid.UUID,
    body: Annotated[ReadingsBody, Body()],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: Clinician,
    now: NowDep,
) -> Response:
    patient = patient_for(session, principal, patient_id)
    out = _ingest(body, patient, principal, session, settings, now)
    audit_patient_access(session, route_of(request), principal, patient.id, "C", now, "readings")
    return out


def _list(
    session: SessionDep,
    patient_id: uuid.UUID,
    type_: str | None,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    cursor: str | None,
) -> Page[ReadingOut]:
    after = decode(cursor, keyset(aware_datetime, uuid_value))
    rows = service.list_readings(
        session, patient_id, type_=type_, start=start, end=end, limit=limit + 1, after=after
    )
    page, more = rows[:limit], len(rows) > limit
    next_cursor = encode_cursor(page[-1].taken_at.isoformat(), page[-1].id) if more else None
    stays = hospital_stays(session, patient_id) if page else []
    return Page(items=[reading_out(r, stays) for r in page], next_cursor=next_cursor)


TypeQ = Annotated[ReadingType | None, Query(alias="type")]
FromQ = Annotated[AwareDatetime | None, Query(alias="from", description="RFC 3339, inclusive")]
ToQ = Annotated[AwareDatetime | None, Query(alias="to", description="RFC 3339, exclusive")]
LimitQ = Annotated[int, Query(ge=1, le=1000)]


@router.get(
    "/me/readings", response_model=Page[ReadingOut], summary="Own readings, oldest first (patient)"
)
def get_my_readings(
    session: SessionDep,
    principal: PatientCaller,
    type_: TypeQ = None,
    start: FromQ = None,
    end: ToQ = None,
    limit: LimitQ = 200,
    cursor: str | None = None,
) -> Page[ReadingOut]:
    assert principal.patient_id is not None
    return _list(session, principal.patient_id, type_, start, end, limit, cursor)


@router.get(
    "/patients/{patient_id}/readings",
    response_model=Page[ReadingOut],
    summary="A patient's readings, oldest first (clinician of the team)",
)
def get_patient_readings(
    patient_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Clinician,
    now: NowDep,
    type_: TypeQ = None,
    start: FromQ = None,
    end: ToQ = None,
    limit: LimitQ = 200,
    cursor: str | None = None,
) -> Page[ReadingOut]:
    patient = patient_for(session, principal, patient_id)
    audit_patient_access(session, route_of(request), principal, patient.id, "R", now, "readings")
    return _list(session, patient.id, type_, start, end, limit, cursor)
