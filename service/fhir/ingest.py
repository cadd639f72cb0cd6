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

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.access import can_see
from service.deps import Principal
from service.fhir import inbound, inbound_answers, problem_codes
from service.fhir.inbound import EntryKey, Mapped, Refused, SubjectRef
from service.fhir.outcome import FhirError, Issue
from service.fhir.problem_codes import coding
from service.models import Patient, Reading
from service.problems import Conflict, Unprocessable
from service.readings import service as readings
from service.settings import Settings

ACCEPTED = ("Observation", "QuestionnaireResponse")
_FIELD = re.compile(r"^#(\d+)\.(.+)$")
# prepare()'s error types -> (FHIR IssueType, machine code)
_PREPARE_CODES: dict[str, tuple[str, problem_codes.Code]] = {
    "implausible_value": ("value", "out_of_range"),
    "future_reading": ("value", "future_time"),
    "stale_reading": ("value", "out_of_range"),
}
# (patients by id, entry indexes by patient, prepared rows by patient)
Checked = tuple[
    dict[uuid.UUID, Patient], dict[uuid.UUID, list[int]], dict[uuid.UUID, list[dict[str, Any]]]
]


@dataclass(slots=True)
class Outcome:
    """What happened to one resource: stored now (201) or stored before (200)."""

    mapped: Mapped
    patient_id: uuid.UUID
    # The row as written (a dict, for what this request stored) or as read back (stored before):
    # an ORM object per stored row cost a Bundle of 500 more than its insert.
    stored: dict[str, Any] | Reading
    created: bool
    findings: list[dict[str, Any]] = field(default_factory=list)
    advice: dict[str, Any] = field(default_factory=dict)

    @property
    def row(self) -> Reading:
        return self.stored if isinstance(self.stored, Reading) else Reading(**self.stored)

    def column(self, name: str) -> Any:
        if isinstance(self.stored, Reading):
            return getattr(self.stored, name)
        return self.stored[name]


def map_resource(resource: Any, where: str, key: EntryKey) -> Mapped:
    if resource.get_resource_type() == "Observation":
        return inbound.observation(resource, where, key)
    return inbound_answers.questionnaire_response(resource, where, key)


@dataclass
class Lookup:
    """Patients already looked up in this request, by id and by NHS number."""

    by_id: dict[uuid.UUID, Patient | None] = field(default_factory=dict)
    by_nhs: dict[str, Patient | None] = field(default_factory=dict)


def resolve_one(session: Session, principal: Principal, ref: SubjectRef, seen: Lookup) -> Patient:
    """The patient a resource is about, or FhirError: 404 for anyone the caller may not see
    (like ``patient_for``), 409 for a discharged patient, 422 for identities that disagree."""
    found: Patient | None = None
    if ref.patient_id is not None:
        if ref.patient_id not in seen.by_id:
            seen.by_id[ref.patient_id] = session.get(Patient, ref.patient_id)
        found = seen.by_id[ref.patient_id]
        if found is not None and ref.nhs_number and found.nhs_number != ref.nhs_number:
            # Two identities that disagree: refuse rather than pick one (wrong-patient hazard).
            raise FhirError(
                422,
                [
                    Issue(
                        "invalid",
                        "subject reference and NHS number name different patients",
                        (ref.expression,),
                        details=coding("invalid_value"),
                    )
                ],
            )
    elif ref.nhs_number is not None:
        if ref.nhs_number not in seen.by_nhs:
            seen.by_nhs[ref.nhs_number] = session.scalars(
                select(Patient).where(
                    Patient.nhs_number == ref.nhs_number, Patient.status != "discharged"
                )
            ).first()
        found = seen.by_nhs[ref.nhs_number]
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
    return found


def resolve(session: Session, principal: Principal, mapped: list[Mapped]) -> list[Patient]:
    """Each resource's patient; the first that cannot be resolved refuses them all."""
    seen = Lookup()
    # A Bundle names one patient hundreds of times: each identity is checked once (the issue
    # of a refusal names the first resource that named it, as before).
    found: dict[tuple[uuid.UUID | None, str | None], Patient] = {}
    out = []
    for item in mapped:
        ref = item.subject
        key = (ref.patient_id, ref.nhs_number)
        patient = found.get(key)
        if patient is None:
            patient = found[key] = resolve_one(session, principal, ref, seen)
        out.append(patient)
    return out


def prepare_group(
    principal: Principal, settings: Settings, group: list[Mapped], now: datetime
) -> list[dict[str, Any]]:
    """``readings.prepare`` for one patient's resources; raises ``Unprocessable``."""
    return readings.prepare(
        [m.reading for m in group],
        prefix="#",
        now=now,
        skew=timedelta(seconds=settings.future_skew_seconds),
        source="device" if principal.role == "patient" else "clinician",
        entered_by=principal.user_id,
        allow_labs=False,
    )


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
            prepared[patient_id] = prepare_group(
                principal, settings, [mapped[i] for i in indexes], now
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
            index = conflicting(exc, [mapped[i] for i in indexes])
            where = () if index is None else (mapped[indexes[index]].expression("id"),)
            raise FhirError(409, [conflict_issue(where)]) from exc
        rows: dict[uuid.UUID, tuple[dict[str, Any] | Reading, bool]]
        rows = {r["id"]: (r, True) for r in result.stored_rows}
        rows.update({r.id: (r, False) for r in result.already_stored})
        for i in indexes:
            row, created = rows[mapped[i].reading.id]
            outcomes[i] = Outcome(
                mapped[i], patient_id, row, created, result.findings, result.advice
            )
    return [o for o in outcomes if o is not None]


def prepare_issues(exc: Unprocessable, group: list[Mapped]) -> list[tuple[int | None, Issue]]:
    """Each of ``prepare``'s field errors as an issue, with the index in ``group`` it is about."""
    out: list[tuple[int | None, Issue]] = []
    for err in exc.extra.get("errors", []):
        match = _FIELD.match(str(err.get("field", "")))
        if match is None:
            out.append((None, Issue("invalid", str(err.get("message")))))
            continue
        index = int(match.group(1))
        native = match.group(2)
        code, machine = _PREPARE_CODES.get(str(err.get("type")), ("invalid", "invalid_value"))
        if native == "id":
            code, machine = "duplicate", "duplicate_id"
        issue = Issue(
            code,
            f"{native}: {err.get('message')}",
            (group[index].expression(native),),
            details=coding(machine),
        )
        out.append((index, issue))
    return out


def conflicting(exc: Conflict, group: list[Mapped]) -> int | None:
    """The index in ``group`` of the resource whose identity was reused, if it is there."""
    clash = str(exc.extra.get("reading_id", ""))
    return next((i for i, m in enumerate(group) if str(m.reading.id) == clash), None)


def conflict_issue(where: tuple[str, ...]) -> Issue:
    return Issue(
        "conflict",
        "Already stored with different content: a resource's identity "
        "was reused for a different reading.",
        where,
        details=coding("duplicate_id"),
    )


def _prepare_issues(exc: Unprocessable, group: list[Mapped]) -> list[Issue]:
    return [issue for _, issue in prepare_issues(exc, group)]


def refused(exc: Refused) -> FhirError:
    return FhirError(422, exc.issues)
