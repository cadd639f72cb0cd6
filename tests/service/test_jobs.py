"""Scheduled jobs on a controlled clock: missed readings, escalation, webhook delivery."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from service import jobs
from service.models import Alert, JobRun, OutboxEvent, WebhookDelivery
from tests.support.clock import T0
from tests.support.jobs import deliver, run_job
from tests.support.readings import red_alert
from tests.support.webhooks import WEBHOOK_SECRET, Receiver, guarded


def count_alerts(app, **where):
    with app.state.sessions() as s:
        query = select(func.count()).select_from(Alert)
        for key, value in where.items():
            query = query.where(getattr(Alert, key) == value)
        return s.scalar(query)


def post_weight(client, world, who, when):
    reading = {
        "id": str(uuid.uuid4()),
        "type": "weight",
        "taken_at": when.isoformat(),
        "value": 80.0,
    }
    assert (
        client.post("/api/v1/me/readings", json=reading, headers=world.auth(who)).status_code == 201
    )


def test_missed_readings_raise_one_amber_alert_per_gap(client, world, app, clock):
    # Patients were enrolled 30 days ago and have sent nothing: each gets one alert.
    post_weight(client, world, "pat_A1", T0 - timedelta(hours=1))
    result = run_job(app, clock, "missed_readings", jobs.missed_readings)
    assert result == {"patients_checked": 3, "alerts_raised": 2}
    assert (
        count_alerts(app, rule_id="amber.missed_weight", patient_id=world.patients["pat_A1"]) == 0
    )
    # Running again raises nothing new.
    assert run_job(app, clock, "missed_readings", jobs.missed_readings)["alerts_raised"] == 0
    # pat_A1 weighed today; two London days later the gap is due.
    clock.advance(days=1)
    assert run_job(app, clock, "missed_readings", jobs.missed_readings)["alerts_raised"] == 0
    clock.advance(days=1)
    assert run_job(app, clock, "missed_readings", jobs.missed_readings)["alerts_raised"] == 1
    alert_id = client.get(
        "/api/v1/alerts",
        params={"patient_id": str(world.patients["pat_A1"])},
        headers=world.auth("clin_A1"),
    ).json()["items"][0]["id"]
    resolved = client.post(
        f"/api/v1/alerts/{alert_id}/resolve",
        json={"outcome": "patient_unreachable"},
        headers=world.auth("clin_A1"),
    )
    assert resolved.status_code == 200
    # Same gap, alert resolved: not raised again. A new gap after a new weight: raised again.
    clock.advance(days=1)
    assert run_job(app, clock, "missed_readings", jobs.missed_readings)["alerts_raised"] == 0
    post_weight(client, world, "pat_A1", clock.now - timedelta(minutes=1))
    clock.advance(days=2)
    run_job(app, clock, "missed_readings", jobs.missed_readings)
    assert (
        count_alerts(app, rule_id="amber.missed_weight", patient_id=world.patients["pat_A1"]) == 2
    )


def test_overdue_alerts_escalate_exactly_once(client, world, app, clock):
    red_alert(client, world, clock)
    assert run_job(app, clock, "escalate_overdue", jobs.escalate_overdue) == {"escalated": 0}
    clock.advance(hours=4, minutes=1)
    assert run_job(app, clock, "escalate_overdue", jobs.escalate_overdue) == {"escalated": 1}
    clock.advance(hours=1)
    assert run_job(app, clock, "escalate_overdue", jobs.escalate_overdue) == {"escalated": 0}
    with app.state.sessions() as s:
        kinds = s.scalars(select(OutboxEvent.event_type).order_by(OutboxEvent.created_at)).all()
    assert kinds == ["alert.raised", "alert.escalated"]
    alert = client.get("/api/v1/alerts", headers=world.auth("clin_A1")).json()["items"][0]
    assert alert["escalated_at"] is not None and alert["overdue"] is True


def test_resolved_alerts_never_escalate(client, world, app, clock):
    red_alert(client, world, clock)
    alert = client.get("/api/v1/alerts", headers=world.auth("clin_A1")).json()["items"][0]
    client.post(
        f"/api/v1/alerts/{alert['id']}/resolve",
        json={"outcome": "advice_given"},
        headers=world.auth("clin_A1"),
    )
    clock.advance(days=2)
    assert run_job(app, clock, "escalate_overdue", jobs.escalate_overdue) == {"escalated": 0}


@pytest.fixture
def settings(settings):
    # The receivers here listen on this machine: an operator's explicit trust, over http.
    return settings.model_copy(
        update={"webhook_allow_http": True, "webhook_allowed_hosts": ["127.0.0.1/32"]}
    )


def test_webhook_events_arrive_signed_once_despite_failures(client, world, app, clock):
    with Receiver(WEBHOOK_SECRET, fail_first=3) as receiver, guarded(app) as http:
        receiver.clock = clock
        hook = client.post(
            f"/api/v1/teams/{world.teams['A1']}/webhooks",
            json={"url": receiver.url, "secret": WEBHOOK_SECRET},
            headers=world.auth("admin"),
        )
        assert hook.status_code == 201, hook.text
        red_alert(client, world, clock)
        red_alert(client, world, clock, who="pat_A1")  # same alert: no second event
        for _ in range(12):
            deliver(app, clock, http)
            clock.advance(hours=1)
        assert receiver.bad_signatures == 0
        assert [e["type"] for e in receiver.accepted] == ["alert.raised"]
        assert receiver.calls == 4
        deliveries = client.get(
            f"/api/v1/teams/{world.teams['A1']}/webhook-deliveries", headers=world.auth("clin_A1")
        ).json()
        assert [(d["status"], d["attempts"]) for d in deliveries] == [("delivered", 4)]
        # Re-delivery of the same event (e.g. a lost 2xx) is recognised by its id.
        with app.state.sessions() as s:
            s.execute(update(WebhookDelivery).values(status="pending", next_attempt_at=clock.now))
            s.commit()
        deliver(app, clock, http)
        assert receiver.duplicates == 1 and len(receiver.accepted) == 1


def test_receiver_down_for_the_whole_window_leaves_events_pending_then_failed(
    client, world, app, clock
):
    with guarded(app) as http:
        client.post(
            f"/api/v1/teams/{world.teams['A1']}/webhooks",
            json={"url": "http://127.0.0.1:9/unreachable", "secret": WEBHOOK_SECRET},
            headers=world.auth("admin"),
        )
        red_alert(client, world, clock)
        start = clock.now
        while clock.now < start + timedelta(hours=23):
            deliver(app, clock, http)
            clock.advance(minutes=30)
        with app.state.sessions() as s:
            pending = s.scalars(select(WebhookDelivery)).all()
        assert [d.status for d in pending] == ["pending"]
        assert pending[0].attempts >= 5 and pending[0].last_error
        clock.advance(hours=30)
        deliver(app, clock, http)
        with app.state.sessions() as s:
            final = s.scalars(select(WebhookDelivery)).one()
        # Given up after more than 24 hours of retries, but kept for the team to see.
        assert final.status == "failed"


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_two_schedulers_on_postgres_run_each_job_once(
    client, world, app, clock, settings, tmp_path
):
    """Two scheduler processes race on every job; each job's effect happens once."""
    red_alert(client, world, clock)
    clock.advance(days=3)
    gate = tmp_path / "gate"
    gate.mkdir()
    code = f"""
import os, time
from datetime import datetime
from pathlib import Path
from service import jobs
from service.alerting.egress import EgressPolicy, guarded_client
from service.alerting.secrets import SecretBox
from service.db import build_engine, build_sessionmaker
from service.scheduler import JobRunner

now = datetime.fromisoformat({clock.now.isoformat()!r})
engine = build_engine({settings.database_url!r})
runner = JobRunner(engine, build_sessionmaker(engine), clock=lambda: now)
gate = Path({str(gate)!r})

def wait_for(pattern, count):
    deadline = time.monotonic() + 90
    while len(list(gate.glob(pattern))) < count:
        assert time.monotonic() < deadline, f"waited 90 s for {{pattern}}"
        time.sleep(0.02)

def together(step):
    # Both processes reach each job before either starts it, however slowly they started.
    (gate / f"{{step}}-{{os.getpid()}}").touch()
    wait_for(f"{{step}}-*", 2)

def held(step, fn):
    def holding(session, at):
        result = fn(session, at)
        # Hold the job's lock until the other process has tried for it and been refused: a
        # fixed sleep let a process slowed by a busy machine try after the release and run
        # the job a second time.
        wait_for(f"refused-{{step}}", 1)
        return result
    return holding

def run(step, name, fn):
    together(step)
    result = runner.run(name, held(step, fn))
    if result is None:
        (gate / f"refused-{{step}}").touch()
    print(result)

run("missed", "missed_readings", jobs.missed_readings)
run("escalate", "escalate_overdue", jobs.escalate_overdue)
"""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    with app.state.sessions() as s:
        escalations = s.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.event_type == "alert.escalated")
        )
        missed = s.scalar(
            select(func.count()).select_from(Alert).where(Alert.rule_id == "amber.missed_weight")
        )
        runs = s.execute(select(JobRun.job, func.count()).group_by(JobRun.job)).all()
    assert escalations == 1
    assert missed == 3
    # The processes started together: one ran each job, the other found its lock taken.
    assert sum(out.count("None") for out, _ in outputs) == 2
    assert dict(runs) == {"missed_readings": 1, "escalate_overdue": 1}
