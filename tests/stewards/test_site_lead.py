"""The site lead: their own site's aggregate reports and the network's, their site's value
frameworks and unit costs, never a patient's data; made by network admins and their site's
admins."""

from __future__ import annotations

import uuid

from tests.support.stewardship import framework_body, site_admin, site_lead


def test_a_site_lead_reads_their_own_site_report_and_the_network(client, world):
    lead_a = site_lead(world, "A")
    own = client.get(
        f"/api/v1/reports/sites/{world.sites['A']}?month=2026-11", headers=world.auth(lead_a)
    )
    assert own.status_code == 200, own.text
    body = own.json()
    assert body["site"]["code"] == "SITEA"
    assert [t["name"] for t in body["metrics"][0]["teams"]] == ["Team A1", "Team A2"]
    assert body["practice"]["code"] == "SITEA"
    equity = client.get(
        f"/api/v1/reports/sites/{world.sites['A']}/equity?by=sex", headers=world.auth(lead_a)
    )
    assert equity.status_code == 200, equity.text
    network = client.get("/api/v1/reports/network", headers=world.auth(lead_a))
    assert network.status_code == 200, network.text
    assert [p["code"] for p in network.json()["practice"]] == ["SITEA", "SITEB"]


def test_another_sites_report_is_refused_with_how_to_ask(client, world):
    lead_a = site_lead(world, "A")
    for path in ("", "/equity?by=sex"):
        other = client.get(
            f"/api/v1/reports/sites/{world.sites['B']}{path}", headers=world.auth(lead_a)
        )
        assert other.status_code == 403, other.text
        assert "/api/v1/access-requests" in other.json()["detail"]
    missing = client.get(f"/api/v1/reports/sites/{uuid.uuid4()}", headers=world.auth(lead_a))
    assert missing.status_code == 404


def test_a_site_lead_sees_no_patient_data(client, world):
    lead_a = site_lead(world, "A")
    patient = world.patients["pat_A1"]
    for path in (
        "/api/v1/patients",
        "/api/v1/caseload",
        "/api/v1/alerts",
        f"/api/v1/patients/{patient}",
        f"/api/v1/patients/{patient}/readings",
        f"/api/v1/patients/{patient}/events",
        f"/api/v1/reports/teams/{world.teams['A1']}",
        f"/fhir/Patient/{patient}",
    ):
        got = client.get(path, headers=world.auth(lead_a))
        assert got.status_code == 403, (path, got.status_code)


def test_a_site_lead_keeps_their_own_sites_frameworks_and_costs(client, world):
    lead_a = site_lead(world, "A")
    made = client.post(
        "/api/v1/value-frameworks", json=framework_body(world, "A"), headers=world.auth(lead_a)
    )
    assert made.status_code == 201, made.text
    changed = client.patch(
        f"/api/v1/value-frameworks/{made.json()['id']}",
        json={"aim": "Fewer admissions at site A"},
        headers=world.auth(lead_a),
    )
    assert (changed.status_code, changed.json()["version"]) == (200, 2)
    network = client.post(
        "/api/v1/value-frameworks", json=framework_body(world), headers=world.auth(lead_a)
    )
    assert network.status_code == 403
    theirs = client.post(
        "/api/v1/value-frameworks", json=framework_body(world, "B"), headers=world.auth("lead")
    ).json()["id"]
    assert (
        client.get(f"/api/v1/value-frameworks/{theirs}", headers=world.auth(lead_a)).status_code
        == 404
    )
    listed = client.get("/api/v1/value-frameworks", headers=world.auth(lead_a)).json()
    assert [f["id"] for f in listed] == [made.json()["id"]]
    costs = client.put(
        f"/api/v1/sites/{world.sites['A']}/unit-costs",
        json={"nurse_hour_gbp": 58},
        headers=world.auth(lead_a),
    )
    assert (costs.status_code, costs.json()["costs"]["nurse_hour_gbp"]["gbp"]) == (200, 58.0)
    elsewhere = client.put(
        f"/api/v1/sites/{world.sites['B']}/unit-costs",
        json={"nurse_hour_gbp": 58},
        headers=world.auth(lead_a),
    )
    assert elsewhere.status_code == 404


def _user(world, role, site=None, teams=()):
    return {
        "username": f"u{uuid.uuid4().hex[:8]}",
        "password": "a-long-password-1",
        "role": role,
        "team_ids": [str(world.teams[t]) for t in teams],
        "site_id": str(world.sites[site]) if site else None,
    }


def test_network_and_site_admins_make_site_leads_of_a_site(client, world):
    admin_a = site_admin(world, "A")
    made = client.post(
        "/api/v1/users", json=_user(world, "site_lead", "B"), headers=world.auth("admin")
    )
    assert made.status_code == 201, made.text
    assert (made.json()["role"], made.json()["site_id"]) == ("site_lead", str(world.sites["B"]))
    by_site_admin = client.post(
        "/api/v1/users", json=_user(world, "site_lead", "A"), headers=world.auth(admin_a)
    )
    assert by_site_admin.status_code == 201, by_site_admin.text
    refusals = {
        "no site": (_user(world, "site_lead"), "admin", "site_id"),
        "a team": (_user(world, "site_lead", "A", ["A1"]), "admin", "team_ids"),
        "another site": (_user(world, "site_lead", "B"), admin_a, "site_id"),
    }
    for case, (body, who, field) in refusals.items():
        got = client.post("/api/v1/users", json=body, headers=world.auth(who))
        assert got.status_code == 422, (case, got.text)
        assert [e["field"] for e in got.json()["errors"]] == [field], case
    listed = client.get("/api/v1/users", headers=world.auth(admin_a)).json()
    assert by_site_admin.json()["id"] in {u["id"] for u in listed}
    assert made.json()["id"] not in {u["id"] for u in listed}
