"""Migration 20261207_0017: alerts learn when they last rose in severity, from their events."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from service.db import build_engine, build_sessionmaker
from service.migrations_util import upgrade
from service.models import Alert, AlertEventRow, Patient, Site, Team
from tests.support.clock import T0
from tests.support.db import PG_URL, scratch_postgres

BEFORE = "20261207_0016"
SITE, TEAM, PATIENT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
# alert -> its events' (kind, minutes after T0); the expected severity_raised_at.
HISTORIES = {
    "never rose": ([("raised", 0), ("evidence_added", 30)], None),
    "rose once": ([("raised", 0), ("severity_raised", 90), ("acknowledged", 120)], 90),
    "rose, then noted": ([("raised", 0), ("severity_raised", 45), ("note_added", 300)], 45),
}


def _at(minutes: int):
    return T0 + timedelta(minutes=minutes)


def _round_trip(url: str) -> None:
    upgrade(url, BEFORE)
    engine = build_engine(url)
    ids = {name: uuid.uuid4() for name in HISTORIES}
    # Core inserts naming their columns: the Alert model describes the table after this
    # migration, and an insert of the mapped object would name the column not yet there.
    with engine.begin() as conn:
        conn.execute(insert(Site).values(id=SITE, code="S", name="S", created_at=T0))
        conn.execute(insert(Team).values(id=TEAM, site_id=SITE, name="T", created_at=T0))
        conn.execute(
            insert(Patient).values(
                id=PATIENT,
                nhs_number="9434765919",
                date_of_birth=T0.date().replace(year=1950),
                sex="female",
                team_id=TEAM,
                cohort="post_discharge",
                enrolled_on=T0.date(),
                status="active",
                expects_daily_weight=True,
                thresholds={},
                version=1,
                created_at=T0,
            )
        )
        for i, (name, (events, _)) in enumerate(HISTORIES.items()):
            values = {
                "id": ids[name],
                "patient_id": PATIENT,
                "team_id": TEAM,
                "rule_id": "red.spo2",
                "alert_group": f"group_{i}",
                "kind": "alert",
                "severity": "red",
                "severity_rank": 2,
                "status": "open",
                "pathway_version": "v",
                "title": "t",
                "summary": "s",
                "raised_at": T0,
                "due_at": _at(600),
                "version": len(events),
            }
            conn.execute(insert(Alert).values(values))
            conn.execute(
                insert(AlertEventRow),
                [
                    {
                        "alert_id": ids[name],
                        "kind": kind,
                        "at": _at(minutes),
                        "version": version,
                        "to_status": "open",
                        "severity": "red",
                    }
                    for version, (kind, minutes) in enumerate(events, start=1)
                ],
            )
    upgrade(url)
    with build_sessionmaker(engine)() as session:
        stored = {
            r.id: r.severity_raised_at
            for r in session.execute(select(Alert.id, Alert.severity_raised_at))
        }
    engine.dispose()
    for name, (_, minutes) in HISTORIES.items():
        assert stored[ids[name]] == (None if minutes is None else _at(minutes)), name


def test_on_sqlite(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 'raised.db'}")


@pytest.mark.postgres
def test_on_postgresql():
    if not PG_URL:
        pytest.skip("PostgreSQL leg: set MHF_TEST_DATABASE_URL to run it")
    with scratch_postgres("severity_raised") as url:
        _round_trip(url)
