"""Running the scheduled jobs by hand, on the test clock, the way the scheduler runs them."""

from __future__ import annotations

import random
from typing import Any

import httpx
from fastapi import FastAPI

from alerts.notify import HttpxWebhookSender
from service import jobs
from service.alerting.secrets import SecretBox
from service.scheduler import JobFn, JobRunner
from tests.support.clock import FakeClock


def run_job(app: FastAPI, clock: FakeClock, name: str, fn: JobFn) -> dict[str, Any]:
    """The job's result; a test's job always runs, as no other scheduler holds its lock."""
    runner = JobRunner(app.state.engine, app.state.sessions, clock=clock)
    result = runner.run(name, fn)
    assert result is not None, f"{name} was skipped: another runner held its lock"
    return result


def deliver(app: FastAPI, clock: FakeClock, http: httpx.Client) -> dict[str, Any]:
    """One run of the webhook delivery job through ``http``, with a seeded backoff jitter."""
    sender = HttpxWebhookSender(http)
    box = SecretBox.from_settings(app.state.settings)
    return run_job(
        app,
        clock,
        "deliver_webhooks",
        lambda s, now: jobs.deliver_webhooks(s, now, sender, box, random.Random(7)),
    )
