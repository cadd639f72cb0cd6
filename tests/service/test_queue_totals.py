"""The queue's totals and filters through the API (SQLite and PostgreSQL), and a rise in
severity as the API, the escalation job and the stored row all see it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from service import jobs
from service.models import Alert
from service.scheduler import JobRunner
from tests.support.queue import only_alert, queue
from tests.support.readings import amber_spo2, spo2

# (severity, hours until due (negative: overdue), assigned to clin_A1, status, team)
SPECS = [
    ("red", -2, True, "open", "A1"),
    ("red", 3, False, "acknowledged", "A1"),
    ("red", 5, False, "open", "A1"),
    ("amber", -30, False, "open", "A1"),
    ("amber", 20, True, "acknowledged", "A1"),
    ("amber", 24, False, "open", "A1"),
    ("amber", 26, False, "open", "A1"),
    ("amber", -50, False, "resolved", "A1"),  # overdue by its due time, but resolved
    ("red", -1, False, "open", "B1"),  # another team's
]


def seed(world, clock, specs=SPECS) -> list[Alert]:
    now = clock()
    made = []
    with world.app.state.sessions() as s:
        for i, (severity, due_in, mine, status, team) in enumerate(specs):
            alert = Alert(
                id=uuid.uuid4(),
                patient_id=world.patients[f"pat_{team}"],
                team_id=world.teams[team],
                rule_id=f"test.rule_{i}",
                alert_group=f"group_{i}",
                severity=severity,
                severity_rank=2 if severity == "red" else 1,
                status=status,
                pathway_version="test",
                title="t",
                summary="s",
                raised_at=now - timedelta(hours=60 - i),
                due_at=now + timedelta(hours=due_in),
                resolved_at=now if status == "resolved" else None,
                assignee_id=world.users["clin_A1"] if mine else None,
                version=1,
            )
            s.add(alert)
            made.append(alert)
        s.commit()
    return made


def walk(client, world, **params):
    """Every page of a filter by cursor: its items, and the totals each page answered."""
    items, totals, cursor = [], [], None
    for _ in range(20):
        page = queue(client, world, **params | ({"cursor": cursor} if cursor else {}))
        items += page["items"]
        totals.append(page["totals"])
        cursor = page["next_cursor"]
        if not cursor:
            return items, totals
    raise AssertionError("the cursor did not end")


def test_totals_count_the_whole_filter_on_every_page(client, world, clock):
    seed(world, clock)
    items, totals = walk(client, world, limit=2)
    assert len(items) == 7 and len(totals) == 4
    assert totals == [{"red": 3, "amber": 4, "overdue": 2, "all": 7}] * 4
    red = queue(client, world, severity="red", limit=1)["totals"]
    assert red == {"red": 3, "amber": 0, "overdue": 1, "all": 3}
    # Resolved alerts are counted when asked for, and never as overdue.
    everything = queue(client, world, status=["open", "acknowledged", "resolved"], limit=1)
    assert everything["totals"] == {"red": 3, "amber": 5, "overdue": 2, "all": 8}
    assert queue(client, world, who="clin_A2")["totals"] == {
        "red": 0,
        "amber": 0,
        "overdue": 0,
        "all": 0,
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"assignee": "me"}, {0, 4}),
        ({"assignee": "none"}, {1, 2, 3, 5, 6}),
        ({"overdue": "true"}, {0, 3}),
        ({"overdue": "true", "assignee": "none"}, {3}),
        ({"overdue": "true", "severity": "red"}, {0}),
        ({"assignee": "me", "status": "acknowledged"}, {4}),
        ({"overdue": "false"}, {0, 1, 2, 3, 4, 5, 6}),
    ],
)
def test_filters_choose_the_items_and_their_totals_alike(client, world, clock, params, expected):
    made = seed(world, clock)
    items, totals = walk(client, world, limit=2, **params)
    ids = {str(made[i].id) for i in expected}
    assert {i["id"] for i in items} == ids
    wanted = [made[i] for i in expected]
    assert totals[0] == {
        "red": sum(a.severity == "red" for a in wanted),
        "amber": sum(a.severity == "amber" for a in wanted),
        "overdue": sum(a.due_at < clock() and a.status != "resolved" for a in wanted),
        "all": len(wanted),
    }
    # Queue order is kept through the filter.
    ranks = [(-made_rank(i), i["raised_at"]) for i in items]
    assert ranks == sorted(ranks)


def made_rank(item) -> int:
    return 2 if item["severity"] == "red" else 1


@pytest.mark.parametrize("params", [{"assignee": "someone"}, {"overdue": "perhaps"}])
def test_bad_filters_are_422_problems(client, world, params):
    response = client.get("/api/v1/alerts", params=params, headers=world.auth("clin_A1"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def run_escalation(app, clock):
    return JobRunner(app.state.engine, app.state.sessions, clock=clock).run(
        "escalate_overdue", jobs.escalate_overdue
    )


def test_an_overdue_amber_turned_red_is_due_from_the_rise(client, world, clock, app):
    """Amber raised on Friday morning, due Monday 18:00, still open on Tuesday: a red SpO2 on
    Tuesday at 09:00 makes it due at 13:00 that day, not 'overdue since Monday'."""
    amber_spo2(client, world, clock)
    amber = only_alert(client, world)
    assert amber["due_at"].startswith("2026-11-23T18:00:00")
    assert amber["severity_raised_at"] is None
    clock.now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert only_alert(client, world)["overdue"] is True
    spo2(client, world, 90)
    red = only_alert(client, world)
    assert red["severity"] == "red" and red["overdue"] is False
    assert red["severity_raised_at"].startswith("2026-11-24T09:00:00")
    assert red["due_at"].startswith("2026-11-24T13:00:00")
    assert queue(client, world, overdue="true")["items"] == []
    detail = client.get(f"/api/v1/alerts/{red['id']}", headers=world.auth("clin_A1")).json()
    assert detail["due_at"] == red["due_at"]
    assert detail["severity_raised_at"] == red["severity_raised_at"]
    # The escalation job reads the same due time: nothing before 13:00, the alert after it.
    clock.now = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    assert run_escalation(app, clock) == {"escalated": 0}
    clock.now = datetime(2026, 11, 24, 13, 1, tzinfo=UTC)
    assert run_escalation(app, clock) == {"escalated": 1}
    late = only_alert(client, world)
    assert late["overdue"] is True and late["escalated_at"] is not None
    assert queue(client, world, overdue="true")["totals"]["overdue"] == 1


def test_a_red_rise_inside_the_amber_window_keeps_the_sooner_time(client, world, clock):
    amber_spo2(client, world, clock)
    clock.advance(hours=1)
    spo2(client, world, 90)
    red = only_alert(client, world)
    # Turned red on Friday 10:30 London: due at 14:30, sooner than Monday's amber close.
    assert red["due_at"].startswith("2026-11-20T14:30:00")
    assert red["severity_raised_at"].startswith("2026-11-20T10:30:00")
    with world.app.state.sessions() as s:
        row = s.scalars(select(Alert)).one()
        assert row.severity_raised_at == datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
