"""FHIR resources through the one ingestion path: ``readings.prepare`` then ``readings.ingest``.

Both a transaction and a batch Bundle are all-or-nothing, like the native API's batches: every
entry is translated and validated first, and any refusal rejects the whole Bundle with one
issue per problem, naming the entry. A batch therefore never half-succeeds; clients that want
independent entries send them as separate requests.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.access import can_see
from service.deps import Principal
from service.fhir import inbound
from service.fhir.inbound import EntryKey, Mapped, Refused
from service.fhir.outcome import FhirError, Issue
from service.fhir.resources import Bundle, Observation, QuestionnaireResponse
from service.models import Patient, Reading
from service.problems import Conflict, Unprocessable
from service.readings import service as readings
from service.settings import Settings

PARSERS: dict[str, Any] = {
    "Observation": Observation,
    "QuestionnaireResponse": QuestionnaireResponse,
}
_FIELD = re.compile(r"^#(\d+)\.(.+)$")
# (patients by id, entry indexes by patient, prepared rows by patient)
Checked = tuple[
    dict[uuid.UUID, Patient], dict[uuid.UUID, list[int]], dict[uuid.UUID, list[dict[str, Any]]]
]


@dataclass
class Outcome:
    """What happened to one resource: stored now (201) or stored before (200)."""

    mapped: Mapped
    patient_id: uuid.UUID
    row: Reading
    created: bool
    findings: list[dict[str, Any]] = field(default_factory=list)
    advice: dict[str, Any] = field(default_factory=dict)


def parse_resource(data: Any, expected: str) -> Any:
    """Parse with the FHIR model classes; structural errors are 400 with the element's path."""
    if not isinstance(data, dict) or data.get("resourceType") != expected:
        got = data.get("resourceType") if isinstance(data, dict) else type(data).__name__
        raise FhirError(400, [Issue("structure", f"expected a {expected} resource, got {got!r}")])
    try:
        return PARSERS.get(expected, Bundle).model_validate(data)
    except ValidationError as exc:
        raise FhirError(400, validation_issues(exc, expected)) from exc


def validation_issues(exc: ValidationError, root: str) -> list[Issue]:
    issues = []
    for err in exc.errors()[:50]:
        path = root
        for part in err["loc"]:
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
        issues.append(Issue("structure", f"{err['msg']}", (path,)))
    return issues


def map_resource(resource: Any, where: str, key: EntryKey) -> Mapped:
    if isinstance(resource, Observation):
        return inbound.observation(resource, where, key)
    return inbound.questionnaire_response(resource, where, key)


def resolve(session: Session, principal: Principal, mapped: list[Mapped]) -> list[Patient]:
    """Each resource's patient. Anyone the caller may not see is 404, like ``patient_for``."""
    by_id: dict[uuid.UUID, Patient | None] = {}
    by_nhs: dict[str, Patient | None] = {}
    out: list[Patient] = []
    for item in mapped:
        ref = item.subject
        found: Patient | None = None
        if ref.patient_id is not None:
            if ref.patient_id not in by_id:
                by_id[ref.patient_id] = session.get(Patient, ref.patient_id)
            found = by_id[ref.patient_id]
            if found is not None and ref.nhs_number and found.nhs_number != ref.nhs_number:
                # Two identities that disagree: refuse rather than pick one (wrong-patient hazard).
                raise FhirError(
                    422,
                    [
                        Issue(
                            "invalid",
                            "subject reference and NHS number name different patients",
                            (ref.expression,),
                        )
                    ],
                )
        elif ref.nhs_number is not None:
            if ref.nhs_number not in by_nhs:
                by_nhs[ref.nhs_number] = session.scalars(
                    select(Patient).where(
                        Patient.nhs_number == ref.nhs_number, Patient.status != "discharged"
                    )
                ).first()
            found = by_nhs[ref.nhs_number]
        if found is None or not can_see(principal, found):
            raise FhirError(404, [Issue("not-found", "No such patient.", (ref.expression,))])
        if found.status == "discharged":
            raise FhirError(
                409,
                [
                    Issue(
                        "business-rule",
                        "The patient has been discharged from monitoring.",
                        (ref.expression,),
                    )
                ],
            )
        out.append(found)
    return out


