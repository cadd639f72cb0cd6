"""A site's eligible population as use cases: loading it (JSON or CSV, validated whole before
anything is stored), listing its loads, and the load in force for a month.

The rule a load must meet, so every uptake figure has a consistent denominator:

- each row names a known dimension (``imd_quintile``, ``ethnicity``, ``age_band``, ``sex``) and
  one of its groups as the reports name them (``GROUP_ORDER``), once;
- a count is a whole number, 0 or more;
- a dimension given at all is given whole: every one of its groups, 0 where nobody is in it
  (people without a recorded value go in "Not known" or "unknown"), since a group left out
  would read as no eligible people;
- every dimension given counts the same people: each adds up to the same total.

A dimension may be left out (a register without ethnicity): its uptake is then not shown.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.access import audit_change
from service.deps import Principal
from service.models import EligiblePopulationCount, EligiblePopulationLoad, Site
from service.problems import NotFound, Unprocessable
from service.reports.groups import EQUITY_DIMENSIONS, GROUP_ORDER
from service.reports.period import as_of_date

NETWORK_ROLES = ("programme_lead", "admin")
SOURCE_MAX = 500
# More than any ICS holds (the largest serve about 3 million people); and within the column.
MOST_PEOPLE = 10_000_000
CSV_COLUMNS = ("dimension", "group", "count")


@dataclass(frozen=True, slots=True)
class Row:
    """One group's count as given, with where it was given (``groups[2]`` or ``line 3``)."""

    at: str
    dimension: Any
    group: Any
    count: Any


@dataclass(frozen=True, slots=True)
class LoadIn:
    as_of: Any
    source: Any
    rows: Sequence[Row]


class Errors:
    """Every problem of a load, each naming its field, raised together as one 422."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.items.append({"field": field, "message": message, "type": "value_error"})

    def raise_any(self) -> None:
        if self.items:
            first = self.items[0]
            raise Unprocessable(
                f"{first['field']}: {first['message']}", extra={"errors": self.items}
            )


# --- who may -----------------------------------------------------------------------------------


def may_manage(principal: Principal, site_id: uuid.UUID) -> bool:
    if principal.role in NETWORK_ROLES:
        return True
    return principal.role == "site_admin" and principal.site_id == site_id


def _site(session: Session, principal: Principal, site_id: uuid.UUID) -> Site:
    site = session.get(Site, site_id)
    if site is None or not may_manage(principal, site_id):
        raise NotFound("No such site.")
    return site


# --- reading what was sent ---------------------------------------------------------------------


def from_json(body: bytes) -> LoadIn:
    """``{as_of, source, groups: [{dimension, group, count}]}``; any other member is refused."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Unprocessable(
            "body: not valid JSON",
            extra={"errors": [{"field": "body", "message": str(error), "type": "json_invalid"}]},
        ) from None
    errors = Errors()
    if not isinstance(data, dict):
        errors.add("body", "must be an object with as_of, source and groups")
        errors.raise_any()
    for key in sorted(set(data) - {"as_of", "source", "groups"}):
        errors.add(key, "unknown field")
    groups = data.get("groups")
    rows: list[Row] = []
    if not isinstance(groups, list):
        errors.add("groups", "must be a list of {dimension, group, count}")
    else:
        for i, item in enumerate(groups):
            at = f"groups[{i}]"
            if not isinstance(item, dict):
                errors.add(at, "must be an object with dimension, group and count")
                continue
            for key in sorted(set(item) - set(CSV_COLUMNS)):
                errors.add(f"{at}.{key}", "unknown field")
            rows.append(Row(at, item.get("dimension"), item.get("group"), item.get("count")))
    errors.raise_any()
    return LoadIn(data.get("as_of"), data.get("source"), rows)


