"""Portable SQL for dates and instants: one construct, compiled for PostgreSQL and SQLite.

SQLite has no time zones and no date arithmetic operators, so each construct renders the same
calculation in each dialect. Results must be identical on both: the tests compare them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Date, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from service.timeutil import LONDON


class london_date(FunctionElement[Any]):
    """The Europe/London calendar date of a stored UTC instant.

    Arguments: the instant, then the UTC instants from which a new offset applies (``starts``,
    oldest first) and the SQLite date modifier for each span (``shifts``, one more than
    ``starts``, e.g. ``'+60 minutes'``). All bound parameters, so one statement serves every
    month; PostgreSQL ignores them and asks its own time zone database.
    """

    type = Date()
    inherit_cache = True
    name = "london_date"

    def __init__(self, instant: Any, starts: list[Any], shifts: list[Any]) -> None:
        if len(shifts) != len(starts) + 1:
            raise ValueError("one shift per span: len(shifts) == len(starts) + 1")
        self.spans = len(shifts)
        super().__init__(instant, *starts, *shifts)


@compiles(london_date, "postgresql")
def _london_date_pg(element: london_date, compiler: SQLCompiler, **kw: Any) -> str:
    instant = next(iter(element.clauses))
    return f"CAST(timezone('{LONDON.key}', {compiler.process(instant, **kw)}) AS DATE)"


@compiles(london_date)
def _london_date_sqlite(element: london_date, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite stores naive UTC text: shift it by the offset in force at that instant.
    clauses = list(element.clauses)
    arg = compiler.process(clauses[0], **kw)
    starts = clauses[1 : element.spans]
    shifts = clauses[element.spans :]
    whens = [
        f"WHEN {arg} >= {compiler.process(start, **kw)} "
        f"THEN date({arg}, {compiler.process(shift, **kw)})"
        for start, shift in reversed(list(zip(starts, shifts[1:], strict=True)))
    ]
    default = f"date({arg}, {compiler.process(shifts[0], **kw)})"
    return "CASE " + " ".join(whens) + f" ELSE {default} END" if whens else default


# The London calendar date of readings.taken_at, as a stored generated column. PostgreSQL asks its
# time zone database (timezone(text, timestamptz) is immutable, so it may generate a column); the
# text is what PostgreSQL reflects it as, so Alembic sees the model and the database agree.
READING_LOCAL_DATE_PG = "(timezone('Europe/London'::text, taken_at))::date"
# SQLite has no time zones: the UK rule in force since 1996 (British Summer Time from 01:00 UTC on
# the last Sunday of March to 01:00 UTC on the last Sunday of October), on the naive UTC text
# SQLite stores. "-6 days, weekday 0" from the 31st is the last Sunday of the month.
READING_LOCAL_DATE_SQLITE = (
    "CASE WHEN taken_at >= datetime(date(substr(taken_at, 1, 4) || '-03-31', '-6 days', "
    "'weekday 0'), '+1 hours') AND taken_at < datetime(date(substr(taken_at, 1, 4) || '-10-31', "
    "'-6 days', 'weekday 0'), '+1 hours') THEN date(taken_at, '+1 hours') ELSE date(taken_at) END"
)


class reading_local_date(ColumnElement[Any]):
    """The generation expression of ``readings.local_date``, in each dialect's own terms."""

    type = Date()
    inherit_cache = True


@compiles(reading_local_date, "postgresql")
def _reading_local_date_pg(element: reading_local_date, compiler: SQLCompiler, **kw: Any) -> str:
    return READING_LOCAL_DATE_PG


@compiles(reading_local_date)
def _reading_local_date_sqlite(
    element: reading_local_date, compiler: SQLCompiler, **kw: Any
) -> str:
    return READING_LOCAL_DATE_SQLITE


class epoch_seconds(FunctionElement[Any]):
    """Whole seconds since 1970 of a stored instant (fractions dropped on both engines)."""

    type = BigInteger()
    inherit_cache = True
    name = "epoch_seconds"


@compiles(epoch_seconds, "postgresql")
def _epoch_pg(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})) AS BIGINT)"


@compiles(epoch_seconds)
def _epoch_sqlite(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


class days_between(FunctionElement[Any]):
    """Whole days from the second date to the first (negative if the first is earlier)."""

    type = Integer()
    inherit_cache = True
    name = "days_between"


@compiles(days_between, "postgresql")
def _days_pg(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    later_sql, earlier_sql = compiler.process(later, **kw), compiler.process(earlier, **kw)
    return f"(CAST({later_sql} AS DATE) - CAST({earlier_sql} AS DATE))"


@compiles(days_between)
def _days_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"CAST(julianday({compiler.process(later, **kw)}) - "
        f"julianday({compiler.process(earlier, **kw)}) AS INTEGER)"
    )


class greatest(FunctionElement[Any]):
    """The larger of non-null arguments (PostgreSQL GREATEST, SQLite's scalar MAX)."""

    inherit_cache = True
    name = "greatest"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.type = args[0].type


class least(FunctionElement[Any]):
    inherit_cache = True
    name = "least"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.type = args[0].type


@compiles(greatest, "postgresql")
def _greatest_pg(element: greatest, compiler: SQLCompiler, **kw: Any) -> str:
    return f"GREATEST({compiler.process(element.clauses, **kw)})"


@compiles(greatest)
def _greatest_sqlite(element: greatest, compiler: SQLCompiler, **kw: Any) -> str:
    return f"MAX({compiler.process(element.clauses, **kw)})"


@compiles(least, "postgresql")
def _least_pg(element: least, compiler: SQLCompiler, **kw: Any) -> str:
    return f"LEAST({compiler.process(element.clauses, **kw)})"


@compiles(least)
def _least_sqlite(element: least, compiler: SQLCompiler, **kw: Any) -> str:
    return f"MIN({compiler.process(element.clauses, **kw)})"


class add_months(FunctionElement[Any]):
    """The date ``months`` calendar months from a date, the day kept where the month has it and
    else the month's last day (31 August + 6 months is 28 or 29 February), as PostgreSQL's
    ``date + interval`` does. SQLite's own ``'+N months'`` overflows into the next month
    instead, so it is built from the first of the month."""

    type = Date()
    inherit_cache = True
    name = "add_months"


@compiles(add_months, "postgresql")
def _add_months_pg(element: add_months, compiler: SQLCompiler, **kw: Any) -> str:
    day, months = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(CAST({day} AS DATE) + CAST({months} AS INTEGER) * INTERVAL '1 month' AS DATE)"


@compiles(add_months)
def _add_months_sqlite(element: add_months, compiler: SQLCompiler, **kw: Any) -> str:
    day, months = (compiler.process(c, **kw) for c in element.clauses)
    same_day = (
        f"date({day}, 'start of month', ({months}) || ' months', "
        f"'+' || (CAST(strftime('%d', {day}) AS INTEGER) - 1) || ' days')"
    )
    month_end = f"date({day}, 'start of month', (({months}) + 1) || ' months', '-1 day')"
    return f"MIN({same_day}, {month_end})"