def check(
    session: Session,
    principal: Principal,
    settings: Settings,
    mapped: list[Mapped],
    now: datetime,
) -> tuple[
    dict[uuid.UUID, Patient], dict[uuid.UUID, list[int]], dict[uuid.UUID, list[dict[str, Any]]]
]:
    """Resolve and ``prepare`` every resource; raise FhirError with every issue found."""
    patients = resolve(session, principal, mapped)
    groups: dict[uuid.UUID, list[int]] = defaultdict(list)
    by_patient: dict[uuid.UUID, Patient] = {}
    for index, patient in enumerate(patients):
        groups[patient.id].append(index)
        by_patient[patient.id] = patient
    # Prepare every group before storing any, so a bad entry rejects the whole Bundle.
    prepared: dict[uuid.UUID, list[dict[str, Any]]] = {}
    issues: list[Issue] = []
    for patient_id, indexes in groups.items():
        try:
            prepared[patient_id] = readings.prepare(
                [mapped[i].reading for i in indexes],
                prefix="#",
                now=now,
                skew=timedelta(seconds=settings.future_skew_seconds),
                source="device" if principal.role == "patient" else "clinician",
                entered_by=principal.user_id,
                allow_labs=False,
            )
        except Unprocessable as exc:
            issues.extend(_prepare_issues(exc, [mapped[i] for i in indexes]))
    if issues:
        raise FhirError(422, issues)
    return by_patient, groups, prepared


def ingest(
    session: Session,
    principal: Principal,
    settings: Settings,
    mapped: list[Mapped],
    now: datetime,
) -> list[Outcome]:
    """Store the translated resources, in order; raises FhirError and stores nothing on refusal."""
    by_patient, groups, prepared = check(session, principal, settings, mapped, now)
    outcomes: list[Outcome | None] = [None] * len(mapped)
    # A fixed order of patients: two Bundles naming the same patients lock them alike.
    for patient_id in sorted(groups, key=str):
        indexes = groups[patient_id]
        try:
            result = readings.ingest(session, by_patient[patient_id], prepared[patient_id], now)
        except Conflict as exc:
            clash = str(exc.extra.get("reading_id", ""))
            where = [
                mapped[i].expression("id") for i in indexes if str(mapped[i].reading.id) == clash
            ]
            raise FhirError(
                409,
                [
                    Issue(
                        "conflict",
                        "Already stored with different content: a resource's identity "
                        "was reused for a different reading.",
                        tuple(where[:1]),
                    )
                ],
            ) from exc
        rows = {r.id: (r, True) for r in result.stored}
        rows.update({r.id: (r, False) for r in result.already_stored})
        for i in indexes:
            row, created = rows[mapped[i].reading.id]
            outcomes[i] = Outcome(
                mapped[i], patient_id, row, created, result.findings, result.advice
            )
    return [o for o in outcomes if o is not None]


def _prepare_issues(exc: Unprocessable, group: list[Mapped]) -> list[Issue]:
    out = []
    for err in exc.extra.get("errors", []):
        match = _FIELD.match(str(err.get("field", "")))
        if match is None:
            out.append(Issue("invalid", str(err.get("message"))))
            continue
        item = group[int(match.group(1))]
        native = match.group(2)
        code = (
            "value"
            if err.get("type") in ("implausible_value", "future_reading", "stale_reading")
            else "invalid"
        )
        if native == "id":
            code = "duplicate"
        out.append(Issue(code, f"{native}: {err.get('message')}", (item.expression(native),)))
    return out


def refused(exc: Refused) -> FhirError:
    return FhirError(422, exc.issues)
