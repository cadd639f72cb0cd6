"""The caseload: a team's patients with what a nurse scans for, searched, filtered, sorted and
paged in the database (clinicians of the team). The page ``/ui/patients`` and the API's
``GET /api/v1/caseload`` both call ``caseload``, so they list the same patients the same way.

Each figure is a correlated subquery of one statement (the readings and alerts indexes on
patient_id answer each), so a page costs two statements (the count and the page) whatever its
size, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import Float, and_, case, cast, distinct, func, literal, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from service.access import audit_patient_access
from service.deps import Principal
from service.models import Alert, Patient, Reading
from service.models.readings import READING_LOCAL_DATE
from service.nhs_number import normalise_nhs_number
from service.reports.sqlfuncs import days_between, greatest, least
from service.timeutil import LONDON

ADHERENCE_DAYS = 14
Sort = Literal[
    "alerts", "name", "nhs_number", "age", "last_weight", "adherence", "next_review", "last_reading"
]
SORTS: tuple[str, ...] = Sort.__args__  # type: ignore[attr-defined]
Status = Literal["active", "paused", "discharged"]


@dataclass(frozen=True)
class CaseloadQuery:
    """What the nurse asked for; every field optional except the page."""

    search: str | None = None
    team_id: uuid.UUID | None = None
    cohort: str | None = None
    statuses: tuple[str, ...] = ()
    # Only patients with no reading of any kind in the last N days (or none ever).
    quiet_days: int | None = None
    sort: str = "alerts"
    # None: the sort's own order (open alerts most first, everything else ascending).
    descending: bool | None = None
    page: int = 1
    limit: int = 50


class CaseloadItem(BaseModel):
    id: uuid.UUID
    nhs_number: str
    name: str | None
    phone: str | None
    date_of_birth: date
    age: int
    team_id: uuid.UUID
    cohort: str
    status: str
    in_hospital_since: date | None
    last_weight_kg: float | None
    last_weight_at: datetime | None
    last_reading_at: datetime | None = Field(description="The latest reading of any kind.")
    adherence_14d: float | None = Field(
        description="Percent of the last 14 London days (or of the days since enrolment, if "
        "fewer) with a weight; null when the patient is not asked for daily weights or has been "
        "discharged."
    )
    open_alerts: int = Field(description="Unresolved alerts (review tasks not counted).")
    open_red_alerts: int
    next_review_due: datetime | None = Field(
        description="When the earliest unresolved review task (post-discharge review) is due."
    )


class CaseloadPage(BaseModel):
    items: list[CaseloadItem]
    total: Annotated[int, Field(description="Patients matching the filters, on every page.")]
    page: int
    limit: int


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _search(value: str) -> Any:
    """An NHS number (whole or its start, spaces allowed) or part of a name, any case."""
    digits = normalise_nhs_number(value).replace("-", "")
    if digits.isdigit():
        return Patient.nhs_number.startswith(digits, autoescape=True)
    return func.lower(Patient.name).contains(value.strip().lower(), autoescape=True)


def caseload(
    session: Session, principal: Principal, route: str, now: datetime, query: CaseloadQuery
) -> CaseloadPage:
    """A page of the caller's teams' patients (only ``query.team_id`` if given, when it is one
    of theirs); the read of the page's patients is audited as one record."""
    teams = principal.team_ids if query.team_id is None else principal.team_ids & {query.team_id}
    today = now.astimezone(LONDON).date()
    first_day = today - timedelta(days=ADHERENCE_DAYS - 1)

    mine = Reading.patient_id == Patient.id
    last_weight_at = (
        select(func.max(Reading.taken_at)).where(mine, Reading.type == "weight").scalar_subquery()
    )
    last_weight = (
        select(Reading.value)
        .where(mine, Reading.type == "weight")
        .order_by(Reading.taken_at.desc(), Reading.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    last_reading_at = select(func.max(Reading.taken_at)).where(mine).scalar_subquery()
    # The literal type (not a bound parameter) lets both databases use the partial index on
    # (patient_id, local_date) that the reports' adherence uses.
    weight_days = (
        select(func.count(distinct(READING_LOCAL_DATE)))
        .where(
            mine,
            text("readings.type = 'weight'"),
            READING_LOCAL_DATE.between(first_day, today),
        )
        .scalar_subquery()
    )
    expected_days = (
        days_between(literal(today), greatest(Patient.enrolled_on, literal(first_day))) + 1
    )
    adherence = case(
        (
            and_(
                Patient.expects_daily_weight.is_(True),
                Patient.status != "discharged",
                expected_days > 0,
            ),
            100.0
            * cast(weight_days, Float)
            / least(cast(expected_days, Float), literal(float(ADHERENCE_DAYS))),
        ),
        else_=None,
    )
    unresolved = and_(Alert.patient_id == Patient.id, Alert.status != "resolved")
    open_alerts = select(func.count()).where(unresolved, Alert.kind == "alert").scalar_subquery()
    open_red = (
        select(func.count())
        .where(unresolved, Alert.kind == "alert", Alert.severity == "red")
        .scalar_subquery()
    )
    next_review_due = (
        select(func.min(Alert.due_at)).where(unresolved, Alert.kind == "task").scalar_subquery()
    )

    where: list[ColumnElement[bool]] = [Patient.team_id.in_(teams)]
    if query.search and query.search.strip():
        where.append(_search(query.search))
    if query.cohort:
        where.append(Patient.cohort == query.cohort)
    if query.statuses:
        where.append(Patient.status.in_(query.statuses))
    if query.quiet_days is not None:
        since = now - timedelta(days=query.quiet_days)
        recent = select(Reading.id).where(mine, Reading.taken_at >= since)
        where.append(~recent.exists())

    total = session.scalar(select(func.count()).select_from(Patient).where(*where)) or 0

    keys: dict[str, list[Any]] = {
        "alerts": [open_red, open_alerts],
        "name": [func.lower(Patient.name)],
        "nhs_number": [Patient.nhs_number],
        # Oldest first is the highest age: the date of birth runs the other way.
        "age": [Patient.date_of_birth.desc()],
        "last_weight": [last_weight_at],
        "adherence": [adherence],
        "next_review": [next_review_due],
        "last_reading": [last_reading_at],
    }
    descending = query.sort == "alerts" if query.descending is None else query.descending
    order: list[Any] = []
    for column in keys.get(query.sort, keys["alerts"]):
        if query.sort == "age":
            ordered = Patient.date_of_birth.asc() if descending else column
        else:
            ordered = column.desc() if descending else column.asc()
        order.append(ordered.nulls_last())
    # Ties (and the default) by name then NHS number, and the id last so pages never overlap.
    order += [func.lower(Patient.name).asc().nulls_last(), Patient.nhs_number, Patient.id]

    statement = (
        select(
            Patient,
            last_weight.label("last_weight"),
            last_weight_at.label("last_weight_at"),
            last_reading_at.label("last_reading_at"),
            adherence.label("adherence"),
            open_alerts.label("open_alerts"),
            open_red.label("open_red"),
            next_review_due.label("next_review_due"),
        )
        .where(*where)
        .order_by(*order)
        .limit(query.limit)
        .offset((query.page - 1) * query.limit)
    )
    rows = session.execute(statement).all()
    items = [
        CaseloadItem(
            id=row.Patient.id,
            nhs_number=row.Patient.nhs_number,
            name=row.Patient.name,
            phone=row.Patient.phone,
            date_of_birth=row.Patient.date_of_birth,
            age=_age(row.Patient.date_of_birth, today),
            team_id=row.Patient.team_id,
            cohort=row.Patient.cohort,
            status=row.Patient.status,
            in_hospital_since=row.Patient.in_hospital_since,
            last_weight_kg=row.last_weight,
            last_weight_at=_aware(row.last_weight_at),
            last_reading_at=_aware(row.last_reading_at),
            adherence_14d=None if row.adherence is None else round(float(row.adherence), 1),
            open_alerts=row.open_alerts,
            open_red_alerts=row.open_red,
            next_review_due=_aware(row.next_review_due),
        )
        for row in rows
    ]
    audit_patient_access(session, route, principal, [i.id for i in items], "R", now, "caseload")
    return CaseloadPage(items=items, total=total, page=query.page, limit=query.limit)


def _aware(value: datetime | str | None) -> datetime | None:
    """A max()/min() over a UTC column comes back untyped on SQLite: read it as UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
