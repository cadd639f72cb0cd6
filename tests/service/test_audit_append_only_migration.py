"""Migration 20261207_0014: checkpoints table; on PostgreSQL an append-only, gapless trail."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from service import audit
from service.db import build_engine, build_sessionmaker
from service.migrations_util import downgrade, upgrade
from tests.support.clock import T0
from tests.support.db import PG_URL, scratch_postgres

BEFORE = "20261207_0013"


def _append(url: str) -> None:
    engine = build_engine(url)
    with build_sessionmaker(engine).begin() as session:
        entry = audit.AuditEntry(None, "clinician", uuid.uuid4(), "R", "GET /x")
        audit.record(session, [entry], T0)
    engine.dispose()


def _run(url: str, statement: str) -> None:
    engine = build_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def _seqs(url: str) -> list[int]:
    engine = build_engine(url)
    with engine.connect() as conn:
        seqs = conn.execute(text("SELECT seq FROM audit_events ORDER BY seq")).scalars().all()
    engine.dispose()
    return list(seqs)


def _tables(url: str) -> set[str]:
    engine = build_engine(url)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    return names


def test_round_trip_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'trail.db'}"
    upgrade(url, BEFORE)
    assert "audit_checkpoints" not in _tables(url)
    upgrade(url)
    assert "audit_checkpoints" in _tables(url)
    downgrade(url, BEFORE)
    assert "audit_checkpoints" not in _tables(url)


@pytest.mark.postgres
def test_round_trip_on_postgresql():
    if not PG_URL:
        pytest.skip("PostgreSQL leg: set MHF_TEST_DATABASE_URL to run it")
    with scratch_postgres("append_only") as url:
        upgrade(url, BEFORE)
        _append(url)
        _run(url, "SELECT nextval(pg_get_serial_sequence('audit_events', 'seq'))")  # a hole
        _append(url)
        assert _seqs(url) == [1, 3]
        upgrade(url)
        for statement in ("UPDATE audit_events SET route = 'x'", "DELETE FROM audit_events"):
            with pytest.raises(DBAPIError, match="append-only"):
                _run(url, statement)
        _append(url)
        assert _seqs(url) == [1, 3, 4]
        downgrade(url, BEFORE)
        _append(url)  # numbered by the sequence again, past the records numbered without it
        assert _seqs(url) == [1, 3, 4, 5]
        _run(url, "DELETE FROM audit_events WHERE seq = 5")
        upgrade(url)
        assert _seqs(url) == [1, 3, 4]
