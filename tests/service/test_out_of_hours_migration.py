"""Migration 20261207_0011: up and down on SQLite and PostgreSQL. Existing webhooks become the
teams' own (they keep getting every event); alerts gain a handling column, NULL for the past."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import inspect, text

from service.db import build_engine, build_sessionmaker
from service.migrations_util import downgrade, upgrade
from service.models import Site, Team
from tests.support.clock import T0
from tests.support.db import PG_URL, scratch_postgres

BEFORE = "20261207_0010"
AFTER = "20261207_0011"


def _columns(url: str, table: str) -> set[str]:
    engine = build_engine(url)
    try:
        return {c["name"] for c in inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def _round_trip(url: str) -> None:
    upgrade(url, BEFORE)
    engine = build_engine(url)
    sessions = build_sessionmaker(engine)
    site_id, team_id, hook_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with sessions.begin() as session:
        session.add(Site(id=site_id, code="S", name="S", created_at=T0))
        session.flush()
        session.add(Team(id=team_id, site_id=site_id, name="T", created_at=T0))
        session.flush()
        # Written as the table was before this revision (the model has the new column).
        session.execute(
            text(
                "INSERT INTO webhooks (id, team_id, url, secret, is_active, created_at) "
                "VALUES (:id, :team, 'https://team.example/hook', :secret, :active, :at)"
            ),
            {
                "id": hook_id if engine.dialect.name == "postgresql" else hook_id.hex,
                "team": team_id if engine.dialect.name == "postgresql" else team_id.hex,
                "secret": "s" * 20,
                "active": True,
                "at": T0,
            },
        )
    upgrade(url, AFTER)
    assert "out_of_hours_handling" in _columns(url, "alerts")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT purpose FROM webhooks")).scalars().all() == ["team"]
    downgrade(url, BEFORE)
    assert "out_of_hours_handling" not in _columns(url, "alerts")
    assert "purpose" not in _columns(url, "webhooks")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM webhooks")).scalar() == 1  # kept
    upgrade(url)
    engine.dispose()


def test_on_sqlite(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 'ooh.db'}")


@pytest.mark.postgres
def test_on_postgresql():
    if not PG_URL:
        pytest.skip("PostgreSQL leg: set MHF_TEST_DATABASE_URL to run it")
    with scratch_postgres("out_of_hours") as url:
        _round_trip(url)
