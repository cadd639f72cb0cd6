"""The readings' queries: the idempotent insert, the per-patient lock, look-ups and lists.

The client's reading id is the idempotency key. ``INSERT .. ON CONFLICT DO NOTHING`` on the
(patient_id, id) primary key makes concurrent re-sends safe without a read-then-write race.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Uuid, bindparam, select, text, tuple_
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from service.db import DriverStatement, driver_rows
from service.db.dialect import is_postgresql
from service.models import Patient, Reading, Site, Team

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


def insert_ignoring_duplicates(session: Session, rows: list[dict[str, Any]]) -> set[uuid.UUID]:
    """Store the rows whose (patient, id) is new; the ids stored. Not one statement with a
    fallback (``fetch_all``): PostgreSQL's takes the batch as one JSON parameter, SQLite's
    the rows themselves."""
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


_PATIENTS, _TEAMS, _SITES = Patient.__table__, Team.__table__, Site.__table__
# Core, not ORM: this runs on every ingest and needs one value.
_LOCK_PATIENT = (
    select(_SITES.c.pathway_overrides)
    .select_from(_PATIENTS.join(_TEAMS, _TEAMS.c.id == _PATIENTS.c.team_id))
    .join(_SITES, _SITES.c.id == _TEAMS.c.site_id)
    .where(_PATIENTS.c.id == bindparam("patient_id"))
    .with_for_update(of=_PATIENTS)
)


def lock_patient(session: Session, patient_id: uuid.UUID) -> dict[str, Any] | None:
    """Lock the patient's row until the transaction ends (PostgreSQL; SQLite's write lock
    already serialises); its site's pathway overrides."""
    overrides: dict[str, Any] | None = session.execute(
        _LOCK_PATIENT, {"patient_id": patient_id}
    ).scalar()
    return overrides


def readings_by_id(session: Session, patient_id: uuid.UUID, ids: list[uuid.UUID]) -> list[Reading]:
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
