"""The audit trail: append-only, hash-chained, and answerable both ways."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import delete, select, update

from service.audit import verify_chain
from service.cli import main
from service.models import AuditEvent


def _views(client, world):
    for who, patient in (("clin_A1", "pat_A1"), ("clin_A1", "pat_A1"), ("clin_A2", "pat_A2")):
        assert (
            client.get(
                f"/api/v1/patients/{world.patients[patient]}", headers=world.auth(who)
            ).status_code
            == 200
        )


def test_chain_verifies_and_detects_tampering(client, world, app):
    _views(client, world)
    with app.state.sessions() as s:
        check = verify_chain(s)
        assert check.ok and check.rows == 3
        second = s.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)).all()[1]
        s.execute(update(AuditEvent).where(AuditEvent.seq == second).values(actor_role="admin"))
        s.commit()
        assert verify_chain(s).first_bad_seq == second


def test_deleting_a_row_breaks_the_chain(client, world, app):
    _views(client, world)
    with app.state.sessions() as s:
        first = s.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)).first()
        s.execute(delete(AuditEvent).where(AuditEvent.seq == first))
        s.commit()
        assert not verify_chain(s).ok


def test_who_viewed_patient_and_what_user_viewed(client, world):
    _views(client, world)
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
    _views(client, world)
    monkeypatch.setenv("MHF_DATABASE_URL", settings.database_url)
    from service.settings import get_settings

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
