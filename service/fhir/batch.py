"""A batch or transaction Bundle of readings, as FHIR R4 defines them (http.html#transaction).

A transaction is all-or-nothing: every entry is checked before any is stored, and any failure
refuses the whole Bundle with one OperationOutcome naming every failing entry; nothing is
stored. A batch answers per entry: each entry is stored or refused on its own, the Bundle is
answered 200 with a batch-response whose entries carry their own status and, when refused, an
OperationOutcome. A batch entry's failure never undoes another entry.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from typing import Any

from pydantic_core import to_json
from sqlalchemy.orm import Session

from service.deps import Principal
from service.fhir import ingest, outbound
from service.fhir.inbound import EntryKey, Mapped, Refused
from service.fhir.outcome import FhirError, Issue, outcome
from service.fhir.parse import ParsedBundle
from service.fhir.problem_codes import coding
from service.models import Patient, Reading
from service.problems import Conflict, Unprocessable
from service.readings import service as readings
from service.settings import Settings


@dataclass
class Failed:
    """A batch entry that was refused, with the status a request of its own would have had."""

    status: int
    issues: list[Issue]


Result = ingest.Outcome | Failed


def check_size(settings: Settings, type_: str, entries: int) -> None:
    if type_ not in ("batch", "transaction"):
        raise FhirError(
            400,
            [
                Issue(
                    "not-supported",
                    "only batch and transaction Bundles are accepted",
                    ("Bundle.type",),
                    details=coding("invalid_value"),
                )
            ],
        )
    if entries > settings.max_batch_readings:
        raise FhirError(
            422,
            [
                Issue(
                    "too-costly",
                    f"a Bundle may hold up to {settings.max_batch_readings} entries",
                    ("Bundle.entry",),
                    details=coding("too_large"),
                )
            ],
        )


@dataclass
class Translated:
    """A Bundle's entries as the native inputs, by index, beside the entries that could not be
    parsed (400) or translated (422), with why. Only a batch reaches ingest with failed entries
    that were not translated: anything wrong in a transaction refuses it whole."""

    type: str
    size: int
    mapped: dict[int, Mapped]
    failed: dict[int, Failed] = field(default_factory=dict)

    @classmethod
    def of(cls, type_: str, mapped: list[Mapped]) -> Translated:
        """Entries every one of which translated (``inbound_fast``)."""
        return cls(type_, len(mapped), dict(enumerate(mapped)))


def translate(settings: Settings, bundle: ParsedBundle) -> Translated:
    """Each entry of a parsed Bundle translated, or set aside with why."""
    check_size(settings, bundle.type, len(bundle.entries))
    failed = {i: Failed(400, issues) for i, issues in bundle.failed.items()}
    mapped: dict[int, Mapped] = {}
    for index, entry in enumerate(bundle.entries):
        if index not in failed:
            try:
                mapped[index] = _bundle_entry(entry, f"Bundle.entry[{index}]")
            except Refused as exc:
                failed[index] = Failed(422, exc.issues)
    return Translated(bundle.type, len(bundle.entries), mapped, failed)


def ingest_bundle(
    session: Session, principal: Principal, settings: Settings, bundle: Translated, now: datetime
) -> list[Result]:
    """Store the Bundle's readings: a transaction whole or not at all (raising one FhirError
    that lists what is wrong), a batch entry by entry. Its size and type were checked where it
    was built: by ``translate``, or by ``inbound_fast``, which declines any other Bundle."""
    if bundle.type == "batch":
        return _batch(session, principal, settings, bundle, now)
    mapped = [bundle.mapped[i] for i in sorted(bundle.mapped)]
    if bundle.failed:
        issues = [i for index in sorted(bundle.failed) for i in bundle.failed[index].issues]
        # Also check the entries that did translate, so one answer lists every problem.
        try:
            ingest.check(session, principal, settings, mapped, now)
        except FhirError as more:
            if more.status == 422:
                issues.extend(more.issues)
        raise FhirError(422, sorted(issues, key=_entry_order))
    return list(ingest.ingest(session, principal, settings, mapped, now)) if mapped else []


def _batch(
    session: Session, principal: Principal, settings: Settings, bundle: Translated, now: datetime
) -> list[Result]:
    results: dict[int, Result] = dict(bundle.failed)
    mapped = bundle.mapped
    patients: dict[int, Patient] = {}
    seen = ingest.Lookup()
    for index, item in mapped.items():
        try:
            patients[index] = ingest.resolve_one(session, principal, item.subject, seen)
        except FhirError as exc:
            results[index] = Failed(exc.status, list(exc.issues))
    groups: dict[Any, list[int]] = defaultdict(list)
    for index, patient in patients.items():
        groups[patient.id].append(index)
    # A fixed order of patients: two Bundles naming the same patients lock them alike.
    for patient_id in sorted(groups, key=str):
        stored = _store_group(
            session, principal, settings, patients, mapped, groups[patient_id], now
        )
        results.update(stored)
    return [results[i] for i in range(bundle.size)]


def _store_group(
    session: Session,
    principal: Principal,
    settings: Settings,
    patients: dict[int, Patient],
    mapped: dict[int, Mapped],
    pending: list[int],
    now: datetime,
) -> dict[int, Result]:
    """One patient's entries of a batch: the refused ones set aside, the others stored together
    (so the pathway judges them as one batch, as on the native API)."""
    results: dict[int, Result] = {}
    while pending:
        group = [mapped[i] for i in pending]
        try:
            prepared = ingest.prepare_group(principal, settings, group, now)
        except Unprocessable as exc:
            refused: dict[int, list[Issue]] = defaultdict(list)
            for local, issue in ingest.prepare_issues(exc, group):
                for i in range(len(pending)) if local is None else [local]:
                    refused[i].append(issue)
            for local, issues in refused.items():
                results[pending[local]] = Failed(422, issues)
            pending = [i for k, i in enumerate(pending) if k not in refused]
            continue
        patient = patients[pending[0]]
        try:
            # A savepoint: a conflict found while storing undoes this group's rows only.
            with session.begin_nested():
                result = readings.ingest(session, patient, prepared, now)
        except Conflict as exc:
            local = ingest.conflicting(exc, group)
            if local is None:
                raise
            where = (group[local].expression("id"),)
            results[pending[local]] = Failed(409, [ingest.conflict_issue(where)])
            pending = [i for k, i in enumerate(pending) if k != local]
            continue
        rows: dict[Any, tuple[dict[str, Any] | Reading, bool]]
        rows = {r["id"]: (r, True) for r in result.stored_rows}
        rows.update({r.id: (r, False) for r in result.already_stored})
        for i in pending:
            row, created = rows[mapped[i].reading.id]
            results[i] = ingest.Outcome(
                mapped[i], patient.id, row, created, result.findings, result.advice
            )
        break
    return results


def response_body(kind: str, results: list[Result], prefer: str, base: str, now: datetime) -> bytes:
    """The batch-response or transaction-response, serialised directly: it is built here from
    a fixed shape, and validating 500 entries with fhir.resources cost more than storing them
    (the tests read every response with the R4B classes)."""
    entries = [
        failed_entry(r) if isinstance(r, Failed) else entry_response(r, prefer, base)
        for r in results
    ]
    body = outbound.bundle(f"{kind}-response", entries, timestamp=now)
    # pydantic-core's encoder: json.dumps took 2 ms of a Bundle of 500's 36 on the server.
    return to_json(body)


def failed_entry(result: Failed) -> dict[str, Any]:
    status = HTTPStatus(result.status)
    return {
        "response": {
            "status": f"{status.value} {status.phrase}",
            "outcome": {
                "resourceType": "OperationOutcome",
                "issue": [i.as_dict() for i in result.issues],
            },
        }
    }


def entry_response(result: ingest.Outcome, prefer: str, base: str) -> dict[str, Any]:
    kind = "QuestionnaireResponse" if result.column("type") == "symptoms" else "Observation"
    location = f"{kind}/{outbound.resource_id(result.patient_id, result.column('id'))}"
    entry: dict[str, Any] = {"fullUrl": f"{base}/{location}"}
    if prefer == "representation":
        entry["resource"] = outbound.reading_resource(result.row)
    response: dict[str, Any] = {
        "status": "201 Created" if result.created else "200 OK",
        "location": f"{location}/_history/1",
        "etag": 'W/"1"',
        "lastModified": result.column("received_at").isoformat(),
    }
    if prefer == "OperationOutcome":
        response["outcome"] = outcome(
            outbound.advice_issues(result.findings, result.advice)
        ).model_dump(mode="json")
    entry["response"] = response
    return entry


def _entry_order(issue: Issue) -> tuple[int, str]:
    expression = issue.expression[0] if issue.expression else ""
    match = re.match(r"Bundle\.entry\[(\d+)\]", expression)
    return (int(match.group(1)) if match else -1, expression)


def _bundle_entry(entry: Any, where: str) -> Mapped:
    request, resource = entry.request, entry.resource
    if request is None:
        raise Refused(
            [
                Issue(
                    "required",
                    "entry.request is required in a batch or transaction",
                    (where,),
                    details=coding("missing"),
                )
            ]
        )
    if request.method != "POST":
        raise Refused(
            [
                Issue(
                    "not-supported",
                    "only POST (create) entries are accepted",
                    (f"{where}.request.method",),
                    details=coding("invalid_value"),
                )
            ]
        )
    if resource is None:
        raise Refused(
            [Issue("required", "entry.resource is required", (where,), details=coding("missing"))]
        )
    kind = resource.get_resource_type()
    if kind not in ingest.ACCEPTED:
        raise Refused(
            [
                Issue(
                    "not-supported",
                    f"{kind} is not accepted: send Observation or QuestionnaireResponse",
                    (f"{where}.resource",),
                    details=coding("unknown_type"),
                )
            ]
        )
    if request.url.split("?", 1)[0].strip("/") != kind:
        raise Refused(
            [
                Issue(
                    "invalid",
                    f"request.url must be {kind}",
                    (f"{where}.request.url",),
                    details=coding("invalid_value"),
                )
            ]
        )
    key = EntryKey(full_url=entry.fullUrl, if_none_exist=request.ifNoneExist, where=where)
    return ingest.map_resource(resource, f"{where}.resource", key)
