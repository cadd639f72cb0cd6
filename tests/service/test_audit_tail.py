"""Issue 18 finding 8: the audit trail cannot lose its tail unnoticed, and refused probes are in
it."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy import text as sql
from sqlalchemy.exc import DBAPIError

from service import audit
from service.audit import checkpoint
from service.cli import main
from service.models import AuditCheckpoint, AuditEvent
from service.scheduler import JobRunner, job_table
from service.settings import get_settings
from tests.support.audit import tamper_as_superuser, three_views
from tests.support.clock import T0
from tests.support.readings import red_alert


@pytest.fixture
def cli(settings, monkeypatch):
    """`mhf audit verify` on the test database, with the test's secret key."""
    monkeypatch.setenv("MHF_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MHF_SECRET_KEY", settings.secret_key)
    get_settings.cache_clear()

    def verify() -> tuple[int, dict[str, Any]]:
        result = CliRunner().invoke(main, ["audit", "verify"])
        return result.exit_code, json.loads(result.output)

    yield verify
    get_settings.cache_clear()


def sign(app, clock):
    key = checkpoint.key_of(app.state.settings)
    runner = JobRunner(app.state.engine, app.state.sessions, clock=clock)
    return runner.run("audit_checkpoint", lambda s, now: checkpoint.write(s, key, now))


def test_deleting_the_newest_record_fails_verification(client, world, app, clock, cli):
    three_views(client, world)
    assert sign(app, clock)["rows"] == 3
    assert cli() == (0, {"ok": True, "rows_verified": 3, "gaps": [], "checkpoints_verified": 1})
    with app.state.sessions() as s:
        tamper_as_superuser(s)
        newest = s.scalar(select(func.max(AuditEvent.seq)))
        s.execute(delete(AuditEvent).where(AuditEvent.seq == newest))
        s.commit()
    code, out = cli()
    # Before the checkpoints this was {"ok": true}: a shorter chain still links up.
    assert code == 1 and not out["ok"]
    assert out["rows_verified"] == 2 and "first_bad_checkpoint" in out


def test_a_rewritten_chain_or_a_forged_checkpoint_fails(client, world, app, clock, cli):
    three_views(client, world)
    sign(app, clock)
    with app.state.sessions() as s:
        # A checkpoint signed with another key: whoever can write the table cannot sign.
        s.execute(
            insert(AuditCheckpoint).values(
                recorded_at=clock.now, rows=3, head_seq=3, head_hash="0" * 64, mac="f" * 64
            )
        )
        s.commit()
    code, out = cli()
    assert code == 1 and out["checkpoints_verified"] == 1


def test_the_scheduler_signs_the_trail(client, world, app, clock, settings, cli):
    three_views(client, world)
    with httpx.Client() as http:
        fn, seconds = job_table(http, settings)["audit_checkpoint"]
    assert seconds <= 15 * 60
    JobRunner(app.state.engine, app.state.sessions, clock=clock).run("audit_checkpoint", fn)
    clock.advance(minutes=5)
    three_views(client, world)
    JobRunner(app.state.engine, app.state.sessions, clock=clock).run("audit_checkpoint", fn)
    assert cli() == (0, {"ok": True, "rows_verified": 6, "gaps": [], "checkpoints_verified": 2})


def _chain(app, seqs):
    """Records linked in order under the given numbers, as the service links them."""
    prev = audit.GENESIS
    with app.state.sessions() as s:
        for n, seq in enumerate(seqs):
            entry = audit.AuditEntry(None, "clinician", uuid.uuid4(), "R", "GET /x")
            when = checkpoint_time(n)
            digest = audit._link(prev, audit._body(when, entry))
            s.execute(
                insert(AuditEvent).values(
                    seq=seq,
                    recorded_at=when,
                    actor_id=None,
                    actor_role=entry.actor_role,
                    patient_id=entry.patient_id,
                    action="R",
                    route="GET /x",
                    outcome="0",
                    detail=None,
                    prev_hash=prev,
                    hash=digest,
                )
            )
            prev = digest
        s.commit()


