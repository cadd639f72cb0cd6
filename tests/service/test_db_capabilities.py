"""``service.db.capabilities``: each capability does what its docstring says on each database."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from service.db import capabilities
from service.db.dialect import is_postgresql
from service.models import AuditEvent, WebhookDelivery
from service.scheduler import JobRunner
from tests.support.clock import T0


def test_skip_locked_locks_and_skips_on_postgresql_only(session: Session) -> None:
    query = capabilities.skip_locked(session, select(WebhookDelivery), of=WebhookDelivery)
    sql = str(query.compile(session.get_bind())).upper()
    if is_postgresql(session):
        assert "FOR UPDATE OF WEBHOOK_DELIVERIES SKIP LOCKED" in sql
    else:
        assert "FOR UPDATE" not in sql
    session.execute(query).all()


def test_reports_tuning_lasts_for_the_transaction(session: Session) -> None:
    capabilities.tune_for_reports(session, "48MB")
    if not is_postgresql(session):
        return
    assert session.scalar(text("SHOW work_mem")) == "48MB"
    assert session.scalar(text("SHOW jit")) == "off"
    session.rollback()
    assert session.scalar(text("SHOW work_mem")) != "48MB"


@pytest.mark.parametrize("size", ["48MB'; DROP TABLE alerts; --", "lots", ""])
def test_reports_tuning_takes_only_a_memory_size(session: Session, size: str) -> None:
    if not is_postgresql(session):
        pytest.skip("SQLite has no setting to tune")
    with pytest.raises(ValueError, match="memory size"):
        capabilities.tune_for_reports(session, size)


def test_uuid_list_containment_finds_the_records_naming_a_patient(session: Session) -> None:
    named, other, absent = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for seq, ids in enumerate(([named, other], [other], None), start=1):
        session.add(
            AuditEvent(
                seq=seq,
                recorded_at=T0,
                actor_role="clinician",
                patient_ids=ids,
                action="R",
                route="GET /x",
                outcome="0",
                prev_hash="0" * 64,
                hash=f"{seq:064d}",
            )
        )
    session.flush()

    def seqs(patient: uuid.UUID) -> list[int]:
        contains = capabilities.uuid_list_contains(session, AuditEvent.patient_ids, patient)
        return list(session.scalars(select(AuditEvent.seq).where(contains).order_by("seq")))

    assert seqs(named) == [1]
    assert seqs(other) == [1, 2]
    assert seqs(absent) == []
    session.rollback()


def test_a_held_job_lock_makes_another_scheduler_skip_the_run(app) -> None:
    engine = app.state.engine
    runner = JobRunner(engine, app.state.sessions, clock=lambda: T0)
    with capabilities.job_lock(engine, "some_job") as got:
        assert got
        held = runner.run("some_job", lambda _s, _now: {"ran": True})
        # A different job's lock is free meanwhile.
        assert runner.run("other_job", lambda _s, _now: {"ran": True}) == {"ran": True}
    if is_postgresql(engine):
        assert held is None
    else:
        # One SQLite file, one host: its writers already run one at a time.
        assert held == {"ran": True}
    # Released at the end of the block: the next run takes it.
    assert runner.run("some_job", lambda _s, _now: {"ran": True}) == {"ran": True}


def test_the_audit_functions_are_where_the_migrations_put_them(session: Session) -> None:
    installed = session.scalar(
        text("SELECT count(*) FROM pg_proc WHERE proname = 'audit_append'")
        if is_postgresql(session)
        else text("SELECT 0")
    )
    assert capabilities.has_audit_functions(session) == bool(installed)
