"""Readings in: validation, unit conversion, idempotent storage and evaluation (the use cases).

A batch is all-or-nothing: any bad reading rejects the whole batch before anything is written.
A re-sent reading id answers as the first time (``repository.insert_ignoring_duplicates``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from service.access import audit_patient_access, patient_for
from service.identity.devices import DevicePatient
from service.identity.principal import Principal
from service.models import Patient, Reading
from service.problem_codes import Code, entry
from service.problems import Conflict
from service.readings import evaluation, intake, repository
from service.readings.schemas import (
    ReadingBatchIn,
    ReadingIn,
)

# Columns compared when a reading id comes again: same id with other content is a client bug
# (or id reuse), and silently keeping either version would hide it.
_CONTENT = ("type", "taken_at", "value", "systolic", "diastolic", "answers")


@dataclass
class IngestResult:
    # The rows this request stored, as written (every column of ``readings``), oldest first:
    # answered from memory rather than read back, which cost a query and ORM objects per row.
    stored_rows: list[dict[str, Any]]
    already_stored: list[Reading]
    findings: list[dict[str, Any]] = field(default_factory=list)
    advice: dict[str, Any] = field(default_factory=dict)

    @property
    def stored(self) -> list[Reading]:
        """The stored rows as (transient) ORM objects, for callers that want them."""
        return [Reading(**row) for row in self.stored_rows]


def as_list(body: ReadingBatchIn | ReadingIn) -> tuple[list[ReadingIn], str]:
    if isinstance(body, ReadingBatchIn):
        return list(body.readings), "readings."
    return [body], ""


def prepare(
    readings: Sequence[ReadingIn],
    *,
    prefix: str,
    now: datetime,
    skew: timedelta,
    source: str,
    entered_by: uuid.UUID | None,
    allow_labs: bool,
) -> list[dict[str, Any]]:
    """Validate and convert; raise 422 naming every bad field, or return rows ready to insert."""
    rows, errors = intake.check(
        list(enumerate(readings)),
        prefix=prefix,
        now=now,
        skew=skew,
        source=source,
        entered_by=entered_by,
        allow_labs=allow_labs,
    )
    if errors:
        raise intake.invalid([intake.error_entry(e) for e in errors])
    return rows


def post_readings(
    session: Session,
    caller: Principal,
    patient: evaluation.IngestPatient,
    body: Any,
    *,
    now: datetime,
    future_skew: timedelta,
    device: DevicePatient | None = None,
) -> IngestResult:
    """A patient's readings, posted by their app or by a clinician of their team (who alone
    may enter lab results): ``body`` as parsed from the request's JSON (``intake.json_body``).
    ``device``: the token's patient as authenticated, its row locked if ``device.locked``."""
    rows = intake.rows_of(
        body,
        now=now,
        skew=future_skew,
        source="device" if caller.role == "patient" else "clinician",
        entered_by=caller.user_id,
        allow_labs=caller.role == "clinician",
    )
    if patient.status == "discharged":
        raise Conflict("The patient has been discharged from monitoring.")
    try:
        return ingest(session, patient, rows, now, device=device)
    except Conflict as exc:
        if "reading_id" in exc.extra:
            exc.extra["errors"] = [_reused(rows, str(exc.extra["reading_id"]), body)]
        raise


def _reused(rows: list[dict[str, Any]], reading_id: str, body: Any) -> dict[str, str]:
    """The 409's error: the id of the reading (in body order, as ``rows``) already stored."""
    index = next(i for i, row in enumerate(rows) if str(row["id"]) == reading_id)
    path: list[str | int] = (
        ["readings", index, "id"] if isinstance(body, dict) and ("readings" in body) else ["id"]
    )
    detail = "this id was already stored with different content: give a new reading a new id"
    return entry(path, Code.DUPLICATE_ID, detail, "conflict")


def post_patient_readings(
    session: Session,
    caller: Principal,
    patient_id: uuid.UUID,
    body: Any,
    *,
    route: str,
    now: datetime,
    future_skew: timedelta,
) -> tuple[Patient, IngestResult]:
    """Readings a clinician of the patient's team took in clinic or by phone (audited); the
    patient and what was stored."""
    patient = patient_for(session, caller, patient_id)
    result = post_readings(session, caller, patient, body, now=now, future_skew=future_skew)
    audit_patient_access(session, route, caller, patient.id, "C", now, "readings")
    return patient, result


def ingest(
    session: Session,
    patient: evaluation.IngestPatient,
    rows: list[dict[str, Any]],
    now: datetime,
    *,
    device: DevicePatient | None = None,
) -> IngestResult:
    # Serialise ingestion per patient (PostgreSQL row lock; SQLite's write lock already does):
    # each batch is then judged with every earlier batch in its history, and two batches
    # cannot both raise the same alert. A device whose patient is locked took that lock.
    if device is not None and device.locked:
        overrides = device.overrides
    else:
        overrides = repository.lock_patient(session, patient.id)
    config = evaluation.config_for(overrides)
    for row in rows:
        row["patient_id"] = patient.id
    batch_ids = [row["id"] for row in rows]
    history = evaluation.load_history(
        session, patient.id, rows, exclude=batch_ids, config=config, now=now
    )
    changes = evaluation.medication_changes(session, patient)
    judged = evaluation.evaluate(config, patient, history, rows, now, changes)
    judged = evaluation.with_team_hours(session, patient, judged, now)
    stored_form = judged.stored_form
    for row in rows:
        row["advice"] = stored_form
    inserted = repository.insert_ignoring_duplicates(session, rows)

    duplicates = [row for row in rows if row["id"] not in inserted]
    already: list[Reading] = []
    if duplicates:
        already = repository.readings_by_id(session, patient.id, [row["id"] for row in duplicates])
        by_id = {r.id: r for r in already}
        for row in duplicates:
            if not _same_content(by_id[row["id"]], row):
                raise Conflict(
                    f"Reading {row['id']} was already stored with different content.",
                    extra={"reading_id": str(row["id"])},
                )
        if inserted:
            # Part of the batch was stored before: evaluate again with those readings as
            # history, so findings and alerts come only from what this request stored.
            fresh = [row for row in rows if row["id"] in inserted]
            history = evaluation.load_history(
                session, patient.id, fresh, exclude=list(inserted), config=config, now=now
            )
            judged = evaluation.evaluate(config, patient, history, fresh, now, changes)
            judged = evaluation.with_team_hours(session, patient, judged, now)
    stored = sorted(
        (row for row in rows if row["id"] in inserted), key=lambda r: (r["taken_at"], r["id"])
    )
    if inserted:
        evaluation.raise_alerts(session, patient, judged, now)
    findings, advice = evaluation.combine_for_response(
        judged if inserted else None, [r.advice for r in already]
    )
    return IngestResult(
        stored_rows=stored, already_stored=already, findings=findings, advice=advice
    )


def _same_content(stored: Reading, sent: dict[str, Any]) -> bool:
    for name in _CONTENT:
        a, b = getattr(stored, name), sent[name]
        if isinstance(a, float) and isinstance(b, float):
            if abs(a - b) > 1e-6:
                return False
        elif a != b:
            return False
    return True


# A patient's readings, oldest first, for a caller already checked (and audited if staff): the
# routes and the patient's page read them through this module.
list_readings = repository.list_readings
