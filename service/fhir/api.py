"""FHIR R4 front door: the same auth, validation, idempotency and pathway rules as /api/v1.

Every route uses ``FhirRoute``, so errors are OperationOutcome (``application/fhir+json``) and
the unit of work has rolled back before the error is written. Ingestion is
``service.fhir.ingest``, which calls ``service.readings`` like the native routes do.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from service.access import audit_patient_access, patient_for, route_of
from service.deps import NowDep, Principal, PrincipalDep, SessionDep, SettingsDep, require
from service.fhir import batch, codes, ingest, outbound, parse, search
from service.fhir.capability import capability_statement
from service.fhir.inbound import EntryKey, Refused
from service.fhir.outcome import FhirError, FhirRoute, Issue, fhir_response, outcome, parse_json
from service.fhir.problem_codes import coding
from service.fhir.questionnaire import questionnaire
from service.fhir.resources import (
    FHIR_JSON,
    Bundle,
    Flag,
    Observation,
    Patient,
    QuestionnaireResponse,
)
from service.fhir.search import Params, Window
from service.models import Alert, Reading
from service.problems import NotFound
from service.settings import Settings

router = APIRouter(prefix="/fhir", tags=["fhir"], route_class=FhirRoute)
Poster = Annotated[Principal, Depends(require("patient", "clinician"))]
Clinician = Annotated[Principal, Depends(require("clinician"))]
JSON_TYPES = {"application/fhir+json", "application/json", "application/json+fhir"}
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {FHIR_JSON: {}}, "description": "A FHIR resource"},
}


async def raw_body(request: Request) -> bytes:
    """The body as bytes: parsed in the (threadpool) handler, with FHIR errors for bad JSON."""
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


def _base(request: Request) -> str:
    """The FHIR base clients reach, from settings: the Host header is the client's to forge, and
    a Location or Bundle link built on it would send the next request wherever it said."""
    settings: Settings = request.app.state.settings
    return settings.public_base_url + "/fhir"


def _body(request: Request, raw: bytes) -> Any:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media and media not in JSON_TYPES:
        text = f"{media} is not supported: send application/fhir+json"
        raise FhirError(
            415, [Issue("not-supported", text, details=coding("unsupported_media_type"))]
        )
    return parse_json(raw)


def _prefer(request: Request, default: str) -> str:
    for part in request.headers.get("prefer", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "return" and value in ("minimal", "representation", "OperationOutcome"):
            return value
    return default


def _audit(
    session: Session,
    request: Request,
    principal: Principal,
    patient_ids: list[uuid.UUID],
    action: str,
    now: datetime,
    detail: str,
) -> None:
    if patient_ids:
        audit_patient_access(
            session,
            route_of(request),
            principal,
            sorted(set(patient_ids), key=str),
            action,
            now,
            detail,
        )


def _searchset(
    entries: list[dict[str, Any]], links: list[tuple[str, str]], now: datetime
) -> Response:
    return fhir_response(
        Bundle.model_validate(outbound.bundle("searchset", entries, links=links, timestamp=now))
    )


# --- conformance -------------------------------------------------------------------------


@router.get("/metadata", responses=RESPONSES, summary="CapabilityStatement (no auth)")
def metadata(request: Request, now: NowDep) -> Response:
    statement = capability_statement(str(request.app.version), _base(request), now)
    return fhir_response(statement)


@router.get(
    "/Questionnaire/{questionnaire_id}",
    responses=RESPONSES,
    summary="The symptom Questionnaire (any valid token)",
)
def read_questionnaire(questionnaire_id: str, principal: PrincipalDep) -> Response:
    if questionnaire_id != codes.QUESTIONNAIRE_ID:
        raise NotFound("No such Questionnaire.")
    return fhir_response(questionnaire())


# --- create ------------------------------------------------------------------------------


def _create(
    resource_type: str,
    request: Request,
    raw: bytes,
    session: Session,
    settings: Any,
    principal: Principal,
    now: datetime,
) -> Response:
    resource = parse.parse_resource(_body(request, raw), resource_type)
    key = EntryKey(if_none_exist=request.headers.get("if-none-exist"), where=resource_type)
    try:
        mapped = ingest.map_resource(resource, resource_type, key)
    except Refused as exc:
        raise ingest.refused(exc) from exc
    (result,) = ingest.ingest(session, principal, settings, [mapped], now)
    _audit(session, request, principal, [result.patient_id], "C", now, f"fhir {resource_type}")
    status = 201 if result.created else 200
    out = outbound.reading_resource(result.row)
    headers = {
        "Location": f"{_base(request)}/{resource_type}/{out['id']}/_history/1",
        "ETag": 'W/"1"',
    }
    prefer = _prefer(request, "representation")
    if prefer == "minimal":
        return Response(status_code=status, headers=headers)
    if prefer == "OperationOutcome":
        return fhir_response(
            outcome(outbound.advice_issues(result.findings, result.advice)), status, headers
        )
    model = Observation if resource_type == "Observation" else QuestionnaireResponse
    return fhir_response(model.model_validate(out), status, headers)


@router.post(
    "/Observation",
    status_code=201,
    responses=RESPONSES,
    summary="Create an Observation (patient token: own; clinician: own teams' patients)",
)
def create_observation(
    request: Request,
    raw: RawBody,
    session: SessionDep,
    settings: SettingsDep,
    principal: Poster,
    now: NowDep,
) -> Response:
    return _create("Observation", request, raw, session, settings, principal, now)


@router.post(
    "/QuestionnaireResponse",
    status_code=201,
    responses=RESPONSES,
    summary="Create symptom answers to Questionnaire/mhf-symptoms (patient: own; clinician: teams)",
)
def create_questionnaire_response(
    request: Request,
    raw: RawBody,
    session: SessionDep,
    settings: SettingsDep,
    principal: Poster,
    now: NowDep,
) -> Response:
    return _create("QuestionnaireResponse", request, raw, session, settings, principal, now)


@router.post(
    "",
    responses=RESPONSES,
    summary="A transaction (all or nothing) or batch (per entry) (patient: own; clinician: teams)",
)
def post_bundle(
    request: Request,
    raw: RawBody,
    session: SessionDep,
    settings: SettingsDep,
    principal: Poster,
    now: NowDep,
) -> Response:
    bundle = parse.parse_bundle(_body(request, raw))
    results = batch.ingest_bundle(session, principal, settings, bundle, now)
    stored = [r.patient_id for r in results if not isinstance(r, batch.Failed)]
    _audit(session, request, principal, stored, "C", now, "fhir Bundle")
    body = batch.response_body(
        bundle.type, results, _prefer(request, "minimal"), _base(request), now
    )
    return Response(body, media_type=FHIR_JSON)


# --- read and search ---------------------------------------------------------------------


def _search_readings(
    request: Request, session: Session, principal: Principal, now: datetime, resource_type: str
) -> Response:
    params = Params(list(request.query_params.multi_items()))
    observation = resource_type == "Observation"
    date_name = "date" if observation else "authored"
    params.check_known(
        {"subject", "patient", "patient.identifier", date_name}
        | ({"code"} if observation else set())
    )
    patient = search.patient_of(session, principal, params)
    types = (
        search.reading_types(params, outbound.OBSERVATION_TYPES) if observation else {"symptoms"}
    )
    start, end = search.date_bounds(params.all(date_name), date_name)
    window = Window(
        types, start, end, search.descending(params), search.count(params), params.one("_cursor")
    )
    rows, next_cursor = search.readings(session, patient.id, window)
    _audit(session, request, principal, [patient.id], "R", now, f"fhir {resource_type} search")
    base = _base(request)
    links = [("self", f"{base}/{resource_type}?{params.query_string()}")]
    if next_cursor:
        links.append(("next", f"{base}/{resource_type}?{params.query_string(_cursor=next_cursor)}"))
    entries = [
        {
            "fullUrl": f"{base}/{resource_type}/{outbound.resource_id(r.patient_id, r.id)}",
            "resource": outbound.reading_resource(r),
            "search": {"mode": "match"},
        }
        for r in rows
    ]
    return _searchset(entries, links, now)


@router.get(
    "/Observation",
    responses=RESPONSES,
    summary="Search a patient's Observations (patient: own; clinician: teams)",
)
def search_observations(
    request: Request, session: SessionDep, principal: Poster, now: NowDep
) -> Response:
    return _search_readings(request, session, principal, now, "Observation")


@router.get(
    "/QuestionnaireResponse",
    responses=RESPONSES,
    summary="Search a patient's symptom answers (patient: own; clinician: teams)",
)
def search_questionnaire_responses(
    request: Request, session: SessionDep, principal: Poster, now: NowDep
) -> Response:
    return _search_readings(request, session, principal, now, "QuestionnaireResponse")


def _read_reading(
    resource_id: str,
    resource_type: str,
    request: Request,
    session: Session,
    principal: Principal,
    now: datetime,
) -> Response:
    key = outbound.parse_resource_id(resource_id)
    if key is None:
        raise NotFound(f"No such {resource_type}.")
    patient = patient_for(session, principal, key[0])
    row = session.get(Reading, key)
    if row is None or outbound.resource_type_of(row) != resource_type:
        raise NotFound(f"No such {resource_type}.")
    _audit(session, request, principal, [patient.id], "R", now, f"fhir {resource_type} read")
    model = Observation if resource_type == "Observation" else QuestionnaireResponse
    return fhir_response(model.model_validate(outbound.reading_resource(row)))


@router.get(
    "/Observation/{resource_id}",
    responses=RESPONSES,
    summary="Read an Observation (patient: own; clinician: teams)",
)
def read_observation(
    resource_id: str, request: Request, session: SessionDep, principal: Poster, now: NowDep
) -> Response:
    return _read_reading(resource_id, "Observation", request, session, principal, now)


@router.get(
    "/QuestionnaireResponse/{resource_id}",
    responses=RESPONSES,
    summary="Read symptom answers (patient: own; clinician: teams)",
)
def read_questionnaire_response(
    resource_id: str, request: Request, session: SessionDep, principal: Poster, now: NowDep
) -> Response:
    return _read_reading(resource_id, "QuestionnaireResponse", request, session, principal, now)


def _patient_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("No such patient.") from None


@router.get(
    "/Patient/{patient_id}", responses=RESPONSES, summary="Read a Patient (clinician of the team)"
)
def read_patient(
    patient_id: str, request: Request, session: SessionDep, principal: Clinician, now: NowDep
) -> Response:
    patient = patient_for(session, principal, _patient_id(patient_id))
    _audit(session, request, principal, [patient.id], "R", now, "fhir Patient read")
    return fhir_response(Patient.model_validate(outbound.patient(patient)))


@router.get(
    "/Patient/{patient_id}/$everything",
    responses=RESPONSES,
    summary="The patient, their Flags and readings; _count pages readings (clinician of the team)",
)
def patient_everything(
    patient_id: str, request: Request, session: SessionDep, principal: Clinician, now: NowDep
) -> Response:
    patient = patient_for(session, principal, _patient_id(patient_id))
    params = Params(list(request.query_params.multi_items()))
    params.check_known({"start", "end"})
    start, _ = search.date_bounds([f"ge{v}" for v in params.all("start")], "start")
    _, end = search.date_bounds([f"le{v}" for v in params.all("end")], "end")
    cursor = params.one("_cursor")
    types = outbound.OBSERVATION_TYPES | {"symptoms"}
    window = Window(types, start, end, search.descending(params), search.count(params, 500), cursor)
    rows, next_cursor = search.readings(session, patient.id, window)
    base = _base(request)
    entries: list[dict[str, Any]] = []
    if cursor is None:
        # The patient and their alerts lead the first page; later pages carry readings only.
        entries.append(
            {
                "fullUrl": f"{base}/Patient/{patient.id}",
                "resource": outbound.patient(patient),
                "search": {"mode": "match"},
            }
        )
        entries += [
            {
                "fullUrl": f"{base}/Flag/{a.id}",
                "resource": outbound.flag(a),
                "search": {"mode": "include"},
            }
            for a in search.alerts(session, patient.id, None)
        ]
    for r in rows:
        kind = outbound.resource_type_of(r)
        entries.append(
            {
                "fullUrl": f"{base}/{kind}/{outbound.resource_id(r.patient_id, r.id)}",
                "resource": outbound.reading_resource(r),
                "search": {"mode": "include"},
            }
        )
    _audit(session, request, principal, [patient.id], "R", now, "fhir Patient $everything")
    url = f"{base}/Patient/{patient.id}/$everything"
    links = [("self", f"{url}?{params.query_string()}".rstrip("?"))]
    if next_cursor:
        links.append(("next", f"{url}?{params.query_string(_cursor=next_cursor)}"))
    return _searchset(entries, links, now)


@router.get(
    "/Flag",
    responses=RESPONSES,
    summary="A patient's pathway alerts as Flags (clinician of the team)",
)
def search_flags(
    request: Request, session: SessionDep, principal: Clinician, now: NowDep
) -> Response:
    params = Params(list(request.query_params.multi_items()))
    params.check_known({"subject", "patient", "patient.identifier", "status"})
    patient = search.patient_of(session, principal, params)
    rows = search.alerts(session, patient.id, params.one("status"))
    _audit(session, request, principal, [patient.id], "R", now, "fhir Flag search")
    base = _base(request)
    entries = [
        {
            "fullUrl": f"{base}/Flag/{a.id}",
            "resource": outbound.flag(a),
            "search": {"mode": "match"},
        }
        for a in rows
    ]
    links = [("self", f"{base}/Flag?{params.query_string()}")]
    return _searchset(entries, links, now)


@router.get("/Flag/{flag_id}", responses=RESPONSES, summary="Read a Flag (clinician of the team)")
def read_flag(
    flag_id: str, request: Request, session: SessionDep, principal: Clinician, now: NowDep
) -> Response:
    try:
        alert = session.get(Alert, uuid.UUID(flag_id))
    except ValueError:
        alert = None
    if alert is None:
        raise NotFound("No such Flag.")
    patient_for(session, principal, alert.patient_id)
    _audit(session, request, principal, [alert.patient_id], "R", now, "fhir Flag read")
    return fhir_response(Flag.model_validate(outbound.flag(alert)))


@router.api_route(
    "/{rest:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
def unsupported(rest: str, request: Request) -> Response:
    """Anything else under /fhir: an OperationOutcome rather than the app's problem+json 404."""
    path = request.url.path
    known = any(
        getattr(route, "path_regex", None) is not None
        and route.path_regex.match(path)  # type: ignore[attr-defined]
        and route.endpoint is not unsupported  # type: ignore[attr-defined]
        for route in router.routes
    )
    if known:
        raise FhirError(
            405, [Issue("not-supported", f"{request.method} is not supported on {path}")]
        )
    raise FhirError(
        404,
        [Issue("not-supported", f"{path} is not a resource or interaction this server supports")],
    )
