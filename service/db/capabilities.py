"""What each database can do: the statements that differ between SQLite and PostgreSQL.

The domains say what they need (rows no other runner is working, a job run no other scheduler
is running, the records naming a patient) and this module says how each database does it, so
no domain module asks which database it is talking to. Each capability's docstring says what
it does on each database and why; the behaviour a caller sees is the same on both.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    Uuid,
    exists,
    func,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import QueryableAttribute, Session

from service.db.dialect import is_postgresql

_S = TypeVar("_S", bound=Select[*tuple[Any, ...]])


def skip_locked(session: Session, query: _S, *, of: Any) -> _S:
    """``query`` taking the rows of ``of`` it reads, skipping those another transaction holds.

    PostgreSQL: ``FOR UPDATE OF <of> SKIP LOCKED``, so runners working the same queue at once
    (two scheduler processes) each take different rows and neither waits for the other.
    SQLite: the query unchanged. It has no row locks: every transaction already holds the
    database's write lock from ``BEGIN IMMEDIATE`` (``build_engine``), so no other runner can
    be working these rows.
    """
    if is_postgresql(session):
        return query.with_for_update(skip_locked=True, of=of)
    return query


def tune_for_reports(session: Session, work_mem: str) -> None:
    """Set the transaction up for the reports' one large aggregate statement.

    PostgreSQL, for this transaction only (``SET LOCAL``): JIT off, because the batch's
    estimated cost is the sum of its branches and crosses ``jit_above_cost`` although each
    branch runs in milliseconds, so compiling would take longer than running; and
    ``work_mem`` raised to ``work_mem`` (e.g. ``'64MB'``) so the medians' in-memory sorts do
    not spill to disk at the 4 MB default. SQLite: nothing; it has neither setting.
    """
    if not is_postgresql(session):
        return
    if not _MEMORY.fullmatch(work_mem):
        # Rendered into the statement (SET takes no parameters), so only a size is accepted.
        raise ValueError(f"not a PostgreSQL memory size: {work_mem!r}")
    session.execute(text("SET LOCAL jit = off"))
    session.execute(text(f"SET LOCAL work_mem = '{work_mem}'"))


_MEMORY = re.compile(r"[0-9]+\s*(kB|MB|GB|TB)?")


def uuid_list_contains(
    session: Session, column: ColumnElement[Any] | QueryableAttribute[Any], value: uuid.UUID
) -> ColumnElement[bool]:
    """Whether the uuid list ``column`` (a ``service.db.types.UuidList``) holds ``value``.

    PostgreSQL: array containment (``column @> ARRAY[value]``), which a GIN index on the
    column answers. SQLite: the list is stored as JSON text, so an ``EXISTS`` over its
    elements (``json_each``), compared with the uuid's text as the list stores it.
    """
    if is_postgresql(session):
        return type_coerce(column, ARRAY(Uuid())).contains([value])
    listed = func.json_each(column).table_valued("value")
    return exists(select(1).select_from(listed).where(listed.c.value == str(value)))


def has_audit_functions(bind: Session | Connection | Engine) -> bool:
    """Whether the database holds the audit trail's own SQL functions (``audit_append``,
    ``audit_append_patients``), so a record can be appended in the database, inside another
    statement or as one call.

    PostgreSQL: yes, installed by migrations 20261201_0006 and 0007; the function takes the
    chain's lock, reads the head and links the record in one round trip. SQLite: no (it has
    no stored functions); the caller reads the head and inserts the record itself, which is
    safe because its transaction already holds the database's only write lock.
    """
    return is_postgresql(bind)


def _lock_key(name: str) -> int:
    return int.from_bytes(
        hashlib.sha256(f"mhf-job:{name}".encode()).digest()[:8], "big", signed=True
    )


@contextmanager
def job_lock(engine: Engine, name: str) -> Iterator[bool]:
    """Hold a lock named ``name`` across processes while the block runs; yields whether it was
    got (False: another process holds it, and the caller skips its run rather than wait).

    PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on a connection of
    its own, not the job's: the job commits as it goes, and a transaction-level lock would end
    with its first commit. Released when the block ends, and by the server if the process
    dies. SQLite: always got. A SQLite database is one file used by one host, and its writers
    already run one at a time (``BEGIN IMMEDIATE``), so a job's effects cannot interleave.
    """
    if not is_postgresql(engine):
        yield True
        return
    key = _lock_key(name)
    with engine.connect() as connection:
        got = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))
        connection.commit()
        if not got:
            yield False
            return
        try:
            yield True
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            connection.commit()
