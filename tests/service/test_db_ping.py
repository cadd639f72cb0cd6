"""The PostgreSQL pool pings a connection on checkout only if it has been idle for a while."""

from __future__ import annotations

from types import SimpleNamespace

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from service import db
from service.db import build_engine, build_sessionmaker, unit_of_work

PID = text("SELECT pg_backend_pid()")


@pytest.fixture
def engine(db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("the pool's ping is PostgreSQL's")
    engine = build_engine(db_url, pool_size=1)
    yield engine
    engine.dispose()


@pytest.fixture
def pings(engine, monkeypatch):
    calls: list[object] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection):
        calls.append(dbapi_connection)
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return calls


@pytest.fixture
def pool_clock_stands_still(monkeypatch):
    """The pool's idle clock frozen: "inside the window" then holds however long a busy CI
    machine takes between two checkouts (or to kill a backend), not only under 0.5 s."""
    monkeypatch.setattr(db, "time", SimpleNamespace(monotonic=lambda: 1000.0))


def _kill(engine, pid):
    """From a connection of its own: the pool would hand back the very one to be killed."""
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as killer:
        killer.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_a_connection_in_use_moments_ago_is_not_pinged(engine, pings, pool_clock_stands_still):
    sessions = build_sessionmaker(engine)
    for _ in range(3):
        with unit_of_work(sessions) as session:
            session.execute(PID)
    assert pings == []


def test_an_idle_connection_is_pinged(engine, pings, monkeypatch):
    sessions = build_sessionmaker(engine)
    with unit_of_work(sessions) as session:
        session.execute(PID)
    monkeypatch.setattr(db, "PING_BYPASS_SECONDS", 0.0)
    with unit_of_work(sessions) as session:
        session.execute(PID)
    assert len(pings) == 1


def test_an_idle_connection_found_dead_is_replaced_before_the_request_sees_it(engine, monkeypatch):
    sessions = build_sessionmaker(engine)
    with unit_of_work(sessions) as session:
        dead = session.execute(PID).scalar()
    _kill(engine, dead)
    monkeypatch.setattr(db, "PING_BYPASS_SECONDS", 0.0)
    with unit_of_work(sessions) as session:
        assert session.execute(PID).scalar() != dead


def test_a_dead_connection_inside_the_window_fails_once_then_the_pool_recovers(
    engine, pool_clock_stands_still
):
    """No ping: the first statement fails as a cut mid-request does (a 503 for the caller),
    and the pool drops its connections, so the next request gets a live one."""
    sessions = build_sessionmaker(engine)
    with unit_of_work(sessions) as session:
        dead = session.execute(PID).scalar()
    _kill(engine, dead)
    with pytest.raises(OperationalError) as raised, unit_of_work(sessions) as session:
        session.execute(PID)
    assert raised.value.connection_invalidated
    with unit_of_work(sessions) as session:
        assert session.execute(PID).scalar() != dead