def from_csv(body: bytes, as_of: str | None, source: str | None) -> LoadIn:
    """A header line ``dimension,group,count`` then one line per group; lines are numbered as
    in the file (the header is line 1). ``as_of`` and ``source`` come as query parameters."""
    errors = Errors()
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        errors.add("body", "must be UTF-8 text")
        errors.raise_any()
    try:
        lines = list(csv.reader(io.StringIO(text)))
    except csv.Error as error:  # a field over the csv module's limit, a stray NUL
        errors.add("body", f"not readable as CSV: {error}")
        errors.raise_any()
    header = [cell.strip().lower() for cell in lines[0]] if lines else []
    if tuple(header) != CSV_COLUMNS:
        errors.add("line 1", "the header must be exactly: dimension,group,count")
        errors.raise_any()
    rows: list[Row] = []
    for number, cells in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue  # a blank line, often the last
        at = f"line {number}"
        if len(cells) != len(CSV_COLUMNS):
            errors.add(at, f"has {len(cells)} values, not 3 (dimension,group,count)")
            continue
        dimension, group, count = (cell.strip() for cell in cells)
        rows.append(Row(at, dimension, group, _csv_count(count)))
    errors.raise_any()
    return LoadIn(as_of, source, rows)


def _csv_count(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        return text  # refused by validation, which names the line


# --- validating and storing -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Valid:
    as_of: date
    source: str
    counts: dict[tuple[str, str], int]


def validate(load: LoadIn, today: date) -> Valid:
    errors = Errors()
    as_of: date | None = None
    if not isinstance(load.as_of, str):
        errors.add("as_of", "required: the register's date, YYYY-MM-DD")
    else:
        try:
            as_of = date.fromisoformat(load.as_of)
        except ValueError:
            errors.add("as_of", "must be a date, YYYY-MM-DD")
        else:
            if as_of > today:
                errors.add("as_of", "is in the future")
    source = load.source.strip() if isinstance(load.source, str) else ""
    if not source:
        errors.add("source", "required: where the counts come from")
    elif len(source) > SOURCE_MAX:
        errors.add("source", f"at most {SOURCE_MAX} characters")
    elif "\x00" in source:
        errors.add("source", "must not contain NUL characters")
    counts: dict[tuple[str, str], int] = {}
    # Groups named by a row, whatever its count: a bad count is not a missing group too.
    named: set[tuple[str, str]] = set()
    refused: set[str] = set()
    if not load.rows:
        errors.add("groups", "no groups given")
    for row in load.rows:
        if row.dimension not in EQUITY_DIMENSIONS:
            errors.add(f"{row.at}.dimension", f"must be one of {', '.join(EQUITY_DIMENSIONS)}")
            continue
        order = GROUP_ORDER[row.dimension]
        if row.group not in order:
            errors.add(f"{row.at}.group", f"{row.dimension} groups are {', '.join(order)}")
            continue
        key = (row.dimension, row.group)
        if key in named:
            errors.add(f"{row.at}.group", f"{row.dimension} {row.group} is given twice")
            continue
        named.add(key)
        if isinstance(row.count, bool) or not isinstance(row.count, int):
            errors.add(f"{row.at}.count", "must be a whole number")
        elif row.count < 0:
            errors.add(f"{row.at}.count", "must be 0 or more")
        elif row.count > MOST_PEOPLE:
            errors.add(f"{row.at}.count", f"at most {MOST_PEOPLE:,}")
        else:
            counts[key] = row.count
            continue
        refused.add(row.dimension)
    _check_dimensions(counts, named, refused, errors)
    errors.raise_any()
    assert as_of is not None
    return Valid(as_of, source, counts)


def _check_dimensions(
    counts: dict[tuple[str, str], int],
    named: set[tuple[str, str]],
    refused: set[str],
    errors: Errors,
) -> None:
    """Each dimension named is whole; those whose every count is good add up alike."""
    totals: dict[str, int] = {}
    for dimension in EQUITY_DIMENSIONS:
        if not any(d == dimension for d, _ in named):
            continue
        missing = [g for g in GROUP_ORDER[dimension] if (dimension, g) not in named]
        if missing:
            errors.add(
                f"groups.{dimension}",
                "incomplete: every group must be given (0 where nobody), missing "
                + ", ".join(missing),
            )
        elif dimension not in refused:
            totals[dimension] = sum(counts[(dimension, g)] for g in GROUP_ORDER[dimension])
    if len(set(totals.values())) > 1:
        first = next(iter(totals))
        for dimension, total in totals.items():
            if total != totals[first]:
                errors.add(
                    f"groups.{dimension}",
                    f"adds up to {total} people, {first} to {totals[first]}: every dimension "
                    "must count the same people",
                )


def add_load(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    site_id: uuid.UUID,
    load: LoadIn,
) -> EligiblePopulationLoad:
    """Validate the whole load, then store it: a load with any error stores nothing."""
    site = _site(session, principal, site_id)
    valid = validate(load, as_of_date(now))
    row = EligiblePopulationLoad(
        id=uuid.uuid4(),
        site_id=site.id,
        as_of=valid.as_of,
        source=valid.source,
        loaded_at=now,
        loaded_by=principal.user_id,
    )
    session.add(row)
    session.flush()
    session.add_all(
        EligiblePopulationCount(load_id=row.id, dimension=d, grp=g, people=n)
        for (d, g), n in valid.counts.items()
    )
    session.flush()
    total = max(
        (sum(n for (d, _), n in valid.counts.items() if d == dim) for dim in EQUITY_DIMENSIONS),
        default=0,
    )
    audit_change(
        session,
        route,
        principal,
        "C",
        now,
        f"site:{site.id} eligible_population load:{row.id} as_of={valid.as_of} people={total}",
    )
    return row


def loads(
    session: Session, principal: Principal, site_id: uuid.UUID
) -> list[tuple[EligiblePopulationLoad, list[EligiblePopulationCount]]]:
    """The site's loads, newest first by date, each with its counts in the reports' order."""
    _site(session, principal, site_id)
    found = session.scalars(
        select(EligiblePopulationLoad)
        .where(EligiblePopulationLoad.site_id == site_id)
        .order_by(EligiblePopulationLoad.as_of.desc(), EligiblePopulationLoad.loaded_at.desc())
    ).all()
    counts = session.scalars(
        select(EligiblePopulationCount).where(
            EligiblePopulationCount.load_id.in_([load.id for load in found])
        )
    ).all()
    by_load: dict[uuid.UUID, list[EligiblePopulationCount]] = {}
    for count in counts:
        by_load.setdefault(count.load_id, []).append(count)
    rank = {
        (d, g): (i, j)
        for i, d in enumerate(EQUITY_DIMENSIONS)
        for j, g in enumerate(GROUP_ORDER[d])
    }
    return [
        (load, sorted(by_load.get(load.id, []), key=lambda c: rank[(c.dimension, c.grp)]))
        for load in found
    ]


# --- the load in force for a month -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InForce:
    load_id: uuid.UUID
    as_of: date
    source: str
    # The groups of the dimension asked, None where the load leaves the dimension out.
    groups: dict[str, int] | None


def in_force(session: Session, last_day: date, dimension: str) -> dict[uuid.UUID, InForce]:
    """Each site's latest load dated on or before ``last_day`` (the later loaded, of two of the
    same date), with its counts of ``dimension``: one statement."""
    latest = (
        select(
            EligiblePopulationLoad.id,
            EligiblePopulationLoad.site_id,
            EligiblePopulationLoad.as_of,
            EligiblePopulationLoad.source,
            func.row_number()
            .over(
                partition_by=EligiblePopulationLoad.site_id,
                order_by=(
                    EligiblePopulationLoad.as_of.desc(),
                    EligiblePopulationLoad.loaded_at.desc(),
                    EligiblePopulationLoad.id,
                ),
            )
            .label("newest"),
        )
        .where(EligiblePopulationLoad.as_of <= last_day)
        .subquery()
    )
    rows = session.execute(
        select(
            latest.c.id,
            latest.c.site_id,
            latest.c.as_of,
            latest.c.source,
            EligiblePopulationCount.grp,
            EligiblePopulationCount.people,
        )
        .outerjoin(
            EligiblePopulationCount,
            (EligiblePopulationCount.load_id == latest.c.id)
            & (EligiblePopulationCount.dimension == dimension),
        )
        .where(latest.c.newest == 1)
    ).all()
    out: dict[uuid.UUID, InForce] = {}
    for load_id, site_id, as_of, source, group, people in rows:
        found = out.setdefault(site_id, InForce(load_id, as_of, source, None))
        if group is not None:
            if found.groups is None:
                found = out[site_id] = InForce(load_id, as_of, source, {})
            assert found.groups is not None
            found.groups[group] = people
    return out


def query_given_with_json() -> Unprocessable:
    errors = Errors()
    errors.add("as_of", "a JSON load carries as_of and source in its body, not the query")
    return Unprocessable(
        errors.items[0]["field"] + ": " + errors.items[0]["message"], extra={"errors": errors.items}
    )
