"""Access requests end to end: ask, decide, the grant opens exactly its one report or framework
until its expiry, and every step is in the audit trail."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from service.models import AccessGrant, AuditEvent
from tests.support.stewardship import framework_body, site_lead
from tests.support.world import read


def _report(client, world, who, site, path=""):
    return client.get(f"/api/v1/reports/sites/{world.sites[site]}{path}", headers=world.auth(who))


def _ask(client, world, who, kind, target, reason="For the network meeting"):
    body = {"kind": kind, "target_id": str(target), "reason": reason}
    return client.post("/api/v1/access-requests", json=body, headers=world.auth(who))


def _audit_details(world, actor):
    return read(
        world,
        lambda s: s.scalars(
            select(AuditEvent.detail)
            .where(AuditEvent.actor_id == world.users[actor])
            .order_by(AuditEvent.seq)
        ).all(),
    )


def test_an_approved_site_report_opens_that_report_until_its_expiry(client, world, clock):
    assert _report(client, world, "clin_A1", "B").status_code == 403
    asked = _ask(client, world, "clin_A1", "site_report", world.sites["B"])
    assert asked.status_code == 201, asked.text
    request = asked.json()
    assert (request["status"], request["target_name"], request["requested_by_name"]) == (
        "pending",
        "Site B",
        "clin_a1",
    )
    again = _ask(client, world, "clin_A1", "site_report", world.sites["B"])
    assert again.status_code == 409
    # Still refused until someone decides.
    assert _report(client, world, "clin_A1", "B").status_code == 403

    approved = client.post(
        f"/api/v1/access-requests/{request['id']}/approve",
        json={"note": "For November's meeting", "expires_on": "2026-11-30"},
        headers=world.auth("lead"),
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["decided_by_name"] == "lead"
    # The end of 30 November in London (GMT then): midnight UTC.
    assert approved.json()["expires_at"] == "2026-12-01T00:00:00Z"

    opened = _report(client, world, "clin_A1", "B")
    assert opened.status_code == 200, opened.text
    assert opened.json()["site"]["code"] == "SITEB"
    assert _report(client, world, "clin_A1", "B", "/equity?by=sex").status_code == 200
    # Exactly that report: not their own site's, not the network's, not for anyone else.
    assert _report(client, world, "clin_A1", "A").status_code == 403
    assert client.get("/api/v1/reports/network", headers=world.auth("clin_A1")).status_code == 403
    assert _report(client, world, "clin_A2", "B").status_code == 403
    twice = client.post(
        f"/api/v1/access-requests/{request['id']}/refuse",
        json={"note": "Changed my mind"},
        headers=world.auth("admin"),
    )
    assert twice.status_code == 409

    clock.advance(days=10, hours=15)  # 1 December 2026, 00:00 UTC: the grant has ended
    assert _report(client, world, "clin_A1", "B").status_code == 403
    grants = read(world, lambda s: s.scalars(select(AccessGrant)).all())
    assert [(g.user_id, g.kind, g.target_id) for g in grants] == [
        (world.users["clin_A1"], "site_report", world.sites["B"])
    ]

    asked_audit = _audit_details(world, "clin_A1")
    assert f"access_request:{request['id']} asked kind=site_report target={world.sites['B']}" in (
        asked_audit
    )
    decided = _audit_details(world, "lead")
    grant_id = grants[0].id
    assert decided == [
        f"access_request:{request['id']} approved",
        f"access_grant:{grant_id} user={world.users['clin_A1']} kind=site_report "
        f"target={world.sites['B']} expires=2026-12-01T00:00:00+00:00",
    ]


def test_a_refused_framework_stays_hidden_and_an_approved_one_opens_alone(client, world):
    lead_a = site_lead(world, "A")
    first = client.post(
        "/api/v1/value-frameworks", json=framework_body(world, "B"), headers=world.auth("lead")
    ).json()["id"]
    second = client.post(
        "/api/v1/value-frameworks",
        json=framework_body(world, "B", name="Another framework"),
        headers=world.auth("lead"),
    ).json()["id"]
    url = f"/api/v1/value-frameworks/{first}"
    assert client.get(url, headers=world.auth(lead_a)).status_code == 404

    refused_id = _ask(client, world, lead_a, "value_framework", first).json()["id"]
    refused = client.post(
        f"/api/v1/access-requests/{refused_id}/refuse",
        json={"note": "Site B has not agreed yet"},
        headers=world.auth("admin"),
    )
    assert (refused.status_code, refused.json()["status"]) == (200, "refused")
    assert client.get(url, headers=world.auth(lead_a)).status_code == 404
    assert _audit_details(world, "admin") == [f"access_request:{refused_id} refused"]

    approved_id = _ask(client, world, lead_a, "value_framework", first).json()["id"]
    approved = client.post(
        f"/api/v1/access-requests/{approved_id}/approve",
        json={"note": "Agreed with site B"},
        headers=world.auth("admin"),
    )
    assert (approved.status_code, approved.json()["expires_at"]) == (200, None)
    got = client.get(url, headers=world.auth(lead_a))
    assert (got.status_code, got.json()["name"]) == (200, "Heart failure value framework")
    assert client.get(f"{url}/dashboard", headers=world.auth(lead_a)).status_code == 200
    listed = client.get("/api/v1/value-frameworks", headers=world.auth(lead_a)).json()
    assert [f["id"] for f in listed] == [first]
    other = client.get(f"/api/v1/value-frameworks/{second}", headers=world.auth(lead_a))
    assert other.status_code == 404
    # Read access only: a grant never opens a change.
    change = client.patch(url, json={"aim": "x"}, headers=world.auth(lead_a))
    assert change.status_code == 403
    assert _ask(client, world, lead_a, "value_framework", first).status_code == 409


def test_who_may_ask_decide_and_list(client, world):
    mine = _ask(client, world, "clin_A1", "site_report", world.sites["B"]).json()["id"]
    theirs = _ask(client, world, "clin_B1", "site_report", world.sites["A"]).json()["id"]
    own = client.get("/api/v1/access-requests", headers=world.auth("clin_A1")).json()
    assert [r["id"] for r in own] == [mine]
    every = client.get("/api/v1/access-requests", headers=world.auth("lead")).json()
    assert {r["id"] for r in every} == {mine, theirs}
    # Programme leads already read every report; they decide rather than ask.
    assert _ask(client, world, "lead", "site_report", world.sites["A"]).status_code == 403
    assert (
        client.post(
            f"/api/v1/access-requests/{mine}/approve",
            json={"note": "ok"},
            headers=world.auth("clin_B1"),
        ).status_code
        == 403
    )
    unknown = _ask(client, world, "clin_A1", "value_framework", uuid.uuid4())
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.json()["errors"]] == ["target_id"]
    past = client.post(
        f"/api/v1/access-requests/{mine}/approve",
        json={"note": "ok", "expires_on": str((world.clock.now - timedelta(days=1)).date())},
        headers=world.auth("lead"),
    )
    assert past.status_code == 422
    assert [e["field"] for e in past.json()["errors"]] == ["expires_on"]
    no_note = client.post(
        f"/api/v1/access-requests/{mine}/refuse", json={"note": " "}, headers=world.auth("lead")
    )
    assert no_note.status_code == 422
    # Nothing was stored half-way: the request is still pending, with no grant.
    assert (
        client.get("/api/v1/access-requests", headers=world.auth("clin_A1")).json()[0]["status"]
        == "pending"
    )
    assert read(world, lambda s: s.scalars(select(AccessGrant)).all()) == []
    missing = client.post(
        f"/api/v1/access-requests/{uuid.uuid4()}/refuse",
        json={"note": "x"},
        headers=world.auth("lead"),
    )
    assert missing.status_code == 404
