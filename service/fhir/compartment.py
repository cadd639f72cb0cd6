"""A patient's record as FHIR, a page at a time: ``$everything`` and the type searches read the
same sections (one per table, each in date order), so a page can end anywhere and the next link
starts exactly after the last entry sent.

A cursor names its section and the (date, id) of the last row sent; the next section starts from
its beginning. Date filters cover a DATE column (a London calendar day) when the day overlaps
the requested instants, as ``search.date_bounds`` reads calendar dates.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from service.fhir import care, outbound
from service.models import Alert, KccqScore, MedicationChange, Patient, PatientEvent, Reading
from service.pagination import aware_datetime, decode, encode_cursor, keyset, uuid_value
from service.timeutil import LONDON


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    model: Any
    order: Any  # the date or instant column the section is sorted on, then the id
    conditions: Callable[[uuid.UUID], list[ColumnElement[bool]]]
    resource: Callable[[Any], dict[str, Any]]

    @property
    def dated(self) -> bool:
        return bool(self.order.type.python_type is date)


@dataclass(frozen=True, slots=True)
class Bounds:
    start: datetime | None = None
    end: datetime | None = None


def readings(types: set[str]) -> Section:
    return Section(
        "readings",
        Reading,
        Reading.taken_at,
        lambda pid: [Reading.patient_id == pid, Reading.type.in_(sorted(types))],
        outbound.reading_resource,
    )


EPISODE = Section(
    "episode", Patient, Patient.enrolled_on, lambda pid: [Patient.id == pid], care.episode
)
ENCOUNTERS = Section(
    "encounters",
    PatientEvent,
    PatientEvent.occurred_on,
    lambda pid: [PatientEvent.patient_id == pid, PatientEvent.kind != "death"],
    care.encounter,
)
MEDICINES = Section(
    "medicines",
    MedicationChange,
    MedicationChange.changed_on,
    lambda pid: [MedicationChange.patient_id == pid],
    care.medication_statement,
)
KCCQ = Section(
    "kccq",
    KccqScore,
    KccqScore.assessed_on,
    lambda pid: [KccqScore.patient_id == pid],
    care.kccq_observation,
)
FLAGS = Section(
    "flags", Alert, Alert.raised_at, lambda pid: [Alert.patient_id == pid], outbound.flag
)


def _last_day(end: datetime) -> date:
    local = end.astimezone(LONDON)
    midnight = local.hour == local.minute == local.second == local.microsecond == 0
    return local.date() - timedelta(days=1) if midnight else local.date()


def _in_bounds(section: Section, bounds: Bounds) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if section.dated:
        if bounds.start is not None:
            out.append(section.order >= bounds.start.astimezone(LONDON).date())
        if bounds.end is not None:
            out.append(section.order <= _last_day(bounds.end))
    else:
        if bounds.start is not None:
            out.append(section.order >= bounds.start)
        if bounds.end is not None:
            out.append(section.order < bounds.end)
    return out


def _query(section: Section, patient_id: uuid.UUID, bounds: Bounds, *columns: Any) -> Any:
    return (
        select(*(columns or (section.model,)))
        .select_from(section.model)
        .where(*section.conditions(patient_id), *_in_bounds(section, bounds))
    )


def _after(section: Section, key: tuple[Any, uuid.UUID], desc: bool) -> ColumnElement[bool]:
    value, row_id = key
    order, ident = section.order, section.model.id
    if desc:
        return or_(order < value, and_(order == value, ident < row_id))
    return or_(order > value, and_(order == value, ident > row_id))


def _rows(
    session: Session,
    section: Section,
    patient_id: uuid.UUID,
    bounds: Bounds,
    after: tuple[Any, uuid.UUID] | None,
    limit: int,
    desc: bool,
) -> list[Any]:
    query = _query(section, patient_id, bounds)
    if after is not None:
        query = query.where(_after(section, after, desc))
    columns = (section.order, section.model.id)
    query = query.order_by(*(c.desc() for c in columns) if desc else columns)
    return list(session.scalars(query.limit(limit)).all())


def _parse_cursor(sections: Sequence[Section]) -> Callable[[str], tuple[int, Any]]:
    names = [s.name for s in sections]

    def parse(cursor: str) -> tuple[int, Any]:
        name, value, row_id = keyset(str, str, str)(cursor)
        index = names.index(name)  # ValueError for a section this search does not read
        if value == "" and row_id == "":
            return index, None
        kind = date.fromisoformat if sections[index].dated else aware_datetime
        return index, (kind(value), uuid_value(row_id))

    return parse


def _cursor(section: Section, row: Any | None) -> str:
    if row is None:
        return encode_cursor(section.name, "", "")
    value = getattr(row, section.order.key)
    return encode_cursor(section.name, value.isoformat(), row.id)


@dataclass(frozen=True, slots=True)
class Page:
    resources: list[dict[str, Any]]
    next_cursor: str | None


def page(
    session: Session,
    sections: Sequence[Section],
    patient_id: uuid.UUID,
    *,
    bounds: Bounds,
    limit: int,
    cursor: str | None,
    desc: bool = False,
) -> Page:
    """Up to ``limit`` resources from the sections in order (reversed for ``desc``), starting
    after ``cursor``, and the next page's cursor when anything is left."""
    ordered = list(reversed(sections)) if desc else list(sections)
    start = decode(cursor, _parse_cursor(ordered), "_cursor")
    first, after = start if start is not None else (0, None)
    out: list[dict[str, Any]] = []
    for index in range(first, len(ordered)):
        section = ordered[index]
        want = limit - len(out)
        rows = _rows(session, section, patient_id, bounds, after, want + 1, desc)
        after = None
        out += [section.resource(r) for r in rows[:want]]
        if len(rows) > want:
            return Page(out, _cursor(section, rows[want - 1]))
        if len(out) == limit:
            rest = ordered[index + 1 :]
            for later in rest:
                if _rows(session, later, patient_id, bounds, None, 1, desc):
                    return Page(out, _cursor(later, None))
            return Page(out, None)
    return Page(out, None)


def total(
    session: Session, sections: Sequence[Section], patient_id: uuid.UUID, bounds: Bounds
) -> int:
    """How many resources the sections hold: one indexed count per section (per patient)."""
    count = 0
    for section in sections:
        query = _query(section, patient_id, bounds, func.count())
        count += int(session.scalar(query) or 0)
    return count
