"""Migration 20261207_0010: a site's stored quiet period goes, its other overrides stay."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from service.db import build_engine, build_sessionmaker
from service.migrations_util import upgrade
from service.models import Site
from service.readings.evaluation import config_for
from tests.support.clock import T0
from tests.support.db import PG_URL, scratch_postgres

BEFORE = "20261202_0009"
STORED = {
    "with": {"quiet_period_days": 3, "macd": {"threshold_kg": 1.3}},
    "only": {"quiet_period_days": 7},
    "without": {"macd": {"slow_days": 14}},
    "none": None,
}
AFTER = {
    "with": {"macd": {"threshold_kg": 1.3}},
    "only": None,
    "without": {"macd": {"slow_days": 14}},
    "none": None,
}


def _round_trip(url: str) -> None:
    upgrade(url, BEFORE)
    engine = build_engine(url)
    sessions = build_sessionmaker(engine)
    with sessions.begin() as session:
        for code, overrides in STORED.items():
            session.add(
                Site(
                    id=uuid.uuid4(),
                    code=code,
                    name=code,
                    pathway_overrides=overrides,
                    created_at=T0,
                )
            )
    upgrade(url)
    with sessions() as session:
        stored = {
            code: value
            for code, value in session.execute(select(Site.code, Site.pathway_overrides))
        }
    engine.dispose()
    assert stored == AFTER
    for overrides in stored.values():
        config_for(overrides)  # every site's pathway builds again


def test_on_sqlite(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 'quiet.db'}")


@pytest.mark.postgres
def test_on_postgresql():
    if not PG_URL:
        pytest.skip("PostgreSQL leg: set MHF_TEST_DATABASE_URL to run it")
    with scratch_postgres("quiet") as url:
        _round_trip(url)
