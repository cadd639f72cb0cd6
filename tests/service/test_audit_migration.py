"""Migration 20261202_0008 moves list reads' patients onto their audit records, and back."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from service.audit import GENESIS, AuditEntry, _body, _link, verify_chain
from service.audit.service import audit_events
from service.db import build_engine, build_sessionmaker
from service.migrations_util import downgrade, upgrade
from tests.support.db import PG_URL, scratch_postgres

BEFORE = "20261201_0007"
AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
# Fixed ids: the migration orders a record's patients itself, and random ones tried a
# different order on each run. Listed out of order, first digits apart, so sorting has work.
ACTOR = uuid.UUID("7" * 32)
ONE = uuid.UUID("2" * 32)
SEVERAL = sorted(uuid.UUID(d * 32) for d in "d4a")


def _hex(value: uuid.UUID) -> str:
    return value.hex


def _write_old_records(url: str) -> None:
    """A record about one patient and one about several, as the schema before kept them."""
    entries = [
        AuditEntry(ACTOR, "clinician", ONE, "R", "GET /api/v1/patients/{patient_id}"),
        AuditEntry(ACTOR, "clinician", None, "R", "GET /api/v1/alerts", patient_ids=tuple(SEVERAL)),
    ]
    engine = build_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    by_dialect: dict[str, Callable[[uuid.UUID], str]] = {"sqlite": _hex, "postgresql": str}
    stored = by_dialect[engine.dialect.name]
    prev = GENESIS
    with engine.begin() as conn:
        for seq, entry in enumerate(entries, 1):
            digest = _link(prev, _body(AT, entry))
            conn.execute(
                text(
                    "INSERT INTO audit_events (seq, recorded_at, actor_id, actor_role, patient_id, "
                    "action, route, outcome, detail, prev_hash, hash) VALUES (:seq, :at, :actor, "
                    "'clinician', :patient, 'R', :route, '0', NULL, :prev, :hash)"
                ),
                {
                    "seq": seq,
                    "at": AT.replace(tzinfo=None).isoformat(" ") if sqlite else AT,
                    "actor": stored(ACTOR),
                    "patient": stored(entry.patient_id) if entry.patient_id else None,
                    "route": entry.route,
                    "prev": prev,
                    "hash": digest,
                },
            )
            for patient in entry.patient_ids:
                conn.execute(
                    text("INSERT INTO audit_subjects (seq, patient_id) VALUES (:seq, :p)"),
                    {"seq": seq, "p": stored(patient)},
                )
            prev = digest
    engine.dispose()


def _subjects(url: str) -> set[tuple[int, uuid.UUID]]:
    engine = build_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT seq, patient_id FROM audit_subjects")).all()
    engine.dispose()
    return {(seq, uuid.UUID(str(p))) for seq, p in rows}


def _check_moved(url: str) -> None:
    engine = build_engine(url)
    with build_sessionmaker(engine)() as session:
        check = verify_chain(session)
        assert check.ok and check.rows == 2
        for patient in SEVERAL:
            (found,) = audit_events(session, patient_id=patient)
            assert found.seq == 2 and found.patient_id is None and found.patient_ids == SEVERAL
        (direct,) = audit_events(session, patient_id=ONE)
        assert direct.seq == 1 and direct.patient_ids == [ONE]
        assert audit_events(session, patient_id=uuid.uuid4()) == []
    engine.dispose()


def _round_trip(url: str) -> None:
    upgrade(url, BEFORE)
    _write_old_records(url)
    upgrade(url)
    _check_moved(url)
    downgrade(url, BEFORE)
    assert _subjects(url) == {(2, p) for p in SEVERAL}
    upgrade(url)
    _check_moved(url)


def test_round_trip_on_sqlite(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 'audit.db'}")


@pytest.mark.postgres
def test_round_trip_on_postgresql():
    if not PG_URL:
        pytest.skip("PostgreSQL leg: set MHF_TEST_DATABASE_URL to run it")
    with scratch_postgres("audit") as url:
        _round_trip(url)
