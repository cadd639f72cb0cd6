"""Migration 20261207_0019 on a database with alerts and their history: the minutes columns
arrive empty with their check, the contacts table with its own, and the way back keeps the rows."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import insert, inspect, select, text, update
from sqlalchemy.exc import IntegrityError

from service.db import build_engine
from service.migrations_util import downgrade, upgrade
from service.models import Alert, AlertEventRow, Patient, Site, Team
from tests.support.clock import T0
from tests.support.db import PG_URL, scratch_postgres

BEFORE = "20261207_0018"


def _round_trip(url: str) -> None:
    upgrade(url, BEFORE)
    engine = build_engine(url)
    site, team, patient, alert = (uuid.uuid4() for _ in range(4))
    # Core inserts naming their columns: the models describe the tables after this migration.
    with engine.begin() as conn:
        conn.execute(insert(Site).values(id=site, code="S", name="S", created_at=T0))
        conn.execute(insert(Team).values(id=team, site_id=site, name="T", created_at=T0))
        conn.execute(
            insert(Patient).values(
                id=patient,
                nhs_number="9434765919",
                date_of_birth=T0.date().replace(year=1950),
                sex="female",
                team_id=team,
                cohort="post_discharge",
                enrolled_on=T0.date(),
                status="active",
                expects_daily_weight=True,
                thresholds={},
                version=1,
                created_at=T0,
            )
        )
        conn.execute(
            insert(Alert).values(
                id=alert,
                patient_id=patient,
                team_id=team,
                rule_id="red.spo2",
                alert_group="spo2",
                kind="alert",
                severity="red",
                severity_rank=2,
                status="resolved",
                pathway_version="v",
                title="t",
                summary="s",
                raised_at=T0,
                due_at=T0,
                resolved_at=T0,
                outcome="advice_given",
                version=2,
            )
        )
        conn.execute(
            insert(AlertEventRow).values(
                alert_id=alert,
                kind="resolved",
                at=T0,
                version=2,
                to_status="resolved",
                severity="red",
            )
        )
    try:
        upgrade(url)
        with engine.begin() as conn:
            assert conn.scalar(select(Alert.minutes_spent)) is None
            assert conn.scalar(select(AlertEventRow.minutes_spent)) is None
            conn.execute(update(Alert).values(minutes_spent=1440))
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(update(Alert).values(minutes_spent=1441))
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(update(AlertEventRow).values(minutes_spent=-1))
        assert "patient_contacts" in inspect(engine).get_table_names()
        downgrade(url, BEFORE)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alert_events")).scalar() == 1
            assert conn.execute(text("SELECT status FROM alerts")).scalar() == "resolved"
        inspector = inspect(engine)
        assert "patient_contacts" not in inspector.get_table_names()
        assert "minutes_spent" not in {c["name"] for c in inspector.get_columns("alerts")}
    finally:
        engine.dispose()


def test_on_sqlite(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 'staff_time.db'}")


@pytest.mark.postgres
def test_on_postgresql():
    if not PG_URL:
        pytest.skip("PostgreSQL leg: set MHF_TEST_DATABASE_URL to run it")
    with scratch_postgres("staff_time") as url:
        _round_trip(url)
