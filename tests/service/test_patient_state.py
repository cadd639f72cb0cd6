"""Recorded events drive the patient's state, through the API and the scheduler's jobs, on a
controlled clock: one table of event sequences against the state they must leave.

The patient (pat_A1) was enrolled on 21 Oct 2026 and has sent no weight; the clock is 20 Nov
2026 09:00 UTC. So the missed-readings job flags them unless monitoring is paused or over.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from service import jobs
from service.models import AlertEventRow, AuditEvent, WebhookDelivery
from tests.support.jobs import run_job

REVIEW = "Post-discharge review due"


def admit(on: str, out: str | None = None) -> dict[str, Any]:
    return {"kind": "admission", "admitted_on": on, "discharged_on": out, "hf_related": True}


def death(on: str) -> dict[str, Any]:
    return {"kind": "death", "died_on": on}


@dataclass
class Row:
    name: str
    # ("post", label, body), ("patch", label, merge patch) or ("delete", label)
    steps: list[tuple[Any, ...]]
    status: str = "active"
    reason: str | None = None
    in_hospital_since: str | None = None
    died_on: str | None = None
    review_due: str | None = None  # the London date the open review task is due
    missed_alert: bool = True  # the missed-readings job flags the patient now
    app_works: bool = True  # the patient's device token still posts readings
    closed_by_service: list[str] = field(default_factory=list)  # outcomes the service recorded


ROWS = [
    Row(
        "admit, no discharge yet",
        [("post", "a", admit("2026-11-10"))],
        in_hospital_since="2026-11-10",
        missed_alert=False,
    ),
    Row(
        "admit then discharge",
        [("post", "a", admit("2026-11-10")), ("patch", "a", {"discharged_on": "2026-11-18"})],
        review_due="2026-12-02",
    ),
    Row(
        "admit, then death in hospital",
        [("post", "a", admit("2026-11-10")), ("post", "d", death("2026-11-15"))],
        status="discharged",
        reason="died",
        died_on="2026-11-15",
        missed_alert=False,
        app_works=False,
        closed_by_service=["patient_died"],
    ),
    Row(
        "a death recorded and then corrected",
        [("post", "d", death("2026-11-15")), ("delete", "d")],
        app_works=False,  # revoked tokens stay revoked: the team issues a new one
        closed_by_service=["patient_died"],
    ),
    Row(
        "overlapping admissions, the later still open",
        [("post", "a", admit("2026-11-01", "2026-11-12")), ("post", "b", admit("2026-11-10"))],
        in_hospital_since="2026-11-01",
        missed_alert=False,
        closed_by_service=["no_longer_due"],  # the first discharge's review: readmitted
    ),
    Row(
        "overlapping admissions, then the open one discharged",
        [
            ("post", "a", admit("2026-11-01", "2026-11-12")),
            ("post", "b", admit("2026-11-10")),
            ("patch", "b", {"discharged_on": "2026-11-16"}),
        ],
        review_due="2026-11-30",
        closed_by_service=["no_longer_due"],
    ),
    Row(
        "events sent out of order",
        [
            ("post", "b", admit("2026-11-15", "2026-11-18")),
            ("post", "a", admit("2026-11-01", "2026-11-05")),
        ],
        review_due="2026-12-02",
    ),
    Row(
        "discharge date cleared: back in hospital",
        [
            ("post", "a", admit("2026-11-10", "2026-11-18")),
            ("patch", "a", {"discharged_on": None}),
        ],
        in_hospital_since="2026-11-10",
        missed_alert=False,
        closed_by_service=["no_longer_due"],
    ),
]


def red_reading(client, world, clock) -> int:
    reading = {"id": str(uuid.uuid4()), "type": "spo2", "taken_at": clock.now.isoformat()}
    return client.post(
        "/api/v1/me/readings", json={**reading, "value": 90}, headers=world.auth("pat_A1")
    ).status_code


def play(client, world, steps, ids=None) -> dict[str, str]:
    pid = world.patients["pat_A1"]
    base = f"/api/v1/patients/{pid}/events"
    ids = {} if ids is None else ids
    for step in steps:
        verb, label = step[0], step[1]
        if verb == "post":
            response = client.post(base, json=step[2], headers=world.auth("clin_A1"))
            assert response.status_code == 201, response.text
            ids[label] = response.json()["id"]
        elif verb == "patch":
            url = f"{base}/{ids[label]}"
            response = client.patch(url, json=step[2], headers=world.auth("clin_A1"))
            assert response.status_code == 200, response.text
        else:
            response = client.delete(f"{base}/{ids[label]}", headers=world.auth("clin_A1"))
            assert response.status_code == 204, response.text
    return ids


def queue(client, world) -> list[dict[str, Any]]:
    """The patient's unresolved alerts and tasks, as the team's queue lists them."""
    return client.get(
        "/api/v1/alerts",
        params={"patient_id": str(world.patients["pat_A1"])},
        headers=world.auth("clin_A1"),
    ).json()["items"]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_events_drive_the_state(client, world, app, clock, row: Row):
    # An open red alert from before the events: only a death closes it.
    assert red_reading(client, world, clock) == 201
    play(client, world, row.steps)
    pid = world.patients["pat_A1"]
    patient = client.get(f"/api/v1/patients/{pid}", headers=world.auth("clin_A1")).json()
    assert patient["status"] == row.status
    assert patient["discharge_reason"] == row.reason
    assert patient["in_hospital_since"] == row.in_hospital_since
    assert patient["died_on"] == row.died_on
    tasks = [a for a in queue(client, world) if a["title"] == REVIEW]
    assert [t["due_at"][:10] for t in tasks] == ([row.review_due] if row.review_due else [])
    reds = [a for a in queue(client, world) if a["severity"] == "red"]
    # A death closes the open alerts; correcting it does not reopen them.
    assert len(reds) == (0 if "patient_died" in row.closed_by_service else 1)
    with app.state.sessions() as s:
        closed = s.scalars(
            select(AlertEventRow.outcome).where(
                AlertEventRow.kind == "resolved", AlertEventRow.actor_id.is_(None)
            )
        ).all()
    assert sorted(set(closed)) == sorted(set(row.closed_by_service))
    assert (red_reading(client, world, clock) != 401) is row.app_works

    run_job(app, clock, "missed_readings", jobs.missed_readings)
    missed = [a for a in queue(client, world) if a["rule_id"] == "amber.missed_weight"]
    assert bool(missed) is row.missed_alert


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_the_escalation_job_follows_the_state(client, world, app, clock, row: Row):
    assert red_reading(client, world, clock) == 201
    play(client, world, row.steps)
    # Red alerts are due in 4 hours: after a death there is nothing left to escalate.
    clock.advance(hours=5)
    escalated = run_job(app, clock, "escalate_overdue", jobs.escalate_overdue)["escalated"]
    assert escalated == (0 if "patient_died" in row.closed_by_service else 1)
    if row.review_due:
        # The review task escalates once it is past its due day, like an alert.
        due_day = date.fromisoformat(row.review_due)
        clock.now = datetime.combine(due_day, time(12), tzinfo=UTC)
        assert run_job(app, clock, "escalate_overdue", jobs.escalate_overdue) == {"escalated": 0}
        clock.now = datetime.combine(due_day + timedelta(days=1), time(9), tzinfo=UTC)
        assert run_job(app, clock, "escalate_overdue", jobs.escalate_overdue) == {"escalated": 1}
        (task,) = [a for a in queue(client, world) if a["title"] == REVIEW]
        assert task["escalated_at"] is not None


def test_death_is_audited_and_the_review_is_resolvable(client, world, app):
    steps = [("post", "a", admit("2026-11-10", "2026-11-18"))]
    play(client, world, steps)
    (task,) = [a for a in queue(client, world) if a["title"] == REVIEW]
    resolved = client.post(
        f"/api/v1/alerts/{task['id']}/resolve",
        json={"outcome": "seen_in_person"},
        headers=world.auth("clin_A1"),
    )
    assert resolved.status_code == 200, resolved.text
    # A clinician's own outcomes only: the service's are refused.
    other = client.post(
        f"/api/v1/alerts/{task['id']}/resolve",
        json={"outcome": "patient_died"},
        headers=world.auth("clin_A1"),
    )
    assert other.status_code == 422
    ids = play(client, world, [("post", "d", death("2026-11-19"))])
    play(client, world, [("delete", "d")], ids)
    with app.state.sessions() as s:
        details = s.scalars(
            select(AuditEvent.detail).where(AuditEvent.patient_id == world.patients["pat_A1"])
        ).all()
    assert any(d and d.startswith("state:died:tokens_revoked=1:") for d in details)
    assert "state:death-corrected" in details
    assert any(d and d.startswith("event:death:2026-11-19") for d in details)
    # The review done for that discharge is not raised again when the state is derived again.
    assert [a for a in queue(client, world) if a["title"] == REVIEW] == []


def test_readings_in_hospital_are_accepted_and_marked(client, world, clock):
    play(client, world, [("post", "a", admit("2026-11-18"))])
    reading = {"id": str(uuid.uuid4()), "type": "weight", "value": 80.0}
    sent = client.post(
        "/api/v1/me/readings",
        json={**reading, "taken_at": clock.now.isoformat()},
        headers=world.auth("pat_A1"),
    )
    assert sent.status_code == 201 and sent.json()["stored"][0]["in_hospital"] is True
    before = {"id": str(uuid.uuid4()), "type": "weight", "value": 80.0}
    earlier = (clock.now - timedelta(days=5)).isoformat()
    client.post(
        "/api/v1/me/readings", json={**before, "taken_at": earlier}, headers=world.auth("pat_A1")
    )
    listed = client.get(
        f"/api/v1/patients/{world.patients['pat_A1']}/readings", headers=world.auth("clin_A1")
    ).json()["items"]
    assert [r["in_hospital"] for r in listed] == [False, True]


def test_editing_an_event_of_another_team_or_kind_is_refused(client, world):
    ids = play(
        client, world, [("post", "x", {"kind": "ae_attendance", "attended_on": "2026-11-02"})]
    )
    url = f"/api/v1/patients/{world.patients['pat_A1']}/events/{ids['x']}"
    assert (
        client.patch(
            url, json={"discharged_on": "2026-11-03"}, headers=world.auth("clin_A1")
        ).status_code
        == 409
    )
    assert client.patch(url, json={}, headers=world.auth("clin_B1")).status_code == 404
    assert client.delete(url, headers=world.auth("clin_B1")).status_code == 404
    assert client.delete(url, headers=world.auth("lead")).status_code == 403


def test_a_death_holds_the_notifications_still_waiting_about_the_patient(client, world, app, clock):
    hook = client.post(
        f"/api/v1/teams/{world.teams['A1']}/webhooks",
        json={"url": "https://hooks.example/mhf", "secret": "a-webhook-secret-123"},
        headers=world.auth("admin"),
    )
    assert hook.status_code == 201, hook.text
    assert red_reading(client, world, clock) == 201  # alert.raised, waiting for delivery
    play(client, world, [("post", "d", death("2026-11-19"))])
    with app.state.sessions() as s:
        deliveries = s.execute(select(WebhookDelivery.status, WebhookDelivery.last_error)).all()
    assert [tuple(d) for d in deliveries] == [
        ("failed", "not sent: the patient's death was recorded")
    ]
