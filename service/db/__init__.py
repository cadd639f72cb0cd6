"""Engine and session factories. Nothing here runs at import time: the app factory builds them."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ClauseElement, Engine, Executable, create_engine, event, exc, text
from sqlalchemy.dialects.postgresql import psycopg
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from service.db.dialect import is_postgresql

SQLITE_BUSY_TIMEOUT_MS = 15_000
# A pooled PostgreSQL connection used less than this long ago is handed out without a ping:
# HikariCP's ``aliveBypassWindowMs`` (500 ms there too). Under load every request found a
# connection a few milliseconds old and still paid the ping's round trip (0.15-0.3 ms, a tenth
# of a queue page); a connection idle for longer, the case a restart or failover leaves
# behind, is pinged as before. Within the window a dead connection fails its first statement
# instead, which invalidates the pool as a failed ping would and answers 503 with Retry-After
# (H-09), as a connection cut mid-request always has.
PING_BYPASS_SECONDS = 0.5
_LAST_USED = "mhf.last_used"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use psycopg 3, the driver we ship."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def build_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> Engine:
    """At most ``2 * pool_size`` connections, as before, but all kept in the pool: overflow
    connections were closed as soon as they came back, so beyond ``pool_size`` concurrent
    requests every request paid a new connection (TCP, authentication, backend start)."""
    url = normalise_url(url)
    if is_sqlite(url):
        return _sqlite_engine(url, echo=echo)
    engine = create_engine(
        url,
        pool_size=2 * pool_size,
        max_overflow=0,
        pool_timeout=10,
        echo=echo,
        # A statement's parameters carry patient data (names, phones, NHS numbers): an error's
        # message, which reaches the logs, shows the SQL without them.
        hide_parameters=True,
        # Sessions in UTC whatever the server's default: SQL that wants local dates says
        # timezone('Europe/London', ..) itself, and psycopg gives timestamps in the session's
        # zone, so driver rows (``driver_rows``) come in UTC as the ORM's do.
        connect_args={"connect_timeout": 5, "options": "-c TimeZone=UTC"},
    )
    _ping_idle_connections(engine)
    return engine


def _ping_idle_connections(engine: Engine) -> None:
    """``pool_pre_ping``, for connections idle longer than ``PING_BYPASS_SECONDS`` only."""

    @event.listens_for(engine, "connect")
    def _fresh(_dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        # ``info`` belongs to the DBAPI connection: emptied when the pool replaces it.
        if record.info is not None:
            record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get(_LAST_USED)
        if last is not None and time.monotonic() - last < PING_BYPASS_SECONDS:
            return
        # As pool_pre_ping does: a dead connection is replaced (and the pool's older ones with
        # it) before the request sees it; any other error is the caller's.
        dialect = engine.dialect
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.InvalidatePoolError() from error
            raise


def _sqlite_engine(url: str, *, echo: bool) -> Engine:
    in_memory = make_url(url).database in (None, "", ":memory:")
    pool_args: dict[str, Any] = {} if in_memory else {"pool_size": 8, "max_overflow": 8}
    engine = create_engine(
        url,
        echo=echo,
        hide_parameters=True,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        **pool_args,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so we can issue BEGIN IMMEDIATE below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a committed transaction survives a process crash; only an OS crash
        # or power loss can lose the last transactions (stated in the README).
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front (waiting on busy_timeout), so a transaction can
        # never fail half-way when it upgrades from reading to writing.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def build_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)


def serialize_on(session: Session, *names: str) -> None:
    """Hold a lock for each name until the transaction ends, so that transactions naming the
    same thing run one after another (a count and the insert it allows, as one step).

    PostgreSQL: transaction-level advisory locks, taken in one order so two callers naming the
    same two things cannot deadlock. SQLite: nothing to do, every transaction already holds the
    database's write lock from ``BEGIN IMMEDIATE`` (``build_engine``).
    """
    if not is_postgresql(session):
        return
    keys = sorted(
        int.from_bytes(hashlib.sha256(f"mhf:{name}".encode()).digest()[:8], "big", signed=True)
        for name in set(names)
    )
    for key in keys:
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


_KEPT = "mhf.kept_on_rollback"
log = logging.getLogger("mhf.db")


def keep_on_rollback(session: Session, write: Callable[[Session], None]) -> None:
    """Run ``write`` when the unit of work ends, whether it commits or rolls back: for the
    record of a refused request (an audit of a denied probe), which the refusal must not undo."""
    session.info.setdefault(_KEPT, []).append(write)


_ON_ROLLBACK = "mhf.on_rollback"


def on_rollback(session: Session, write: Callable[[Session], None]) -> None:
    """Run ``write`` only if the unit of work rolls back: to redo, in a transaction of its
    own, a write the request made that must outlive its refusal (a device's request count)."""
    session.info.setdefault(_ON_ROLLBACK, []).append(write)


def _run_kept(session: Session) -> None:
    for write in session.info.pop(_KEPT, []):
        write(session)


def finish(session: Session, commit: bool) -> None:
    """End a unit of work: commit, or roll back and commit only what must be kept."""
    try:
        if commit:
            session.info.pop(_ON_ROLLBACK, None)
            _run_kept(session)
            session.commit()
            return
        session.rollback()
        session.info.setdefault(_KEPT, []).extend(session.info.pop(_ON_ROLLBACK, []))
        if session.info.get(_KEPT):
            try:
                _run_kept(session)
                session.commit()
            except Exception:
                # The request's own error is what the caller must see, not this one.
                log.exception("could not keep a record after a rollback")
                session.rollback()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: committed if the block finishes, rolled back if it raises."""
    session = factory()
    try:
        yield session
    except BaseException:
        finish(session, False)
        raise
    finish(session, True)


_PSYCOPG = psycopg.dialect()  # type: ignore[no-untyped-call]
_CURSORS = "mhf.driver_cursors"


@dataclass(frozen=True, slots=True)
class DriverStatement:
    """A statement compiled once for psycopg, to run on the DBAPI cursor (``driver_rows``).

    For the few statements every reading's ingest runs on PostgreSQL: SQLAlchemy's execution
    layer (execution context, result metadata, row processing) cost more CPU than psycopg's
    whole round trip. Rows come back as psycopg makes them, with no column types applied:
    the caller converts what it needs (timestamps come in UTC, the sessions' time zone).
    """

    sql: str
    # Literal values the statement binds (e.g. a status it compares with), with the caller's
    # parameters set over them.
    defaults: dict[str, Any]

    @classmethod
    def of(cls, statement: ClauseElement, **literals: Any) -> DriverStatement:
        """``literals``: values of the statement's ``literal_execute`` parameters, rendered
        into the SQL text once here (SQLAlchemy renders them again on every execution)."""
        compiled = statement.compile(dialect=_PSYCOPG)
        if not literals:
            return cls(compiled.string, dict(compiled.params))
        # Rendering needs a value for every parameter; the others stay placeholders.
        unset = {key: None for key, value in compiled.params.items() if value is None}
        sql = (
            statement.params(**(unset | literals))
            .compile(dialect=_PSYCOPG, compile_kwargs={"render_postcompile": True})
            .string
        )
        bound = {k: v for k, v in compiled.params.items() if f"%({k})s" in sql}
        return cls(sql, bound)


def driver_rows(
    session: Session, statement: DriverStatement, params: dict[str, Any]
) -> Sequence[Sequence[Any]]:
    """Run ``statement`` in the session's transaction, on its PostgreSQL connection."""
    connection = session.connection()
    pooled = connection.connection
    dbapi_connection = pooled.dbapi_connection
    assert dbapi_connection is not None
    dbapi_error = connection.dialect.loaded_dbapi.Error
    # A cursor per statement and connection, kept with the connection in the pool: psycopg
    # keeps the statement's converted query and its parameters' dumpers on the cursor, so a
    # fresh cursor per call redid that work every time (~20 us a statement). Checked against
    # the connection they were made on: a pool entry outlives a connection it replaces.
    made_on, cursors = pooled.info.get(_CURSORS, (None, None))
    if made_on is not dbapi_connection or cursors is None:
        cursors = {}
        pooled.info[_CURSORS] = (dbapi_connection, cursors)
    cursor: DBAPICursor | None = cursors.get(statement.sql)
    if cursor is None:
        cursor = cursors[statement.sql] = dbapi_connection.cursor()
    try:
        cursor.execute(statement.sql, statement.defaults | params)
        return cursor.fetchall()
    except dbapi_error as error:
        # As Session.execute would: a lost connection is invalidated rather than pooled
        # again, and the error is SQLAlchemy's, so it meets the same handlers (an outage is
        # a 503 with Retry-After, not a 500).
        lost = connection.dialect.is_disconnect(error, dbapi_connection, cursor)
        if lost:
            connection.invalidate(error)
        raise DBAPIError.instance(
            statement.sql,
            params,
            error,
            dbapi_error,
            hide_parameters=True,
            connection_invalidated=lost,
            dialect=connection.dialect,
        ) from error


def fetch_all(
    session: Session,
    driver_statement: DriverStatement,
    statement: Executable,
    params: dict[str, Any],
) -> Sequence[Sequence[Any]]:
    """The rows of one query: on PostgreSQL ``driver_statement`` on the DBAPI cursor
    (``driver_rows``), elsewhere ``statement`` through SQLAlchemy. The two must select the same
    columns in the same order; values come as each path gives them (``DriverStatement``)."""
    if is_postgresql(session):
        return driver_rows(session, driver_statement, params)
    return session.execute(statement, params).all()
