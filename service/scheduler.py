"""`mhf scheduler`: APScheduler in its own process, never inside the API workers.

Every job run takes a lock named after the job (``service.db.capabilities.job_lock``), so
several scheduler processes (for availability) never run one job at the same time; a process
that does not get the lock skips that run.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from alerts import HttpxWebhookSender
from service import jobs
from service.alerting.egress import EgressPolicy, guarded_client
from service.alerting.secrets import SecretBox
from service.audit import checkpoint
from service.db import build_engine, build_sessionmaker
from service.db.capabilities import job_lock
from service.models import JobRun
from service.settings import Settings
from service.timeutil import utcnow

log = logging.getLogger("mhf.scheduler")

JobFn = Callable[[Session, datetime], dict[str, Any]]


class JobRunner:
    def __init__(
        self,
        engine: Engine,
        sessions: sessionmaker[Session],
        clock: Callable[[], datetime] = utcnow,
        runner_id: str | None = None,
    ) -> None:
        self.engine = engine
        self.sessions = sessions
        self.clock = clock
        self.runner_id = runner_id or f"{socket.gethostname()}:{os.getpid()}"

    def run(self, name: str, fn: JobFn) -> dict[str, Any] | None:
        """Run ``fn`` unless another process holds the job's lock; None if skipped."""
        with job_lock(self.engine, name) as got:
            if not got:
                log.info("job skipped: another scheduler holds it", extra={"job": name})
                return None
            return self._run_locked(name, fn)

    def _run_locked(self, name: str, fn: JobFn) -> dict[str, Any]:
        started = self.clock()
        session = self.sessions()
        try:
            result = fn(session, started)
            session.add(
                JobRun(
                    job=name,
                    runner=self.runner_id,
                    started_at=started,
                    finished_at=self.clock(),
                    result=result,
                )
            )
            session.commit()
        except Exception:
            session.rollback()
            log.exception("job failed", extra={"job": name})
            raise
        finally:
            session.close()
        log.info("job done", extra={"job": name, **result})
        return result


def job_table(http: httpx.Client, settings: Settings) -> dict[str, tuple[JobFn, int]]:
    """Job name -> (function, interval in seconds)."""
    sender = HttpxWebhookSender(http)
    box = SecretBox.from_settings(settings)
    table: dict[str, tuple[JobFn, int]] = {
        "missed_readings": (jobs.missed_readings, 15 * 60),
        "escalate_overdue": (jobs.escalate_overdue, 60),
        "deliver_webhooks": (lambda s, now: jobs.deliver_webhooks(s, now, sender, box), 10),
    }
    table["snapshot_reports"] = (jobs.snapshot_reports, 60 * 60)
    audit_key = checkpoint.key_of(settings)
    table["audit_checkpoint"] = (lambda s, now: checkpoint.write(s, audit_key, now), 5 * 60)
    return table


def run_scheduler(settings: Settings, only: str | None = None, once: bool = False) -> None:

    engine = build_engine(settings.database_url, pool_size=4)
    runner = JobRunner(engine, build_sessionmaker(engine))
    # One HTTP client for the process (connection pooling across deliveries), which checks
    # every destination as it connects and never follows a redirect.
    with guarded_client(EgressPolicy.from_settings(settings)) as http:
        table = job_table(http, settings)
        if only and only not in table:
            raise SystemExit(f"unknown job {only}; jobs: {', '.join(table)}")
        selected = {k: v for k, v in table.items() if only in (None, k)}
        if once:
            for name, (fn, _) in selected.items():
                print(name, runner.run(name, fn))  # noqa: T201
            return
        scheduler = BlockingScheduler(timezone="UTC")
        for name, (fn, seconds) in selected.items():
            scheduler.add_job(
                runner.run,
                "interval",
                seconds=seconds,
                args=[name, fn],
                id=name,
                max_instances=1,
                coalesce=True,
                next_run_time=utcnow(),
            )
        log.info("scheduler started", extra={"jobs": list(selected)})
        try:
            scheduler.start()
        finally:
            engine.dispose()
