"""service.db.driver_rows: statements on the DBAPI cursor behave as Session.execute's would."""

from __future__ import annotations

from datetime import UTC

import pytest
from sqlalchemy import Integer, bindparam, select, text
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from service.db import DriverStatement, build_engine, build_sessionmaker, driver_rows, unit_of_work

PID = DriverStatement.of(text("SELECT pg_backend_pid()"))


@pytest.fixture
def sessions(db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("the driver path is PostgreSQL's")
    engine = build_engine(db_url, pool_size=1)
    yield build_sessionmaker(engine)
    engine.dispose()


def test_runs_in_the_sessions_transaction(sessions):
    with unit_of_work(sessions) as session:
        session.execute(text("CREATE TEMP TABLE t (n int) ON COMMIT DROP"))
        session.execute(text("INSERT INTO t VALUES (1)"))
        assert driver_rows(session, DriverStatement.of(text("SELECT n FROM t")), {}) == [(1,)]
        write = DriverStatement.of(text("INSERT INTO t VALUES (:n) RETURNING n"))
        assert driver_rows(session, write, {"n": 2}) == [(2,)]
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 2


def test_errors_are_sqlalchemys(sessions):
    with pytest.raises(ProgrammingError) as raised, unit_of_work(sessions) as session:
        driver_rows(session, DriverStatement.of(text("SELECT * FROM no_such_table")), {})
    assert isinstance(raised.value, DBAPIError)
    assert not raised.value.connection_invalidated
    with unit_of_work(sessions) as session:
        assert driver_rows(session, PID, {})


def test_a_statement_runs_again_after_it_failed(sessions):
    """The cursor a statement keeps on its connection survives the statement's error."""
    divide = DriverStatement.of(text("SELECT 6 / :n"))
    with pytest.raises(DBAPIError), unit_of_work(sessions) as session:
        driver_rows(session, divide, {"n": 0})
    for n in (1, 2, 3):
        with unit_of_work(sessions) as session:
            assert driver_rows(session, divide, {"n": n}) == [(6 // n,)]


def test_a_lost_connection_is_invalidated_not_pooled_again(sessions):
    with unit_of_work(sessions) as session:
        lost = driver_rows(session, PID, {})[0][0]
    with pytest.raises(OperationalError) as raised, unit_of_work(sessions) as session:
        assert driver_rows(session, PID, {})[0][0] == lost  # the pooled connection
        with sessions() as killer:
            killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": lost})
        driver_rows(session, PID, {})
    assert raised.value.connection_invalidated
    with unit_of_work(sessions) as session:
        assert driver_rows(session, PID, {})[0][0] != lost


def test_timestamps_come_in_utc_whatever_the_servers_zone(sessions):
    """Sessions are pinned to UTC, so driver rows' timestamps are UTC as the ORM's are."""
    with unit_of_work(sessions) as session:
        (now,) = driver_rows(session, DriverStatement.of(text("SELECT now()")), {})[0]
        (zone,) = driver_rows(session, DriverStatement.of(text("SHOW TimeZone")), {})[0]
    assert now.tzinfo is UTC and zone == "UTC"


def test_literal_parameters_are_rendered_once_and_the_others_stay_bound(sessions):
    limit = bindparam("limit", type_=Integer(), literal_execute=True)
    numbers = select(text("n")).select_from(text("generate_series(1, 10) AS n"))
    statement = DriverStatement.of(
        numbers.where(text("n >= :low").bindparams(bindparam("low"))).limit(limit), limit=3
    )
    assert "LIMIT 3" in statement.sql and "%(low)s" in statement.sql
    assert statement.defaults == {"low": None}
    with unit_of_work(sessions) as session:
        assert driver_rows(session, statement, {"low": 5}) == [(5,), (6,), (7,)]
