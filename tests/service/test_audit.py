"""The audit trail: append-only, hash-chained, and answerable both ways."""

from __future__ import annotations

import hashlib
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from sqlalchemy import delete, insert, select, update

from service import audit
from service.alerting import service as alerting_service
from service.audit import verify_chain
from service.cli import main
from service.deps import Principal
from service.models import AuditEvent
from service.settings import get_settings
from tests.support.audit import tamper_as_superuser, three_views
from tests.support.factories import make_patient, nhs_number
from tests.support.readings import send_spo2


def test_chain_verifies_and_detects_tampering(client, world, app):
    three_views(client, world)
    with app.state.sessions() as s:
        check = verify_chain(s)
        assert check.ok and check.rows == 3
        second = s.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)).all()[1]
        tamper_as_superuser(s)
        s.execute(update(AuditEvent).where(AuditEvent.seq == second).values(actor_role="admin"))
        s.commit()
        assert verify_chain(s).first_bad_seq == second


def test_deleting_a_row_breaks_the_chain(client, world, app):
    three_views(client, world)
    with app.state.sessions() as s:
        first = s.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)).first()
        tamper_as_superuser(s)
        s.execute(delete(AuditEvent).where(AuditEvent.seq == first))
        s.commit()
        assert not verify_chain(s).ok


def test_who_viewed_patient_and_what_user_viewed(client, world):
    three_views(client, world)
    patient = world.patients["pat_A1"]
    rows = client.get(f"/api/v1/audit/patients/{patient}", headers=world.auth("admin")).json()
    assert [(r["actor_username"], r["action"]) for r in rows] == [
        ("clin_a1", "R"),
        ("clin_a1", "R"),
    ]
    viewed = client.get(
        f"/api/v1/audit/users/{world.users['clin_A2']}", headers=world.auth("admin")
    ).json()
    assert {r["patient_id"] for r in viewed} == {str(world.patients["pat_A2"])}
    assert (
        client.get(f"/api/v1/audit/patients/{patient}", headers=world.auth("clin_A1")).status_code
        == 403
    )


def test_audit_cli(client, world, settings, monkeypatch):
    three_views(client, world)
    monkeypatch.setenv("MHF_DATABASE_URL", settings.database_url)

    get_settings.cache_clear()
    try:
        runner = CliRunner()
        verified = runner.invoke(main, ["audit", "verify"])
        assert verified.exit_code == 0 and '"ok": true' in verified.output
        who = runner.invoke(main, ["audit", "patient", str(world.patients["pat_A1"])])
        assert who.exit_code == 0 and who.output.count("clin_a1") == 2
        what = runner.invoke(main, ["audit", "user", str(world.users["clin_A2"])])
        assert str(world.patients["pat_A2"]) in what.output
    finally:
        get_settings.cache_clear()


def _list_read(client, world):
    """clin_A1 lists patients after enrolling a second one: one record naming both."""

    with world.app.state.sessions() as s:
        other = make_patient(s, nhs_number(42), world.teams["A1"])
        s.commit()
    listed = client.get("/api/v1/patients", headers=world.auth("clin_A1"))
    assert listed.status_code == 200
    return other


def test_a_list_read_is_one_record_and_its_patient_list_is_chained(client, world, app):
    other = _list_read(client, world)
    with app.state.sessions() as s:
        assert verify_chain(s).ok
        record = s.scalars(select(AuditEvent)).one()
        assert record.patient_id is None
        assert record.patient_ids == sorted([world.patients["pat_A1"], other])
        for tampered in (
            [world.patients["pat_A1"]],  # a patient taken off the list
            sorted([world.patients["pat_A1"], other, world.patients["pat_B1"]]),  # one added
        ):
            tamper_as_superuser(s)
            s.execute(
                update(AuditEvent).where(AuditEvent.seq == record.seq).values(patient_ids=tampered)
            )
            s.commit()
            assert verify_chain(s).first_bad_seq == record.seq


def test_who_viewed_and_cli_find_list_reads(client, world, settings, monkeypatch):
    other = _list_read(client, world)
    three_views(client, world)
    rows = client.get(f"/api/v1/audit/patients/{other}", headers=world.auth("admin")).json()
    assert [(r["actor_username"], r["patient_id"]) for r in rows] == [("clin_a1", None)]
    assert set(rows[0]["patient_ids"]) == {str(world.patients["pat_A1"]), str(other)}
    a1 = client.get(
        f"/api/v1/audit/patients/{world.patients['pat_A1']}", headers=world.auth("admin")
    ).json()
    assert len(a1) == 3  # the list read and the two single reads, newest first
    assert [r["seq"] for r in a1] == sorted((r["seq"] for r in a1), reverse=True)
    older = client.get(
        f"/api/v1/audit/patients/{world.patients['pat_A1']}",
        params={"before_seq": a1[0]["seq"]},
        headers=world.auth("admin"),
    ).json()
    assert [r["seq"] for r in older] == [r["seq"] for r in a1[1:]]
    viewed = client.get(
        f"/api/v1/audit/users/{world.users['clin_A1']}", headers=world.auth("admin")
    ).json()
    assert {p for r in viewed for p in r["patient_ids"]} == {
        str(world.patients["pat_A1"]),
        str(other),
    }
    monkeypatch.setenv("MHF_DATABASE_URL", settings.database_url)

    get_settings.cache_clear()
    try:
        who = CliRunner().invoke(main, ["audit", "patient", str(other)])
        assert who.exit_code == 0 and who.output.count("clin_a1") == 1
    finally:
        get_settings.cache_clear()


