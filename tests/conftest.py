"""Shared fixtures: every service test runs on SQLite and, when MHF_TEST_DATABASE_URL is set,
on PostgreSQL too. Each xdist worker gets its own database, migrated once and emptied after each
test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from service.app import create_app
from service.db import build_engine, normalise_url, unit_of_work
from service.identity.security import (
    hash_device_token,
    hash_password,
    issue_access_token,
    new_device_token,
    token_settings,
)
from service.migrations_util import upgrade
from service.models import Base, Patient, Site, Team, User, UserTeam
from service.settings import Settings
from tests import hypothesis_profiles

PG_URL = os.environ.get("MHF_TEST_DATABASE_URL")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
SECRET = "test-secret-" + "x" * 40
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def pytest_report_header(config: pytest.Config) -> str:
    # The header of every run (and every CI log) says which examples it tried.
    return hypothesis_profiles.describe()


@dataclass
class FakeClock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _postgres_url_for_worker() -> str:
    assert PG_URL
    base = make_url(normalise_url(PG_URL))
    # Per process, so two test runs on one machine never share (or drop) each other's database.
    name = f"mhf_test_{_worker()}_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Migrated, empty databases for this worker, created on first use, dropped at the end."""
    urls: dict[str, str] = {}
    yield urls
    if "postgres" in urls:
        url = make_url(urls["postgres"])
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        admin.dispose()


def _migrated_url(backend: str, cache: dict[str, str], tmp: Path) -> str:
    if backend not in cache:
        if backend == "postgres":
            if not PG_URL:
                pytest.skip("PostgreSQL leg: set MHF_TEST_DATABASE_URL to run it")
            url = _postgres_url_for_worker()
        else:
            url = f"sqlite:///{tmp / f'mhf-{_worker()}.db'}"
        upgrade(url)
        cache[backend] = url
    return cache[backend]


def _empty(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture(params=BACKENDS)
def db_url(
    request: pytest.FixtureRequest,
    database_urls: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    url = _migrated_url(request.param, database_urls, tmp_path_factory.getbasetemp())
    yield url
    engine = build_engine(url)
    _empty(engine)
    engine.dispose()


@pytest.fixture
def settings(db_url: str) -> Settings:
    # Tokens outlive the tests that move the clock by hours.
    return Settings(
        database_url=db_url, secret_key=SECRET, environment="test", access_token_minutes=24 * 60
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(settings: Settings, clock: FakeClock):  # type: ignore[no-untyped-def]
    return create_app(settings, clock=clock)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def session(app) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    with unit_of_work(app.state.sessions) as s:
        yield s


# A fixed hash: argon2 per test user would cost ~50 ms each.
_PASSWORD = "correct horse battery"
_PASSWORD_HASH = hash_password(_PASSWORD)


@dataclass
class World:
    """Two sites; site A has teams A1 and A2, site B has team B1. One clinician per team."""

    app: object
    settings: Settings
    sites: dict[str, uuid.UUID] = field(default_factory=dict)
    teams: dict[str, uuid.UUID] = field(default_factory=dict)
    users: dict[str, uuid.UUID] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    patients: dict[str, uuid.UUID] = field(default_factory=dict)
    device_tokens: dict[str, str] = field(default_factory=dict)
    clock: FakeClock | None = None

    def auth(self, who: str) -> dict[str, str]:
        """Headers for ``who``; staff tokens are issued at the test clock's current time."""
        if who in self.device_tokens:
            return {"Authorization": f"Bearer {self.device_tokens[who]}"}
        if self.clock is not None and who in self.users:
            roles = {"admin": "admin", "lead": "programme_lead"}
            token = issue_access_token(
                token_settings(self.settings),
                self.users[who],
                roles.get(who, "clinician"),
                self.clock(),
            )
            return {"Authorization": f"Bearer {token}"}
        return {"Authorization": f"Bearer {self.tokens[who]}"}


NHS_NUMBERS = ["9434765919", "9434765870", "9434765897", "9434765846", "9434765862", "9434765838"]


def make_user(
    session: Session,
    username: str,
    role: str,
    teams: list[uuid.UUID],
    site_id: uuid.UUID | None = None,
) -> uuid.UUID:
    user = User(
        id=uuid.uuid4(),
        username=username,
        password_hash=_PASSWORD_HASH,
        role=role,
        site_id=site_id,
        is_active=True,
        created_at=T0,
    )
    session.add(user)
    session.flush()
    session.add_all(UserTeam(user_id=user.id, team_id=t) for t in teams)
    return user.id


def make_patient(
    session: Session,
    nhs_number: str,
    team_id: uuid.UUID,
    *,
    cohort: str = "post_discharge",
    **extra: object,
) -> uuid.UUID:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "nhs_number": nhs_number,
        "date_of_birth": datetime(1950, 5, 17).date(),
        "sex": "female",
        "team_id": team_id,
        "cohort": cohort,
        "ethnicity": "A",
        "imd_quintile": 2,
        "enrolled_on": (T0 - timedelta(days=30)).date(),
        "status": "active",
        "expects_daily_weight": True,
        "thresholds": {"target_weight_kg": 80.0},
        "version": 1,
        "created_at": T0 - timedelta(days=30),
    }
    values.update(extra)
    patient = Patient(**values)
    session.add(patient)
    session.flush()
    return patient.id


def make_device_token(session: Session, patient_id: uuid.UUID) -> str:
    from service.models import DeviceToken

    token = new_device_token()
    session.add(
        DeviceToken(
            id=uuid.uuid4(),
            patient_id=patient_id,
            token_hash=hash_device_token(token),
            created_at=T0,
        )
    )
    return token


def build_world(app: Any, settings: Settings, clock: FakeClock) -> World:
    w = World(app=app, settings=settings, clock=clock)
    with unit_of_work(app.state.sessions) as s:
        for code in ("A", "B"):
            site = Site(id=uuid.uuid4(), code=f"SITE{code}", name=f"Site {code}", created_at=T0)
            s.add(site)
            s.flush()
            w.sites[code] = site.id
        for name, site in (("A1", "A"), ("A2", "A"), ("B1", "B")):
            team = Team(id=uuid.uuid4(), site_id=w.sites[site], name=f"Team {name}", created_at=T0)
            s.add(team)
            s.flush()
            w.teams[name] = team.id
        w.users["admin"] = make_user(s, "admin", "admin", [])
        w.users["lead"] = make_user(s, "lead", "programme_lead", [])
        for team in ("A1", "A2", "B1"):
            w.users[f"clin_{team}"] = make_user(
                s, f"clin_{team.lower()}", "clinician", [w.teams[team]]
            )
        for i, team in enumerate(("A1", "A2", "B1")):
            pid = make_patient(s, NHS_NUMBERS[i], w.teams[team])
            w.patients[f"pat_{team}"] = pid
            w.device_tokens[f"pat_{team}"] = make_device_token(s, pid)
    ts = token_settings(settings)
    roles = {"admin": "admin", "lead": "programme_lead"}
    for name, user_id in w.users.items():
        w.tokens[name] = issue_access_token(ts, user_id, roles.get(name, "clinician"), clock())
    return w


@pytest.fixture
def world(app: Any, settings: Settings, clock: FakeClock) -> World:
    return build_world(app, settings, clock)


def nhs_number(seed: int) -> str:
    """A valid, made-up NHS number for test patient ``seed`` (999 prefix: never issued)."""
    from service.nhs_number import made_up_nhs_number

    return made_up_nhs_number(seed)
