"""FHIR R4 front door: the same auth, validation, idempotency and pathway rules as /api/v1.

Every route uses ``FhirRoute``, so errors are OperationOutcome (``application/fhir+json``) and
the unit of work has rolled back before the error is written. Ingestion is
``service.fhir.ingest``, which calls ``service.readings`` like the native routes do.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from service.access import patient_for
from service.deps import NowDep, Principal, PrincipalDep, SessionDep, SettingsDep, require
from service.fhir import (
    bundle_route,
    care,
    codes,
    compartment,
    exchange,
    inbound_fast,
    ingest,
    outbound,
    parse,
    search,
)
from service.fhir.capability import capability_statement
from service.fhir.inbound import EntryKey, Refused
from service.fhir.outcome import FhirError, FhirRoute, Issue, fhir_response, outcome
from service.fhir.questionnaire import questionnaire
from service.fhir.resources import (
    FHIR_JSON,
    Bundle,
    Encounter,
    Flag,
    MedicationStatement,
    Observation,
    Patient,
    QuestionnaireResponse,
)
from service.fhir.search import Params
from service.models import Alert, KccqScore, MedicationChange, PatientEvent, Reading
from service.problems import NotFound

router = APIRouter(prefix="/fhir", tags=["fhir"], route_class=FhirRoute)
Poster = Annotated[Principal, Depends(require(*bundle_route.POSTERS))]
Clinician = Annotated[Principal, Depends(require("clinician"))]
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {FHIR_JSON: {}}, "description": "A FHIR resource"},
}
# The routes a patient's app may call: its device token is counted first (429 past its limit).
PATIENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **RESPONSES,
    429: {
        "content": {FHIR_JSON: {}},
        "description": "An OperationOutcome: this device is over its request limit; retry "
        "after `Retry-After` seconds",
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds"}},
    },
}


def _searchset(
    entries: list[dict[str, Any]],
    links: list[tuple[str, str]],
    now: datetime,
    total: int | None = None,
) -> Response:
    body = outbound.bundle("searchset", entries, links=links, timestamp=now)
    if total is not None:
        body["total"] = total
    # Validated whole with fhir.resources, then sent as built: on a page of 500 readings the
    # model's own JSON dump was measured to cost as much again as the validation, and the dict
    # it would dump is the one just validated.
    Bundle.model_validate(body)
    return Response(json.dumps(body, separators=(",", ":")).encode(), media_type=FHIR_JSON)


# --- conformance -------------------------------------------------------------------------


@router.get("/metadata", responses=RESPONSES, summary="CapabilityStatement (no auth)")
def metadata(request: Request, now: NowDep) -> Response:
    statement = capability_statement(str(request.app.version), exchange.base(request), now)
    return fhir_response(statement)


@router.get(
    "/Questionnaire/{questionnaire_id}",
    responses=PATIENT_RESPONSES,
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
    exchange.media_type(request)
    key = EntryKey(if_none_exist=request.headers.get("if-none-exist"), where=resource_type)
    mapped = inbound_fast.resource(raw, resource_type, key)
    if mapped is None:
        resource = parse.parse_resource(exchange.body(request, raw), resource_type)
        try:
            mapped = ingest.map_resource(resource, resource_type, key)
        except Refused as exc:
            raise ingest.refused(exc) from exc
    (result,) = ingest.ingest(session, principal, settings, [mapped], now)
    exchange.audit(
        session, request, principal, [result.patient_id], "C", now, f"fhir {resource_type}"
    )
    status = 201 if result.created else 200
    out = outbound.reading_resource(result.row)
    headers = {
        "Location": f"{exchange.base(request)}/{resource_type}/{out['id']}/_history/1",
        "ETag": 'W/"1"',
    }
    prefer = exchange.prefer(request, "representation")
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
    responses=PATIENT_RESPONSES,
    summary="Create an Observation (patient token: own; clinician: own teams' patients)",
)
def create_observation(
    request: Request,
    raw: exchange.RawBody,
    session: SessionDep,
    settings: SettingsDep,
    principal: Poster,
    now: NowDep,
) -> Response:
    return _create("Observation", request, raw, session, settings, principal, now)


@router.post(
    "/QuestionnaireResponse",
    status_code=201,
    responses=PATIENT_RESPONSES,
    summary="Create symptom answers to Questionnaire/mhf-symptoms (patient: own; clinician: teams)",
)
def create_questionnaire_response(
    request: Request,
    raw: exchange.RawBody,
    session: SessionDep,
    settings: SettingsDep,
    principal: Poster,
    now: NowDep,
) -> Response:
    return _create("QuestionnaireResponse", request, raw, session, settings, principal, now)


def post_bundle(
    request: Request,
    raw: exchange.RawBody,
    session: SessionDep,
    settings: SettingsDep,
    principal: Poster,
    now: NowDep,
) -> Response:
    # Declares the route (parameters, security, OpenAPI); bundle_route.BundleRoute serves it in
    # one pass with the same answer. Served by FastAPI's general handler, this is the plain path
    # the one-pass one is held to (tests/fhir/test_bundle_route.py).
    return bundle_route.answer(request, raw, session, settings, principal, now)


router.add_api_route(
    "",
    post_bundle,
    methods=["POST"],
    responses=PATIENT_RESPONSES,
    summary="A transaction (all or nothing) or batch (per entry) (patient: own; clinician: teams)",
    route_class_override=bundle_route.BundleRoute,
)


# --- read and search ---------------------------------------------------------------------


def _entry(base: str, resource: dict[str, Any], mode: str) -> dict[str, Any]:
    return {
        "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
        "resource": resource,
        "search": {"mode": mode},
    }


def _search_sections(
    request: Request,
    session: Session,
    principal: Principal,
    now: datetime,
    resource_type: str,
    sections: list[compartment.Section],
    params: Params,
    date_name: str,
) -> Response:
    """One page of a type search over a patient's sections, with ``total`` (one indexed count
    per section) and the FHIR self and next links."""
    patient = search.patient_of(session, principal, params)
    start, end = search.date_bounds(params.all(date_name), date_name)
    bounds = compartment.Bounds(start, end)
    found = compartment.page(
        session,
        sections,
        patient.id,
        bounds=bounds,
        limit=search.count(params),
        cursor=params.one("_cursor"),
        desc=search.descending(params),
    )
    count = compartment.total(session, sections, patient.id, bounds)
    exchange.audit(
        session, request, principal, [patient.id], "R", now, f"fhir {resource_type} search"
    )
    base = exchange.base(request)
    links = [("self", f"{base}/{resource_type}?{params.query_string()}")]
    if found.next_cursor:
        links.append(
            ("next", f"{base}/{resource_type}?{params.query_string(_cursor=found.next_cursor)}")
        )
    entries = [_entry(base, r, "match") for r in found.resources]
    return _searchset(entries, links, now, total=count)


def _observation_sections(params: Params) -> list[compartment.Section]:
    types = search.reading_types(params, outbound.OBSERVATION_TYPES)
    sections = [compartment.readings(types)] if types else []
    if search.selects_kccq(params):
        sections.append(compartment.KCCQ)
    return sections


@router.get(
    "/Observation",
    responses=PATIENT_RESPONSES,
    summary="Search a patient's readings, blood results and KCCQ-12 scores (patient: own; "
    "clinician: teams)",
)
def search_observations(
    request: Request, session: SessionDep, principal: Poster, now: NowDep
) -> Response:
    params = Params(list(request.query_params.multi_items()))
    params.check_known({"subject", "patient", "patient.identifier", "date", "code"})
    sections = _observation_sections(params)
    return _search_sections(
        request, session, principal, now, "Observation", sections, params, "date"
    )


@router.get(
    "/QuestionnaireResponse",
    responses=PATIENT_RESPONSES,
    summary="Search a patient's symptom answers (patient: own; clinician: teams)",
)
def search_questionnaire_responses(
    request: Request, session: SessionDep, principal: Poster, now: NowDep
) -> Response:
    params = Params(list(request.query_params.multi_items()))
    params.check_known({"subject", "patient", "patient.identifier", "authored"})
    sections = [compartment.readings({"symptoms"})]
    return _search_sections(
        request, session, principal, now, "QuestionnaireResponse", sections, params, "authored"
    )


@router.get(
    "/Encounter",
    responses=RESPONSES,
    summary="Search a patient's @home episode, admissions and A&E visits (clinician of the team)",
)
def search_encounters(
    request: Request, session: SessionDep, principal: Clinician, now: NowDep
) -> Response:
    params = Params(list(request.query_params.multi_items()))
    params.check_known({"subject", "patient", "patient.identifier", "date"})
    sections = [compartment.EPISODE, compartment.ENCOUNTERS]
    return _search_sections(request, session, principal, now, "Encounter", sections, params, "date")


@router.get(
    "/MedicationStatement",
    responses=RESPONSES,
    summary="Search a patient's heart-failure medicine changes (clinician of the team)",
)
def search_medication_statements(
    request: Request, session: SessionDep, principal: Clinician, now: NowDep
) -> Response:
    params = Params(list(request.query_params.multi_items()))
    params.check_known({"subject", "patient", "patient.identifier", "effective"})
    sections = [compartment.MEDICINES]
    return _search_sections(
        request, session, principal, now, "MedicationStatement", sections, params, "effective"
    )


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
    exchange.audit(
        session, request, principal, [patient.id], "R", now, f"fhir {resource_type} read"
    )
    model = Observation if resource_type == "Observation" else QuestionnaireResponse
    return fhir_response(model.model_validate(outbound.reading_resource(row)))


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _read_row(
    model: Any,
    resource_id: str,
    resource_type: str,
    request: Request,
    session: Session,
    principal: Principal,
    now: datetime,
) -> Any:
    """A patient's row by its FHIR id, if the caller may see the patient; the read is audited.
    Anything else is the same 404, so an id does not tell whether someone else's row exists."""
    key = _uuid_or_none(resource_id)
    row = session.get(model, key) if key is not None else None
    if row is None:
        raise NotFound(f"No such {resource_type}.")
    patient_for(session, principal, row.patient_id)
    exchange.audit(
        session, request, principal, [row.patient_id], "R", now, f"fhir {resource_type} read"
    )
    return row


