"""Migration 20261207_0013: stored webhook secrets are encrypted, and decrypted on the way down."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from service.alerting.secrets import SecretBox
from service.db import build_engine
from service.migrations_util import downgrade, upgrade
from service.settings import get_settings
from tests.support.clock import T0
from tests.support.db import PG_URL, scratch_postgres

BEFORE = "20261207_0012"
AT = "20261207_0013"
PLAIN = "whsec_c2VjcmV0LXNpZ25pbmcta2V5LTMyLWJ5dGVzLWxvbmc="


def _secrets(url: str) -> list[str]:
    engine = build_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT secret FROM webhooks")).scalars().all()
    engine.dispose()
    return list(rows)


def _round_trip(url: str) -> None:
    upgrade(url, BEFORE)
    engine = build_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    ids = {name: uuid.uuid4() for name in ("site", "team", "hook")}
    stored = {k: (v.hex if sqlite else v) for k, v in ids.items()}
    at = T0.replace(tzinfo=None).isoformat(" ") if sqlite else T0
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO sites (id, code, name, created_at) VALUES (:id, 'S', 'S', :at)"),
            {"id": stored["site"], "at": at},
        )
        conn.execute(
            text("INSERT INTO teams (id, site_id, name, created_at) VALUES (:id, :s, 'T', :at)"),
            {"id": stored["team"], "s": stored["site"], "at": at},
        )
        conn.execute(
            text(
                "INSERT INTO webhooks (id, team_id, url, secret, is_active, created_at) "
                "VALUES (:id, :t, 'https://hooks.example/x', :secret, true, :at)"
            ),
            {"id": stored["hook"], "t": stored["team"], "secret": PLAIN, "at": at},
        )
    engine.dispose()
    upgrade(url, AT)
    [sealed] = _secrets(url)
    assert sealed != PLAIN and PLAIN not in sealed
    assert SecretBox.from_settings(get_settings()).open(sealed) == PLAIN
    downgrade(url, BEFORE)
    assert _secrets(url) == [PLAIN]
    upgrade(url)


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The migration reads the key from the process's settings, as `mhf migrate` does.
    monkeypatch.setenv("MHF_SECRET_KEY", "migration-test-" + "z" * 40)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_round_trip_on_sqlite(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 'hooks.db'}")


@pytest.mark.postgres
def test_round_trip_on_postgresql():
    if not PG_URL:
        pytest.skip("PostgreSQL leg: set MHF_TEST_DATABASE_URL to run it")
    with scratch_postgres("webhook_secrets") as url:
        _round_trip(url)
