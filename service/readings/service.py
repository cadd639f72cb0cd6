"""Readings in: validation, unit conversion, idempotent storage and evaluation.

A batch is all-or-nothing: any bad reading rejects the whole batch before anything is written.
The client's reading id is the idempotency key. ``INSERT .. ON CONFLICT DO NOTHING`` on the
(patient_id, id) primary key makes concurrent re-sends safe without a read-then-write race.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Uuid, bindparam, select, text, tuple_
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from service import clinical
from service.db import DriverStatement, driver_rows
from service.db.dialect import is_postgresql
from service.models import DeviceToken, Patient, Reading, Site, Team
from service.problems import Conflict, Unprocessable
from service.schemas import (
    BloodPressureIn,
    HeartRateIn,
    LabIn,
    ReadingBatchIn,
    ReadingIn,
    Spo2In,
    SymptomsIn,
    WeightIn,
)
from service.units import FieldError, check_range, check_time, to_kg

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
    errors: list[FieldError] = []
    rows: list[dict[str, Any]] = []
    seen: set[uuid.UUID] = set()
    for index, reading in enumerate(readings):
        where = f"{prefix}{index}." if prefix else ""
        if reading.id in seen:
            errors.append(FieldError(f"{where}id", "the same id appears twice in this batch"))
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
    if errors:
        raise Unprocessable(
            "; ".join(f"{e.field}: {e.message}" for e in errors[:5]),
            extra={
                "errors": [{"field": e.field, "message": e.message, "type": e.type} for e in errors]
            },
        )
    return rows


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
            errors.append(FieldError(where + "type", "lab results are entered by clinicians"))
        expected = {"potassium": "mmol/L", "creatinine": "umol/L", "egfr": "mL/min/1.73m2"}
        if reading.unit != expected[reading.type]:
            errors.append(FieldError(where + "unit", f"use {expected[reading.type]}"))
        check(reading.type, "value", reading.value, reading.unit)
        row.update(value=reading.value, unit_as_sent=reading.unit)
    return row, errors


# Per reading: these columns, as one JSON array of positional arrays. The batch's patient,
# receipt time, source, entry and advice are the same for every row, so they go once as
# scalars. A 500-reading batch is then one short statement with six parameters: json.dumps
# in C instead of psycopg quoting 7,000 array elements in Python, and no bound-parameter
# explosion for PostgreSQL to parse and plan.
_PG_ROW = (
    ("id", "uuid"),
    ("type", "text"),
    ("taken_at", "timestamptz"),
    ("value", "float8"),
    ("systolic", "int2"),
    ("diastolic", "int2"),
    ("answers", "json"),
    ("value_as_sent", "float8"),
    ("unit_as_sent", "text"),
)
_PG_SHARED = ("patient_id", "received_at", "source", "entered_by", "advice")


def _pg_element(index: int, kind: str) -> str:
    if kind == "json":
        # e->i is JSON null for a missing value; the column wants SQL NULL.
        return f"CASE WHEN json_typeof(e->{index}) = 'null' THEN NULL ELSE e->{index} END"
    return f"CAST(e->>{index} AS {kind})"


_PG_INSERT_SQL = (
    "INSERT INTO readings ({names}) SELECT {shared}, {selected} "
    "FROM json_array_elements(CAST(:rows AS json)) AS e "
    "ON CONFLICT (patient_id, id) DO NOTHING RETURNING id"
)
# Built only from the constant column lists above, never from input.
_PG_INSERT = text(
    _PG_INSERT_SQL.format(
        names=", ".join([*_PG_SHARED, *(name for name, _ in _PG_ROW)]),
        shared="CAST(:patient_id AS uuid), CAST(:received_at AS timestamptz), "
        "CAST(:source AS text), CAST(:entered_by AS uuid), CAST(:advice AS json)",
        selected=", ".join(_pg_element(i, kind) for i, (_, kind) in enumerate(_PG_ROW)),
    )
).columns(id=Uuid())
_PG_INSERT_DRIVER = DriverStatement.of(_PG_INSERT)


def _pg_rows_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(
        [
            [
                str(row["id"]),
                row["type"],
                row["taken_at"].isoformat(),
                row["value"],
                row["systolic"],
                row["diastolic"],
                row["answers"],
                row["value_as_sent"],
                row["unit_as_sent"],
            ]
            for row in rows
        ]
    )


def _insert_ignoring_duplicates(session: Session, rows: list[dict[str, Any]]) -> set[uuid.UUID]:
    if is_postgresql(session):
        # Rows sharing the batch-wide columns go in one statement (in practice: all of them).
        groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for row in rows:
            key = (row["patient_id"], row["received_at"], row["source"], row["entered_by"])
            groups.setdefault((*key, id(row["advice"])), []).append(row)
        inserted: set[uuid.UUID] = set()
        for group in groups.values():
            first = group[0]
            params = {name: first[name] for name in _PG_SHARED}
            params["advice"] = json.dumps(first["advice"]) if first["advice"] is not None else None
            params["rows"] = _pg_rows_json(group)
            inserted.update(rid for (rid,) in driver_rows(session, _PG_INSERT_DRIVER, params))
        return inserted
    stmt = sqlite_insert(Reading).on_conflict_do_nothing(index_elements=["patient_id", "id"])
    result = session.execute(stmt.returning(Reading.id), rows)
    return set(result.scalars().all())


def _same_content(stored: Reading, sent: dict[str, Any]) -> bool:
    for name in _CONTENT:
        a, b = getattr(stored, name), sent[name]
        if isinstance(a, float) and isinstance(b, float):
            if abs(a - b) > 1e-6:
                return False
        elif a != b:
            return False
    return True


_PATIENTS, _TEAMS, _SITES = Patient.__table__, Team.__table__, Site.__table__
# Core, not ORM: this runs on every ingest and needs one value.
_LOCK_PATIENT = (
    select(_SITES.c.pathway_overrides)
    .select_from(_PATIENTS.join(_TEAMS, _TEAMS.c.id == _PATIENTS.c.team_id))
    .join(_SITES, _SITES.c.id == _TEAMS.c.site_id)
    .where(_PATIENTS.c.id == bindparam("patient_id"))
    .with_for_update(of=_PATIENTS)
)


_TOKENS = DeviceToken.__table__
_PATIENT_COLUMNS = tuple(f.name for f in fields(clinical.PatientColumns))
# A device's own ingest: the token's patient, the columns ingest reads, and the site's
# overrides, with the patient locked as _LOCK_PATIENT locks it, in one round trip.
_LOCK_DEVICE_PATIENT = (
    select(*(_PATIENTS.c[name] for name in _PATIENT_COLUMNS), _SITES.c.pathway_overrides)
    .select_from(
        _TOKENS.join(_PATIENTS, _PATIENTS.c.id == _TOKENS.c.patient_id)
        .join(_TEAMS, _TEAMS.c.id == _PATIENTS.c.team_id)
        .join(_SITES, _SITES.c.id == _TEAMS.c.site_id)
    )
    .where(
        _TOKENS.c.token_hash == bindparam("token_hash"),
        _TOKENS.c.revoked_at.is_(None),
        _PATIENTS.c.status != "discharged",
    )
    .with_for_update(of=_PATIENTS)
)
_LOCK_DEVICE_PATIENT_DRIVER = DriverStatement.of(_LOCK_DEVICE_PATIENT)


@dataclass(frozen=True, slots=True)
class LockedPatient:
    """A device token's patient, locked for ingest, with its site's pathway overrides."""

    patient: clinical.PatientColumns
    overrides: dict[str, Any] | None


def lock_device_patient(session: Session, token_hash: str) -> LockedPatient | None:
    """The patient of a valid device token (same conditions as device-token auth), locked."""
    params = {"token_hash": token_hash}
    if is_postgresql(session):
        rows = driver_rows(session, _LOCK_DEVICE_PATIENT_DRIVER, params)
        row = rows[0] if rows else None
    else:
        row = session.execute(_LOCK_DEVICE_PATIENT, params).first()
    if row is None:
        return None
    *values, overrides = row
    return LockedPatient(clinical.PatientColumns(*values), overrides)


def ingest(
    session: Session,
    patient: clinical.IngestPatient,
    rows: list[dict[str, Any]],
    now: datetime,
    *,
    locked: LockedPatient | None = None,
) -> IngestResult:
    # Serialise ingestion per patient (PostgreSQL row lock; SQLite's write lock already does):
    # each batch is then judged with every earlier batch in its history, and two batches
    # cannot both raise the same alert. ``locked``: the caller took that lock already.
    if locked is not None:
        overrides = locked.overrides
    else:
        overrides = session.execute(_LOCK_PATIENT, {"patient_id": patient.id}).scalar()
    config = clinical.config_for(overrides)
    for row in rows:
        row["patient_id"] = patient.id
    batch_ids = [row["id"] for row in rows]
    history = clinical.load_history(
        session, patient.id, rows, exclude=batch_ids, config=config, now=now
    )
    changes = clinical.medication_changes(session, patient)
    evaluation = clinical.evaluate(config, patient, history, rows, now, changes)
    evaluation = clinical.with_team_hours(session, patient, evaluation, now)
    stored_form = evaluation.stored_form
    for row in rows:
        row["advice"] = stored_form
    inserted = _insert_ignoring_duplicates(session, rows)

    duplicates = [row for row in rows if row["id"] not in inserted]
    already: list[Reading] = []
    if duplicates:
        already = _load(session, patient.id, [row["id"] for row in duplicates])
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
            history = clinical.load_history(
                session, patient.id, fresh, exclude=list(inserted), config=config, now=now
            )
            evaluation = clinical.evaluate(config, patient, history, fresh, now, changes)
            evaluation = clinical.with_team_hours(session, patient, evaluation, now)
    stored = sorted(
        (row for row in rows if row["id"] in inserted), key=lambda r: (r["taken_at"], r["id"])
    )
    if inserted:
        clinical.raise_alerts(session, patient, evaluation, now)
    findings, advice = clinical.combine_for_response(
        evaluation if inserted else None, [r.advice for r in already]
    )
    return IngestResult(
        stored_rows=stored, already_stored=already, findings=findings, advice=advice
    )


def _load(session: Session, patient_id: uuid.UUID, ids: list[uuid.UUID]) -> list[Reading]:
    rows = session.scalars(
        select(Reading)
        .where(Reading.patient_id == patient_id, Reading.id.in_(ids))
        .order_by(Reading.taken_at, Reading.id)
    ).all()
    return list(rows)


def list_readings(
    session: Session,
    patient_id: uuid.UUID,
    *,
    type_: str | None,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[Reading]:
    query = select(Reading).where(Reading.patient_id == patient_id)
    if type_:
        query = query.where(Reading.type == type_)
    if start:
        query = query.where(Reading.taken_at >= start)
    if end:
        query = query.where(Reading.taken_at < end)
    if after:
        query = query.where(tuple_(Reading.taken_at, Reading.id) > after)
    query = query.order_by(Reading.taken_at, Reading.id).limit(limit)
    return list(session.scalars(query).all())