@router.get(
    "/Observation/{resource_id}",
    responses=PATIENT_RESPONSES,
    summary="Read an Observation: a reading, blood result or KCCQ-12 score (patient: own; "
    "clinician: teams)",
)
def read_observation(
    resource_id: str, request: Request, session: SessionDep, principal: Poster, now: NowDep
) -> Response:
    if outbound.parse_resource_id(resource_id) is None and len(resource_id) == 36:
        row = _read_row(KccqScore, resource_id, "Observation", request, session, principal, now)
        return fhir_response(Observation.model_validate(care.kccq_observation(row)))
    return _read_reading(resource_id, "Observation", request, session, principal, now)


@router.get(
    "/QuestionnaireResponse/{resource_id}",
    responses=PATIENT_RESPONSES,
    summary="Read symptom answers (patient: own; clinician: teams)",
)
def read_questionnaire_response(
    resource_id: str, request: Request, session: SessionDep, principal: Poster, now: NowDep
) -> Response:
    return _read_reading(resource_id, "QuestionnaireResponse", request, session, principal, now)


@router.get(
    "/Encounter/{encounter_id}",
    responses=RESPONSES,
    summary="Read an Encounter: the @home episode, an admission or an A&E visit (clinician of "
    "the team)",
)
def read_encounter(
    encounter_id: str, request: Request, session: SessionDep, principal: Clinician, now: NowDep
) -> Response:
    prefix, _, tail = encounter_id.partition("-")
    if prefix == "episode" and (patient_id := _uuid_or_none(tail)) is not None:
        patient = patient_for(session, principal, patient_id)
        exchange.audit(session, request, principal, [patient.id], "R", now, "fhir Encounter read")
        return fhir_response(Encounter.model_validate(care.episode(patient)))
    row = _read_row(PatientEvent, encounter_id, "Encounter", request, session, principal, now)
    if row.kind == "death":
        raise NotFound("No such Encounter.")
    return fhir_response(Encounter.model_validate(care.encounter(row)))


