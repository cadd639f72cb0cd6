"""The reports migration upgrades and downgrades on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from service.db import build_engine, build_sessionmaker, unit_of_work
from service.migrations_util import downgrade, upgrade
from tests.reports.builders import Data
from tests.support.db import PG_URL, scratch_postgres

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
    with scratch_postgres("migration") as url:
        _round_trip(url)


# Instants either side of both 2026 clock changes (01:00 UTC on 29 March and 25 October) and of
# London midnight in summer (23:00 UTC) and winter (00:00 UTC), with their London dates.
LOCAL_DATES = [
    ("2026-03-29T00:59:59", "2026-03-29"),
    ("2026-03-29T01:00:00", "2026-03-29"),
    ("2026-03-29T22:59:59", "2026-03-29"),
    ("2026-03-29T23:00:00", "2026-03-30"),
    ("2026-10-24T23:00:00", "2026-10-25"),
    ("2026-10-25T00:59:59", "2026-10-25"),
    ("2026-10-25T01:00:00", "2026-10-25"),
    ("2026-10-25T23:30:00", "2026-10-25"),
    ("2026-12-31T23:59:59", "2026-12-31"),
    ("2027-01-01T00:00:00", "2027-01-01"),
]


def _local_date_round_trip(url: str) -> None:
    upgrade(url, "20261124_0004")
    engine = build_engine(url)
    try:
        with unit_of_work(build_sessionmaker(engine)) as session:
            data = Data(session)
            data.site("S1")
            pid = data.patient("S1-team", "2026-03-01")
            for taken, _ in LOCAL_DATES:
                data.reading(pid, taken)
            data.done()
        # Rows written before the column existed get their London date too.
        upgrade(url, "20261201_0005")
        _, indexes = _tables_and_indexes(url)
        assert "ix_readings_weight_local_date" in indexes
        assert "ix_readings_weight_taken_at" not in indexes
        with engine.connect() as conn:
            got = conn.execute(
                text("SELECT taken_at, local_date FROM readings ORDER BY taken_at")
            ).all()
        assert [str(day)[:10] for _, day in got] == [day for _, day in LOCAL_DATES]
        downgrade(url, "20261124_0004")
        engine.dispose()
        columns = {c["name"] for c in inspect(engine).get_columns("readings")}
        _, indexes = _tables_and_indexes(url)
        assert "local_date" not in columns and "ix_readings_weight_taken_at" in indexes
        upgrade(url)
    finally:
        engine.dispose()


def test_local_date_migration_on_sqlite(tmp_path):
    _local_date_round_trip(f"sqlite:///{tmp_path / 'local_date.db'}")


@pytest.mark.postgres
def test_local_date_migration_on_postgresql():
    if not PG_URL:
        pytest.skip("PostgreSQL leg: set MHF_TEST_DATABASE_URL to run it")
    with scratch_postgres("local_date") as url:
        _local_date_round_trip(url)