def checkpoint_time(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


def test_gaps_are_flagged_and_fail_after_the_first_checkpoint(client, world, app, clock, cli):
    _chain(app, [1, 2, 4])
    with app.state.sessions() as s:
        check = audit.verify_chain(s)
    assert check.ok and check.gaps == ((2, 4),)
    # Before any checkpoint a hole may be a rolled-back number of the old numbering: flagged.
    code, out = cli()
    assert (code, out["gaps"]) == (0, [[2, 4]])
    sign(app, clock)
    three_views(client, world)  # numbered 5, 6, 7 on: no hole
    assert cli()[0] == 0


def test_a_hole_after_a_checkpoint_fails(client, world, app, clock, cli):
    _chain(app, [1, 2])
    sign(app, clock)
    with app.state.sessions() as s:
        prev = s.scalar(select(AuditEvent.hash).where(AuditEvent.seq == 2))
        entry = audit.AuditEntry(None, "clinician", None, "R", "GET /y")
        when = checkpoint_time(9)
        s.execute(
            insert(AuditEvent).values(
                seq=5,
                recorded_at=when,
                actor_role="clinician",
                action="R",
                route="GET /y",
                outcome="0",
                prev_hash=prev,
                hash=audit._link(prev, audit._body(when, entry)),
            )
        )
        s.commit()
    code, out = cli()
    assert code == 1 and out["gaps"] == [[2, 5]]


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_postgres_refuses_update_and_delete_of_the_trail(client, world, app, clock):
    three_views(client, world)
    sign(app, clock)
    for statement in (
        update(AuditEvent).values(actor_role="admin"),
        delete(AuditEvent),
        update(AuditCheckpoint).values(rows=0),
        delete(AuditCheckpoint),
    ):
        with app.state.sessions() as s, pytest.raises(DBAPIError, match="append-only"):
            s.execute(statement)
    with app.state.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 3


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_postgres_numbers_the_trail_without_holes(client, world, app, clock):
    entry = audit.AuditEntry(None, "clinician", uuid.uuid4(), "R", "GET /x")
    with app.state.sessions() as s:
        audit.record(s, [entry], clock.now)
        s.rollback()  # the sequence would have spent a number here
        audit.record(s, [entry, entry], clock.now)
        s.commit()
        assert s.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)).all() == [1, 2]
        assert s.execute(sql("SELECT count(*) FROM audit_events")).scalar() == 2


def _refusals(app):
    with app.state.sessions() as s:
        return s.execute(
            select(AuditEvent.actor_id, AuditEvent.patient_id, AuditEvent.route)
            .where(AuditEvent.outcome == "4")
            .order_by(AuditEvent.seq)
        ).all()


def test_a_probe_of_another_teams_patient_is_audited(client, world, app):
    other = world.patients["pat_B1"]
    answer = client.get(f"/api/v1/patients/{other}", headers=world.auth("clin_A1"))
    assert answer.status_code == 404
    unknown = client.get(f"/api/v1/patients/{uuid.uuid4()}", headers=world.auth("clin_A1"))
    assert unknown.json()["detail"] == answer.json()["detail"]
    assert _refusals(app) == [(world.users["clin_A1"], other, "GET /api/v1/patients/{patient_id}")]
    with app.state.sessions() as s:
        assert audit.verify_chain(s).ok


def test_a_probe_of_another_teams_alert_is_audited(client, world, app, clock):
    red_alert(client, world, clock, who="pat_B1")
    [alert] = client.get("/api/v1/alerts", headers=world.auth("clin_B1")).json()["items"]
    answer = client.post(
        f"/api/v1/alerts/{alert['id']}/acknowledge",
        json={"version": alert["version"]},
        headers=world.auth("clin_A1"),
    )
    assert answer.status_code == 404
    assert _refusals(app) == [
        (
            world.users["clin_A1"],
            world.patients["pat_B1"],
            "POST /api/v1/alerts/{alert_id}/acknowledge",
        )
    ]
