"""A batch or transaction Bundle of readings: every entry checked before any is stored, so the
Bundle is accepted whole or refused with every problem of every entry in one OperationOutcome."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from service.deps import Principal
from service.fhir import ingest, outbound
from service.fhir.inbound import EntryKey, Mapped, Refused
from service.fhir.outcome import FhirError, Issue, outcome
from service.settings import Settings


def ingest_bundle(
    session: Session, principal: Principal, settings: Settings, bundle: Any, now: datetime
) -> list[ingest.Outcome]:
    """Store the Bundle's readings, or raise one FhirError that lists what is wrong."""
    if bundle.type not in ("batch", "transaction"):
        raise FhirError(
            400,
            [
                Issue(
                    "not-supported",
                    "only batch and transaction Bundles are accepted",
                    ("Bundle.type",),
                )
            ],
        )
    entries = bundle.entry or []
    if len(entries) > settings.max_batch_readings:
        raise FhirError(
            422,
            [
                Issue(
                    "too-costly",
                    f"a Bundle may hold up to {settings.max_batch_readings} entries",
                    ("Bundle.entry",),
                )
            ],
        )
    mapped: list[Mapped] = []
    issues: list[Issue] = []
    for index, entry in enumerate(entries):
        where = f"Bundle.entry[{index}]"
        try:
            mapped.append(_bundle_entry(entry, where))
        except Refused as exc:
            issues.extend(exc.issues)
    if issues:
        # Also check the entries that did translate, so one answer lists every problem.
        try:
            ingest.check(session, principal, settings, mapped, now)
        except FhirError as more:
            if more.status == 422:
                issues.extend(more.issues)
        raise FhirError(422, sorted(issues, key=_entry_order))
    return ingest.ingest(session, principal, settings, mapped, now) if mapped else []


def entry_response(result: ingest.Outcome, prefer: str, base: str) -> dict[str, Any]:
    resource = outbound.reading_resource(result.row)
    location = f"{resource['resourceType']}/{resource['id']}"
    entry: dict[str, Any] = {"fullUrl": f"{base}/{location}"}
    if prefer == "representation":
        entry["resource"] = resource
    response: dict[str, Any] = {
        "status": "201 Created" if result.created else "200 OK",
        "location": f"{location}/_history/1",
        "etag": 'W/"1"',
        "lastModified": result.row.received_at.isoformat(),
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
            [Issue("required", "entry.request is required in a batch or transaction", (where,))]
        )
    if request.method != "POST":
        raise Refused(
            [
                Issue(
                    "not-supported",
                    "only POST (create) entries are accepted",
                    (f"{where}.request.method",),
                )
            ]
        )
    if resource is None:
        raise Refused([Issue("required", "entry.resource is required", (where,))])
    kind = resource.get_resource_type()
    if kind not in ingest.PARSERS:
        raise Refused(
            [
                Issue(
                    "not-supported",
                    f"{kind} is not accepted: send Observation or QuestionnaireResponse",
                    (f"{where}.resource",),
                )
            ]
        )
    if request.url.split("?", 1)[0].strip("/") != kind:
        raise Refused([Issue("invalid", f"request.url must be {kind}", (f"{where}.request.url",))])
    key = EntryKey(full_url=entry.fullUrl, if_none_exist=request.ifNoneExist, where=where)
    return ingest.map_resource(resource, f"{where}.resource", key)
