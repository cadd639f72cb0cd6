"""The reports migration upgrades and downgrades on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from service.db import build_engine, normalise_url
from service.migrations_util import downgrade, upgrade
from tests.conftest import PG_URL

REPORT_TABLES = {"patient_events", "medication_changes", "kccq_scores", "report_snapshots"}


def _tables_and_indexes(url: str) -> tuple[set[str], set[str]]:
    engine = build_engine(url)
    try:
        inspector = inspect(engine)
        tables = set(inspector.get_table_names())
        indexes = {ix["name"] for ix in inspector.get_indexes("readings") if ix["name"]}
    finally:
        engine.dispose()
    return tables, indexes


def _round_trip(url: str) -> None:
    upgrade(url, "20261124_0002")
    upgrade(url, "20261124_0003")
    tables, indexes = _tables_and_indexes(url)
    assert tables >= REPORT_TABLES and "ix_readings_weight_taken_at" in indexes
    downgrade(url, "20261124_0002")
    tables, indexes = _tables_and_indexes(url)
    assert not tables & REPORT_TABLES and "ix_readings_weight_taken_at" not in indexes
    upgrade(url, "20261124_0003")
    assert _tables_and_indexes(url)[0] >= REPORT_TABLES


def test_round_trip_on_sqlite(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 'migrate.db'}")


@pytest.mark.postgres
def test_round_trip_on_postgresql():
    if not PG_URL:
        pytest.skip("PostgreSQL leg: set MHF_TEST_DATABASE_URL to run it")
    base = make_url(normalise_url(PG_URL))
    name = "mhf_test_reports_migration"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        _round_trip(base.set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
