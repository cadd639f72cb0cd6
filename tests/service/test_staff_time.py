"""Staff time through the API: the minutes a resolve records, and the team's contacts with a
patient (recorded, refused, paged newest first, audited)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from service.models import AlertEventRow, AuditEvent, PatientContact
from tests.support.clock import T0
from tests.support.queue import queue
from tests.support.readings import raise_red_alert
from tests.support.world import alert_row, read


def _resolve(client, world, alert_id, **body):
    return client.post(
        f"/api/v1/alerts/{alert_id}/resolve",
        json={"outcome": "advice_given", **body},
        headers=world.auth("clin_A1"),
    )


def test_resolve_keeps_the_minutes_on_the_alert_its_event_and_its_outputs(client, world):
    alert_id = raise_red_alert(client, world)
    response = _resolve(client, world, alert_id, minutes=35)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["minutes_spent"] == 35
    assert [e["minutes_spent"] for e in body["events"]] == [None, 35]
    assert alert_row(world, alert_id).minutes_spent == 35
    stored = read(
        world,
        lambda s: s.scalars(
            select(AlertEventRow.minutes_spent).where(AlertEventRow.kind == "resolved")
        ).all(),
    )
    assert stored == [35]
    (item,) = queue(client, world, status=["resolved"])["items"]
    assert item["minutes_spent"] == 35


def test_resolve_without_minutes_still_resolves_and_says_none(client, world):
    alert_id = raise_red_alert(client, world)
    response = _resolve(client, world, alert_id)
    assert response.status_code == 200, response.text
    assert response.json()["minutes_spent"] is None
    assert alert_row(world, alert_id).minutes_spent is None


@pytest.mark.parametrize("minutes", [-1, 1441, "ten", "15", 2.5, True])
def test_bad_minutes_are_422_naming_the_field_and_nothing_moves(client, world, minutes):
    alert_id = raise_red_alert(client, world)
    response = _resolve(client, world, alert_id, minutes=minutes)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["minutes"]
    assert alert_row(world, alert_id).status == "open"


def _contact(client, world, who="clin_A1", patient="pat_A1", **extra):
    body = {
        "kind": "call",
        "occurred_at": (T0 - timedelta(hours=2)).isoformat(),
        "minutes": 15,
    } | extra
    return client.post(
        f"/api/v1/patients/{world.patients[patient]}/contacts",
        json=body,
        headers=world.auth(who),
    )


def test_a_contact_is_stored_as_sent_and_audited(client, world):
    alert_id = raise_red_alert(client, world)
    response = _contact(
        client,
        world,
        kind="visit",
        occurred_at="2026-11-20T08:15:00+00:00",
        minutes=50,
        note="  Reviewed at home; ankles less swollen.  ",
        alert_id=alert_id,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["kind"], body["minutes"], body["alert_id"]) == ("visit", 50, alert_id)
    assert body["occurred_at"].startswith("2026-11-20T08:15:00")
    assert body["note"] == "Reviewed at home; ankles less swollen."
    assert body["recorded_by"] == str(world.users["clin_A1"])
    row = read(world, lambda s: s.scalars(select(PatientContact)).one())
    assert (row.patient_id, row.minutes, row.recorded_at) == (world.patients["pat_A1"], 50, T0)
    details = read(
        world,
        lambda s: s.scalars(
            select(AuditEvent.detail).where(
                AuditEvent.patient_id == world.patients["pat_A1"], AuditEvent.action == "C"
            )
        ).all(),
    )
    assert details == ["contact:visit"]


@pytest.mark.parametrize(
    ("field", "extra"),
    [
        ("kind", {"kind": "email"}),
        ("minutes", {"minutes": -5}),
        ("minutes", {"minutes": 1441}),
        ("minutes", {"minutes": "20"}),
        ("occurred_at", {"occurred_at": "2026-11-20T08:15:00"}),  # no offset
        ("occurred_at", {"occurred_at": (T0 + timedelta(minutes=6)).isoformat()}),
        ("note", {"note": "x" * 4001}),
        ("note", {"note": "bell\x07"}),
        ("alert_id", {"alert_id": "00000000-0000-4000-8000-000000000000"}),
    ],
)
def test_a_bad_contact_is_422_naming_the_field_and_nothing_is_stored(client, world, field, extra):
    response = _contact(client, world, **extra)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert read(world, lambda s: s.scalars(select(PatientContact)).all()) == []


def test_a_little_clock_skew_is_allowed(client, world):
    response = _contact(client, world, occurred_at=(T0 + timedelta(minutes=4)).isoformat())
    assert response.status_code == 201, response.text


def test_an_alert_of_another_patient_is_refused(client, world):
    other = raise_red_alert(client, world, "pat_A2")
    response = _contact(client, world, alert_id=other)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["alert_id"]


def test_another_teams_clinician_gets_404_both_ways(client, world):
    assert _contact(client, world, who="clin_B1").status_code == 404
    url = f"/api/v1/patients/{world.patients['pat_A1']}/contacts"
    assert client.get(url, headers=world.auth("clin_B1")).status_code == 404


def test_the_list_is_newest_first_in_pages_and_audited_as_a_read(client, world):
    for hours, minutes in ((5, 10), (1, 20), (3, 30)):
        occurred = (T0 - timedelta(hours=hours)).isoformat()
        assert _contact(client, world, occurred_at=occurred, minutes=minutes).status_code == 201
    url = f"/api/v1/patients/{world.patients['pat_A1']}/contacts"
    first = client.get(url, params={"limit": 2}, headers=world.auth("clin_A1")).json()
    assert [c["minutes"] for c in first["items"]] == [20, 30]
    rest = client.get(
        url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=world.auth("clin_A1")
    ).json()
    assert [c["minutes"] for c in rest["items"]] == [10] and rest["next_cursor"] is None
    reads = read(
        world,
        lambda s: s.scalars(
            select(AuditEvent.detail).where(
                AuditEvent.patient_id == world.patients["pat_A1"], AuditEvent.action == "R"
            )
        ).all(),
    )
    assert reads.count("contacts") == 2


def test_a_cursor_it_did_not_issue_is_400(client, world):
    url = f"/api/v1/patients/{world.patients['pat_A1']}/contacts"
    response = client.get(url, params={"cursor": "bm9wZQ"}, headers=world.auth("clin_A1"))
    assert response.status_code == 400
