"""Shared fixtures: every service test runs on SQLite and, when MHF_TEST_DATABASE_URL is set,
on PostgreSQL too. Each xdist worker gets its own database, migrated once and emptied after each
test. The helpers behind them are in tests/support/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from service.alerting import egress
from service.app import create_app
from service.db import build_engine, unit_of_work
from service.settings import Settings
from tests import hypothesis_profiles
from tests.support.clock import FakeClock
from tests.support.db import BACKENDS, drop_postgres_database, empty_database, migrated_url
from tests.support.soak import skip_unless_selected
from tests.support.webhooks import PUBLIC
from tests.support.world import World, build_world, settings_for


def pytest_report_header(config: pytest.Config) -> str:
    # The header of every run (and every CI log) says which examples it tried.
    return hypothesis_profiles.describe()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Soak and fuzz tests (tests/hardening, tests/cluster, tests/fuzz) run only when asked for.
    skip_unless_selected(config, items)


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Migrated, empty databases for this worker, created on first use, dropped at the end."""
    urls: dict[str, str] = {}
    yield urls
    if "postgres" in urls:
        drop_postgres_database(urls["postgres"])


@pytest.fixture(params=BACKENDS)
def db_url(
    request: pytest.FixtureRequest,
    database_urls: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    url = migrated_url(request.param, database_urls, tmp_path_factory.getbasetemp())
    yield url
    engine = build_engine(url)
    empty_database(engine)
    engine.dispose()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return settings_for(db_url)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> Iterator[FastAPI]:
    app = create_app(settings, clock=clock)
    yield app
    # A test that reads through ``session`` never starts the app, so its lifespan never closes
    # the pool: close it here, or each such test leaves PostgreSQL connections open until the
    # garbage collector finds the app (a worker can hold dozens; the server allows 100).
    app.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def session(app: FastAPI) -> Iterator[Session]:
    with unit_of_work(app.state.sessions) as s:
        yield s


@pytest.fixture
def world(app: FastAPI, settings: Settings, clock: FakeClock) -> World:
    return build_world(app, settings, clock)


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Webhook host names the tests' resolver knows (``hooks.example`` is ``PUBLIC``); literal
    addresses resolve as the system resolves them."""
    names: dict[str, list[str]] = {"hooks.example": [PUBLIC]}
    system = egress.system_resolve

    def resolve(host: str, port: int) -> list[str]:
        if host in names:
            return names[host]
        return system(host, port)

    monkeypatch.setattr(egress, "system_resolve", resolve)
    return names