def test_concurrent_writers_keep_one_chain(client, world, app):
    """Writers racing for the chain head each link to the record before them, on PostgreSQL too."""

    def write(i: int) -> None:
        entry = audit.AuditEntry(
            actor_id=world.users["clin_A1"],
            actor_role="clinician",
            patient_id=None,
            action="R",
            route="GET /test",
            detail=str(i),
            patient_ids=(world.patients["pat_A1"], world.patients["pat_A2"]),
        )
        for _ in range(5):
            with app.state.sessions() as s:
                audit.record(s, [entry], world.clock())
                s.commit()

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, range(4)))
    with app.state.sessions() as s:
        check = verify_chain(s)
        heads = s.scalars(select(AuditEvent.prev_hash)).all()
    assert check.ok and check.rows == 20
    assert len(set(heads)) == 20  # no two records chained to the same head


def test_records_hashed_the_earlier_way_still_verify_and_chain_on(client, world, app):
    """A trail written before the two-step link keeps verifying, and new records follow it."""
    old = audit.AuditEntry(
        world.users["clin_A1"], "clinician", world.patients["pat_A1"], "R", "GET /x"
    )
    at = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    digest = audit._digest(audit.GENESIS, at, old)
    with app.state.sessions() as s:
        s.execute(
            insert(AuditEvent).values(
                recorded_at=at,
                actor_id=old.actor_id,
                actor_role=old.actor_role,
                patient_id=old.patient_id,
                action=old.action,
                route=old.route,
                outcome=old.outcome,
                detail=old.detail,
                prev_hash=audit.GENESIS,
                hash=digest,
            )
        )
        s.commit()
    three_views(client, world)
    with app.state.sessions() as s:
        check = verify_chain(s)
        rows = s.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        assert check.ok and check.rows == 4
        assert rows[1].prev_hash == digest
        tamper_as_superuser(s)
        s.execute(update(AuditEvent).where(AuditEvent.seq == rows[0].seq).values(route="GET /y"))
        s.commit()
        assert verify_chain(s).first_bad_seq == rows[0].seq


def test_a_records_body_is_the_digest_of_its_fields_as_compact_json():
    """``_body`` is assembled from ``_frame`` (which the PostgreSQL list append completes in SQL):
    it must stay the digest of the record's fields as this compact JSON, whatever they hold."""
    at = datetime(2026, 12, 1, 21, 0, 0, 5, tzinfo=UTC)
    a, b, c = (uuid.UUID(int=n) for n in (0xB, 0xA, 0xC))
    cases = {
        audit.AuditEntry(a, "clinician", b, "R", "GET /a", detail='ü "q"'): (
            '["2026-12-01T21:00:00.000005+00:00","00000000-0000-0000-0000-00000000000b",'
            '"clinician","00000000-0000-0000-0000-00000000000a","R","GET /a","0",'
            '"\\u00fc \\"q\\"",[]]'
        ),
        audit.AuditEntry(None, "system", None, "E", "job", "4", None, (c, a, b)): (
            '["2026-12-01T21:00:00.000005+00:00",null,"system",null,"E","job","4",null,'
            '["00000000-0000-0000-0000-00000000000a","00000000-0000-0000-0000-00000000000b",'
            '"00000000-0000-0000-0000-00000000000c"]]'
        ),
    }
    for entry, text in cases.items():
        assert audit._body(at, entry) == hashlib.sha256(text.encode()).hexdigest()


def test_concurrent_queue_pages_and_single_reads_keep_one_chain(client, world, app):
    """Queue pages appending their record from their own statement (PostgreSQL) race with
    ``record`` writers: each record still links to the one committed before it."""
    send_spo2(client, world, 91, client.app.state.clock() - timedelta(minutes=5))
    principal = Principal(
        role="clinician", user_id=world.users["clin_A1"], team_ids=frozenset({world.teams["A1"]})
    )

    def page(_: int) -> None:
        for _ in range(5):
            with app.state.sessions() as s:
                body = alerting_service.alert_page(
                    s,
                    principal,
                    "GET /q",
                    world.clock(),
                    statuses=None,
                    severity=None,
                    team_id=None,
                    patient_id=None,
                    limit=50,
                    cursor=None,
                )
                assert len(body["items"]) == 1
                s.commit()

    def single(i: int) -> None:
        entry = audit.AuditEntry(
            world.users["clin_A1"], "clinician", world.patients["pat_A1"], "R", "GET /t", str(i)
        )
        for _ in range(5):
            with app.state.sessions() as s:
                audit.record(s, [entry], world.clock())
                s.commit()

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda i: (page if i % 2 else single)(i), range(4)))
    with app.state.sessions() as s:
        check = verify_chain(s)
        heads = s.scalars(select(AuditEvent.prev_hash)).all()
    assert check.ok and check.rows == 20
    assert len(set(heads)) == 20
