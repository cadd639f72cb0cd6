"""Migration 20261207_0024: a site lead must name a site and no clinician may, and the way back
turns a site lead into an inactive clinician of no site rather than anything with more reach."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import insert, inspect, select
from sqlalchemy.exc import IntegrityError

from service.db import build_engine
from service.migrations_util import downgrade, upgrade
from service.models import Site, User
from tests.support.clock import T0
from tests.support.db import PG_URL, scratch_postgres

BEFORE = "20261207_0021"


def _user(conn, role: str, site: uuid.UUID | None) -> uuid.UUID:
    # Core inserts naming their columns: users has had these since 20261207_0015.
    user_id = uuid.uuid4()
    conn.execute(
        insert(User).values(
            id=user_id,
            username=f"u{user_id.hex[:8]}",
            password_hash="x",
            role=role,
            is_active=True,
            site_id=site,
            created_at=T0,
        )
    )
    return user_id


def _round_trip(url: str) -> None:
    upgrade(url, BEFORE)
    engine = build_engine(url)
    site = uuid.uuid4()
    try:
        with engine.begin() as conn:
            conn.execute(insert(Site).values(id=site, code="S", name="S", created_at=T0))
        with pytest.raises(IntegrityError), engine.begin() as conn:
            _user(conn, "site_lead", site)
        upgrade(url)
        with engine.begin() as conn:
            lead = _user(conn, "site_lead", site)
        with pytest.raises(IntegrityError), engine.begin() as conn:
            _user(conn, "site_lead", None)
        with pytest.raises(IntegrityError), engine.begin() as conn:
            _user(conn, "clinician", site)
        assert {"access_requests", "access_grants"} <= set(inspect(engine).get_table_names())
        downgrade(url, BEFORE)
        with engine.connect() as conn:
            row = conn.execute(
                select(User.role, User.is_active, User.site_id).where(User.id == lead)
            ).one()
        assert (row.role, bool(row.is_active), row.site_id) == ("clinician", False, None)
        assert "access_requests" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_on_sqlite(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 'site_lead.db'}")


@pytest.mark.postgres
def test_on_postgresql():
    if not PG_URL:
        pytest.skip("PostgreSQL leg: set MHF_TEST_DATABASE_URL to run it")
    with scratch_postgres("site_lead") as url:
        _round_trip(url)
