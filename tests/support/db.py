"""Test databases: every service test runs on SQLite and, when MHF_TEST_DATABASE_URL is set, on
PostgreSQL too. Each xdist worker migrates its own database once and empties it after each test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url

from service.db import build_engine, normalise_url
from service.migrations_util import upgrade
from service.models import Base

PG_URL = os.environ.get("MHF_TEST_DATABASE_URL")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _server_url() -> URL:
    if not PG_URL:
        pytest.skip("PostgreSQL leg: set MHF_TEST_DATABASE_URL to run it")
    return make_url(normalise_url(PG_URL))


def _ours(name: str | None) -> str:
    assert name and name.startswith("mhf_"), f"only mhf_* databases are the tests' own: {name}"
    return name


def create_postgres_database(name: str) -> str:
    """A new, empty database ``name`` next to MHF_TEST_DATABASE_URL's (replacing any left by a
    crashed run); returns its URL."""
    _ours(name)
    base = _server_url()
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    name = _ours(make_url(url).database)
    admin = create_engine(_server_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def postgres_url_for_worker() -> str:
    # Per process, so two test runs on one machine never share (or drop) each other's database.
    return create_postgres_database(f"mhf_test_{worker()}_{os.getpid()}")


@contextmanager
def scratch_postgres(purpose: str) -> Iterator[str]:
    """An empty PostgreSQL database of this process's own, dropped afterwards (a migration
    test needs a database no other test has migrated)."""
    url = create_postgres_database(f"mhf_test_reports_{purpose}_{os.getpid()}")
    try:
        yield url
    finally:
        drop_postgres_database(url)


def migrated_url(backend: str, cache: dict[str, str], tmp: Path) -> str:
    """This worker's migrated database for ``backend``, created on first use and kept in
    ``cache``; skips the test when the PostgreSQL leg is not configured."""
    if backend not in cache:
        if backend == "postgres":
            if not PG_URL:
                pytest.skip("PostgreSQL leg: set MHF_TEST_DATABASE_URL to run it")
            url = postgres_url_for_worker()
        else:
            url = f"sqlite:///{tmp / f'mhf-{worker()}.db'}"
        upgrade(url)
        cache[backend] = url
    return cache[backend]


def empty_database(engine: Engine) -> None:
    """Delete every row (faster than migrating again), children before parents."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))


def engine_for(url: str) -> Engine:
    """A small pool: a test reads beside the live processes that use the same database."""
    return build_engine(url, pool_size=2)