@router.get(
    "/MedicationStatement/{statement_id}",
    responses=RESPONSES,
    summary="Read a medicine change (clinician of the team)",
)
def read_medication_statement(
    statement_id: str, request: Request, session: SessionDep, principal: Clinician, now: NowDep
) -> Response:
    row = _read_row(
        MedicationChange, statement_id, "MedicationStatement", request, session, principal, now
    )
    return fhir_response(MedicationStatement.model_validate(care.medication_statement(row)))


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
    exchange.audit(session, request, principal, [patient.id], "R", now, "fhir Patient read")
    return fhir_response(Patient.model_validate(outbound.patient(patient)))


# Everything in the patient compartment the service holds, in this order after the Patient.
EVERYTHING = [
    compartment.FLAGS,
    compartment.EPISODE,
    compartment.ENCOUNTERS,
    compartment.MEDICINES,
    compartment.KCCQ,
    compartment.readings(outbound.OBSERVATION_TYPES | {"symptoms"}),
]


@router.get(
    "/Patient/{patient_id}/$everything",
    responses=RESPONSES,
    summary="The patient's whole record, paged by _count (clinician of the team)",
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
    found = compartment.page(
        session,
        EVERYTHING,
        patient.id,
        bounds=compartment.Bounds(start, end),
        limit=search.count(params, 500),
        cursor=cursor,
        desc=search.descending(params),
    )
    base = exchange.base(request)
    # The Patient leads the first page; later pages carry the rest of the record only.
    entries = [] if cursor else [_entry(base, outbound.patient(patient), "match")]
    entries += [_entry(base, r, "include") for r in found.resources]
    exchange.audit(session, request, principal, [patient.id], "R", now, "fhir Patient $everything")
    url = f"{base}/Patient/{patient.id}/$everything"
    links = [("self", f"{url}?{params.query_string()}".rstrip("?"))]
    if found.next_cursor:
        links.append(("next", f"{url}?{params.query_string(_cursor=found.next_cursor)}"))
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
    exchange.audit(session, request, principal, [patient.id], "R", now, "fhir Flag search")
    base = exchange.base(request)
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
    exchange.audit(session, request, principal, [alert.patient_id], "R", now, "fhir Flag read")
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
