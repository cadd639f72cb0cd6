"""Issue 18 findings 7, 9 and 10: enrolment that reveals no other team's caseload, audited
transfers, site admins, audited admin changes, deactivation and sign-out that end tokens."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from service import cli
from service.identity.principal import revoked
from service.models import Alert, AuditEvent, Patient, Team, User
from tests.support.factories import NHS_NUMBERS, make_user
from tests.support.signin import csrf_of, signed_in


def _site_admin(world, site: str = "A") -> str:
    name = f"site_admin_{site}"
    with world.app.state.sessions() as s:
        world.users[name] = make_user(s, name.lower(), "site_admin", [], site_id=world.sites[site])
        s.commit()
    return name


def _audits(world, **where) -> list[AuditEvent]:
    with world.app.state.sessions() as s:
        query = select(AuditEvent).order_by(AuditEvent.seq)
        for key, value in where.items():
            query = query.where(getattr(AuditEvent, key) == value)
        return list(s.scalars(query).all())


def _enrol(client, world, nhs: str, team: str = "A1", who: str = "clin_A1"):
    return client.post(
        "/api/v1/patients",
        json={
            "nhs_number": nhs,
            "date_of_birth": "1950-01-01",
            "sex": "female",
            "team_id": str(world.teams[team]),
            "cohort": "post_discharge",
        },
        headers=world.auth(who),
    )


# --- finding 7: enrolment and transfer ------------------------------------------------------


def test_enrolling_another_teams_patient_answers_as_for_ones_own(client, world):
    """Team A1 enrolling B1's patient gets exactly the answer it gets for its own patient: the
    answer says nothing about whether, or where, anyone else monitors the number."""
    elsewhere = _enrol(client, world, NHS_NUMBERS[2])  # B1's patient, another site
    same_site = _enrol(client, world, NHS_NUMBERS[1])  # A2's patient, the same site
    own = _enrol(client, world, NHS_NUMBERS[0])  # A1's own patient
    assert elsewhere.status_code == same_site.status_code == own.status_code == 409
    assert elsewhere.json() == same_site.json() == own.json()
    assert "another team" not in elsewhere.text and "active" not in elsewhere.text


def test_a_refused_enrolment_is_audited_against_the_existing_record(client, world):
    assert _enrol(client, world, NHS_NUMBERS[2]).status_code == 409
    rows = _audits(world, patient_id=world.patients["pat_B1"])
    assert len(rows) == 1
    row = rows[0]
    assert row.actor_id == world.users["clin_A1"] and row.outcome == "4" and row.action == "C"
    assert row.detail is not None
    assert "enrolment refused" in row.detail and str(world.teams["B1"]) in row.detail


def test_enrolling_a_free_number_still_works(client, world):
    assert _enrol(client, world, "4010232137").status_code == 201


def _transfer(client, world, who: str, nhs: str, team: str, reason: str = "moved house"):
    return client.post(
        "/api/v1/patients/transfers",
        json={"nhs_number": nhs, "to_team_id": str(world.teams[team]), "reason": reason},
        headers=world.auth(who),
    )


def _raise_alert(client, world, patient: str) -> None:
    reading = {
        "id": str(uuid.uuid4()),
        "type": "spo2",
        "taken_at": world.clock().isoformat(),
        "value": 89,
    }
    assert (
        client.post("/api/v1/me/readings", json=reading, headers=world.auth(patient)).status_code
        == 201
    )


def test_a_site_admin_transfers_within_their_site_with_the_open_alerts(client, world):
    admin = _site_admin(world)
    _raise_alert(client, world, "pat_A1")
    moved = _transfer(client, world, admin, NHS_NUMBERS[0], "A2")
    assert moved.status_code == 200, moved.text
    assert moved.json()["moved_alerts"] == 1
    assert moved.json()["from_team_id"] == str(world.teams["A1"])
    with world.app.state.sessions() as s:
        patient = s.get(Patient, world.patients["pat_A1"])
        assert patient.team_id == world.teams["A2"]
        alerts = s.scalars(select(Alert).where(Alert.patient_id == patient.id)).all()
        assert {a.team_id for a in alerts} == {world.teams["A2"]}
    # The receiving team sees the patient and the alert; the old team no longer does.
    assert (
        client.get(
            f"/api/v1/patients/{world.patients['pat_A1']}", headers=world.auth("clin_A2")
        ).status_code
        == 200
    )
    assert (
        client.get(
            f"/api/v1/patients/{world.patients['pat_A1']}", headers=world.auth("clin_A1")
        ).status_code
        == 404
    )
    assert len(client.get("/api/v1/alerts", headers=world.auth("clin_A2")).json()["items"]) == 1
    (row,) = [r for r in _audits(world, patient_id=patient.id) if r.action == "U"]
    assert row.actor_id == world.users[admin] and "moved house" in (row.detail or "")


def test_a_site_admin_cannot_reach_another_sites_patient_or_team(client, world):
    admin = _site_admin(world)
    # B1's patient into A1: the patient is outside the site, answered as if unknown.
    into = _transfer(client, world, admin, NHS_NUMBERS[2], "A1")
    unknown = _transfer(client, world, admin, "4010232137", "A1")
    assert into.status_code == unknown.status_code == 404
    assert into.json()["detail"] == unknown.json()["detail"]
    # A1's patient out to B1: the team is outside the site.
    assert _transfer(client, world, admin, NHS_NUMBERS[0], "B1").status_code == 404


def test_a_network_admin_transfers_across_sites_and_clinicians_cannot(client, world):
    assert _transfer(client, world, "clin_A1", NHS_NUMBERS[2], "A1").status_code == 403
    assert _transfer(client, world, "admin", NHS_NUMBERS[2], "A1").status_code == 200
    assert _transfer(client, world, "admin", NHS_NUMBERS[2], "A1").status_code == 409


def test_a_transfer_needs_a_reason(client, world):
    assert _transfer(client, world, "admin", NHS_NUMBERS[0], "A2", reason="").status_code == 422


# --- finding 9: site admins and audited changes ---------------------------------------------


def test_a_site_admin_must_name_a_site_and_only_a_site_admin_may(world):
    """The database holds the rule too, on both databases (migration 20261207_0015)."""
    with world.app.state.sessions() as s:
        with pytest.raises(IntegrityError):
            make_user(s, "no_site", "site_admin", [])
        s.rollback()
        with pytest.raises(IntegrityError):
            make_user(s, "clin_site", "clinician", [], site_id=world.sites["A"])


def test_a_site_admin_manages_their_sites_teams_only(client, world):
    admin = _site_admin(world)
    teams = client.get("/api/v1/teams", headers=world.auth(admin)).json()
    assert {t["id"] for t in teams} == {str(world.teams["A1"]), str(world.teams["A2"])}
    made = client.post(
        f"/api/v1/sites/{world.sites['A']}/teams",
        json={"name": "Heart failure nurses", "escalation_contact": "01332 000000"},
        headers=world.auth(admin),
    )
    assert made.status_code == 201, made.text
    other = client.post(
        f"/api/v1/sites/{world.sites['B']}/teams",
        json={"name": "Not mine"},
        headers=world.auth(admin),
    )
    assert other.status_code == 404
    assert (
        client.patch(
            f"/api/v1/teams/{world.teams['B1']}",
            json={"escalation_contact": "01332 000000"},
            headers=world.auth(admin),
        ).status_code
        == 404
    )


def test_a_site_admin_creates_clinicians_of_their_site_only(client, world):
    admin = _site_admin(world)

    def create(**body):
        return client.post(
            "/api/v1/users",
            json={"username": f"u{uuid.uuid4().hex[:8]}", "password": "a-long-password-1"} | body,
            headers=world.auth(admin),
        )

    assert create(role="clinician", team_ids=[str(world.teams["A2"])]).status_code == 201
    assert create(role="clinician", team_ids=[str(world.teams["B1"])]).status_code == 422
    assert create(role="admin").status_code == 403
    assert create(role="programme_lead").status_code == 403
    assert create(role="site_admin", site_id=str(world.sites["B"])).status_code == 422
    assert create(role="site_admin", site_id=str(world.sites["A"])).status_code == 201


def test_every_admin_change_is_audited(client, world):
    admin = world.auth("admin")
    site = client.post("/api/v1/sites", json={"name": "Site C", "code": "SITEC"}, headers=admin)
    site_id = site.json()["id"]
    team = client.post(f"/api/v1/sites/{site_id}/teams", json={"name": "C1"}, headers=admin)
    team_id = team.json()["id"]
    client.patch(
        f"/api/v1/teams/{team_id}", json={"escalation_contact": "01332 000000"}, headers=admin
    )
    client.patch(
        f"/api/v1/sites/{site_id}",
        json={"response_policy": {"red_within_minutes": 240}},
        headers=admin,
    )
    user = client.post(
        "/api/v1/users",
        json={
            "username": "newnurse",
            "password": "a-long-password-1",
            "role": "clinician",
            "team_ids": [team_id],
        },
        headers=admin,
    ).json()
    hook = client.post(
        f"/api/v1/teams/{team_id}/webhooks",
        json={"url": "https://hooks.example/mhf", "secret": "a-webhook-secret-123"},
        headers=admin,
    ).json()
    client.delete(f"/api/v1/teams/{team_id}/webhooks/{hook['id']}", headers=admin)
    client.post(f"/api/v1/users/{user['id']}/deactivate", headers=admin)
    details = [r.detail for r in _audits(world, actor_id=world.users["admin"])]
    expected = [
        f"site:{site_id} created",
        f"team:{team_id} created",
        f"team:{team_id} escalation_contact=01332 000000",
        f"site:{site_id} response_policy=",
        f"user:{user['id']} created",
        f"webhook:{hook['id']} team={team_id}",
        f"webhook:{hook['id']} off",
        f"user:{user['id']} deactivated",
    ]
    assert len(details) == len(expected), details
    for detail, start in zip(details, expected, strict=True):
        assert detail is not None and detail.startswith(start), (detail, start)


# --- finding 9 and 10: deactivation and sign-out end tokens ---------------------------------


def _me(client, headers) -> int:
    return client.get("/api/v1/users/me", headers=headers).status_code


def test_deactivating_a_user_ends_their_token_at_once(client, world, clock):
    headers = world.auth("clin_A1")
    assert _me(client, headers) == 200
    admin = _site_admin(world)
    clock.advance(seconds=5)
    off = client.post(
        f"/api/v1/users/{world.users['clin_A1']}/deactivate", headers=world.auth(admin)
    )
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert _me(client, headers) == 401
    with world.app.state.sessions() as s:
        user = s.get(User, world.users["clin_A1"])
        user.is_active = True  # reactivated later: the old token must stay dead
        s.commit()
    assert _me(client, headers) == 401
    clock.advance(seconds=5)
    assert _me(client, world.auth("clin_A1")) == 200  # a new sign-in works


def test_a_site_admin_cannot_deactivate_outside_their_site_or_themselves(client, world):
    admin = _site_admin(world)
    for target in ("clin_B1", "admin", "lead", admin):
        response = client.post(
            f"/api/v1/users/{world.users[target]}/deactivate", headers=world.auth(admin)
        )
        assert response.status_code in (404, 409), (target, response.status_code)
    with world.app.state.sessions() as s:
        assert all(u.is_active for u in s.scalars(select(User)))


def test_listing_users_is_scoped_to_the_site(client, world):
    admin = _site_admin(world)
    names = {u["username"] for u in client.get("/api/v1/users", headers=world.auth(admin)).json()}
    assert names == {"clin_a1", "clin_a2", "site_admin_a"}
    everyone = client.get("/api/v1/users", headers=world.auth("admin")).json()
    assert len(everyone) == 6


def test_signing_out_ends_bearer_tokens_issued_before(client, world, clock):
    """Finding 10: a token outlived sign-out by its whole lifetime."""
    old = world.auth("clin_A1")
    clock.advance(seconds=2)
    assert client.post("/api/v1/auth/logout", headers=old).status_code == 204
    assert _me(client, old) == 401
    clock.advance(seconds=2)
    assert _me(client, world.auth("clin_A1")) == 200


def test_signing_out_of_the_pages_ends_bearer_tokens_too(client, world, clock):
    token = world.auth("clin_A1")
    clock.advance(seconds=2)
    page = signed_in(client, "clin_a1")
    csrf = csrf_of(page.get("/ui/account").text)
    clock.advance(seconds=2)
    page.post("/ui/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert _me(client, token) == 401


def test_revocation_compares_the_tokens_whole_seconds_safely():
    signed_out = datetime(2026, 11, 20, 9, 0, 0, 500_000, tzinfo=UTC)
    issued_same_second = datetime(2026, 11, 20, 9, 0, 0, tzinfo=UTC).timestamp()
    assert revoked(signed_out, issued_same_second)
    assert not revoked(signed_out, signed_out.timestamp() + 1)
    assert not revoked(None, issued_same_second)


def test_team_escalation_contact_is_a_phone_number_or_https_address(client, world):
    admin = world.auth("admin")
    url = f"/api/v1/teams/{world.teams['A1']}"
    for good in ("01332 000000", "+44 20 7946 0000", "https://oncall.example.nhs.uk/cardio"):
        response = client.patch(url, json={"escalation_contact": good}, headers=admin)
        assert response.status_code == 200 and response.json()["escalation_contact"] == good
    for bad in ("ring Sue on the ward", "http://oncall.example/", "12345", "javascript:alert(1)"):
        response = client.patch(url, json={"escalation_contact": bad}, headers=admin)
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["errors"][0]["field"] == "escalation_contact"
    with world.app.state.sessions() as s:
        assert s.get(Team, world.teams["A1"]).escalation_contact.startswith("https://")


def test_the_cli_makes_a_site_admin_and_audits_it(world, settings, monkeypatch):
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    site = str(world.sites["B"])
    result = CliRunner().invoke(
        cli.main,
        ["create-user", "siteb", "--role", "site_admin", "--site", site],
        input="a-long-password-1\n",
    )
    assert result.exit_code == 0, result.output
    with world.app.state.sessions() as s:
        user = s.scalar(select(User).where(User.username == "siteb"))
        assert user.role == "site_admin" and str(user.site_id) == site
        (row,) = s.scalars(select(AuditEvent).where(AuditEvent.detail.like("user:%"))).all()
        assert row.route == "CLI mhf create-user" and row.actor_id is None
    refused = CliRunner().invoke(
        cli.main, ["create-user", "nosite", "--role", "site_admin"], input="a-long-password-1\n"
    )
    assert refused.exit_code != 0 and "site" in refused.output
