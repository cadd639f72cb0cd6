"""Alert queue at scale: 100k patients, 1M alerts on PostgreSQL.

    .venv/bin/python bench/alert_queue.py [--database-url URL] [--reuse] [--requests 300]

Loads the data with set-based SQL (or keeps it with ``--reuse``), then times, interleaved in
rounds so that the shared machine's noise falls on every path alike, one team's first queue
page of 50:

  raw SQL      the baseline: the plain indexed SQL query of the rows the page shows, psycopg,
               one connection: the team's first 50 unresolved alerts in queue order (every alert
               and patient column a queue item shows) each joined to its findings (the columns
               an item's findings show), one row per finding; ``RAW``;
  raw SQL, no findings
               for reference, the baseline this bench used before: the same alerts and patient
               columns without the findings (``RAW_NO_FINDINGS``), which the page does show;
  service      the service's queue in process: ``alert_page`` as the route calls it (keyset
               query with findings, patient summaries, the audit record, which on PostgreSQL the
               page's statement appends), the JSON body as the route serialises it, and the
               commit that makes the audit durable; a session (and pool checkout) per request;
  bare HTTP    the HTTP baseline: the raw SQL (``RAW``, with findings) behind a bare endpoint
               (bench/bare_queue_app.py) over the same uvicorn, no auth, no audit;
  HTTP         GET /api/v1/alerts through uvicorn: auth, the service queue, audit, JSON.

Prints p50/p99 and the ratios the goal is stated in: service p99 / raw p99 (in process) and
HTTP p99 / bare HTTP p99, also HTTP p99 / raw p99 and, as the steadier figure on a shared
machine (a p99 of 600 calls is their 6th slowest), service p50 / raw p50; and the SQL
statements per service call.
For context only, "raw SQL + 1-row commit" adds the smallest durable write to the raw query:
the service must commit its audit record before answering, and that commit waits for the WAL.
Goal: queue p99 under 3x the raw query and under 100 ms.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from pydantic_core import to_json
from sqlalchemy import event

from bench.common import bench_database, fresh_database, server, summary
from service.alerting import repository
from service.alerting import service as alerting_service
from service.db import build_engine, build_sessionmaker
from service.deps import Principal
from service.identity.security import hash_password, issue_access_token, token_settings
from service.migrations_util import upgrade
from service.settings import Settings

SECRET = "bench-secret-" + "x" * 40
TEAMS = 100

LOAD = [
    # 10 sites x 10 teams.
    """INSERT INTO sites (id, code, name, created_at)
       SELECT md5('site' || s)::uuid, 'S' || s, 'Site ' || s, now() FROM generate_series(1, 10) s""",
    """INSERT INTO teams (id, site_id, name, created_at)
       SELECT md5('team' || t)::uuid, md5('site' || ((t - 1) / 10 + 1))::uuid, 'Team ' || t, now()
       FROM generate_series(1, :teams) t""",
    """INSERT INTO patients (id, nhs_number, date_of_birth, sex, team_id, cohort, enrolled_on,
                             status, expects_daily_weight, thresholds, version, created_at)
       SELECT md5('patient' || p)::uuid, lpad(p::text, 10, '0'), date '1945-01-01' + (p % 9000),
              CASE WHEN p % 2 = 0 THEN 'female' ELSE 'male' END,
              md5('team' || (p % :teams + 1))::uuid, 'post_discharge', date '2026-01-01', 'active',
              true, '{}'::json, 1, now()
       FROM generate_series(1, :patients) p""",
    # Alerts: about 3 % unresolved, a third of those red; spread over the past year.
    """INSERT INTO alerts (id, patient_id, team_id, rule_id, alert_group, severity, severity_rank,
                           status, pathway_version, title, summary, raised_at, due_at, version)
       SELECT md5('alert' || a)::uuid, md5('patient' || (a % :patients + 1))::uuid,
              md5('team' || ((a % :patients) % :teams + 1))::uuid,
              CASE WHEN a % 3 = 0 THEN 'red.spo2' ELSE 'amber.weight_gain_3d' END,
              CASE WHEN a % 3 = 0 THEN 'spo2' ELSE 'congestion' END,
              CASE WHEN a % 3 = 0 THEN 'red' ELSE 'amber' END,
              CASE WHEN a % 3 = 0 THEN 2 ELSE 1 END,
              CASE WHEN a % 33 = 0 THEN 'open' WHEN a % 33 = 1 THEN 'acknowledged' ELSE 'resolved' END,
              'mhf-2026.1', 'Alert', 'summary',
              now() - (a % 525600) * interval '1 minute',
              now() - (a % 525600) * interval '1 minute' + interval '4 hours', 1
       FROM generate_series(1, :alerts) a
       ON CONFLICT DO NOTHING""",
    """INSERT INTO alert_findings (alert_id, rule_id, level, pathway_version, title, summary,
                                   evidence, observed_at, recorded_at)
       SELECT id, rule_id, severity, pathway_version, title, summary, '[]'::json, raised_at, raised_at
       FROM alerts""",
    "ANALYZE",
]

RAW_NO_FINDINGS = """
SELECT a.id, a.patient_id, a.team_id, a.rule_id, a.severity, a.severity_rank, a.status, a.title,
       a.summary, a.pathway_version, a.raised_at, a.due_at, a.acknowledged_at, a.first_action_at,
       a.escalated_at, a.resolved_at, a.assignee_id, a.outcome, a.version,
       p.nhs_number, p.date_of_birth, p.cohort
FROM alerts a JOIN patients p ON p.id = a.patient_id
WHERE a.team_id = %s AND a.status <> 'resolved'
ORDER BY a.severity_rank DESC, a.raised_at, a.id
LIMIT 50
"""
# The rows the page shows: each alert of the page with its findings, as one would write it by
# hand (the page's 50 alerts from the queue index, then their findings by alert_id's index).
RAW = f"""
SELECT page.*, f.rule_id AS finding_rule_id, f.level, f.pathway_version AS finding_version,
       f.title AS finding_title, f.summary AS finding_summary, f.evidence, f.observed_at
FROM ({RAW_NO_FINDINGS}) page
LEFT JOIN alert_findings f ON f.alert_id = page.id
ORDER BY page.severity_rank DESC, page.raised_at, page.id, f.id
"""


def load(url: str, patients: int, alerts: int) -> None:
    upgrade(url)
    engine = build_engine(url)
    params = {"teams": TEAMS, "patients": patients, "alerts": alerts}
    with engine.begin() as conn:
        for i, statement in enumerate(LOAD, 1):
            start = time.perf_counter()
            conn.execute(text(statement), params)
            print(f"  load step {i}/{len(LOAD)} in {time.perf_counter() - start:.1f} s", flush=True)
    engine.dispose()


def clinician_token(url: str, team_id: uuid.UUID) -> tuple[uuid.UUID, str]:
    engine = build_engine(url)
    user_id = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, username, password_hash, role, is_active, created_at) "
                "VALUES (:id, :name, :h, 'clinician', true, now())"
            ),
            {
                "id": user_id,
                "name": f"bench.nurse.{user_id.hex[:8]}",
                "h": hash_password("not-used-here"),
            },
        )
        conn.execute(
            text("INSERT INTO user_teams (user_id, team_id) VALUES (:u, :t)"),
            {"u": user_id, "t": team_id},
        )
    engine.dispose()
    settings = Settings(
        database_url=url, secret_key=SECRET, environment="test", access_token_minutes=600
    )
    token = issue_access_token(token_settings(settings), user_id, "clinician", datetime.now(UTC))
    return user_id, token


Timer = Callable[[], None]


@contextmanager
def raw_path(url: str, team_id: uuid.UUID, sql: str = RAW) -> Iterator[Timer]:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:

        def call() -> None:
            conn.execute(sql, (team_id,)).fetchall()

        yield call


@contextmanager
def raw_commit_path(url: str, team_id: uuid.UUID) -> Iterator[Timer]:
    """Not the goal's baseline: the raw query plus the smallest durable write, a floor for any
    read that must be audited before it is answered (the commit waits for the WAL flush)."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_queue_commit (id bigserial PRIMARY KEY)")
        conn.commit()

        def call() -> None:
            conn.execute(RAW, (team_id,)).fetchall()
            conn.execute("INSERT INTO bench_queue_commit DEFAULT VALUES")
            conn.commit()

        yield call


@contextmanager
def service_path(
    url: str, user_id: uuid.UUID, team_id: uuid.UUID, counts: list[int]
) -> Iterator[Timer]:
    engine = build_engine(url)
    sessions = build_sessionmaker(engine)
    principal = Principal(role="clinician", user_id=user_id, team_ids=frozenset({team_id}))
    statements = 0

    @event.listens_for(engine, "before_cursor_execute")
    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    # The page's statement runs on the driver (service.db.driver_rows), past SQLAlchemy's events.
    run_on_driver = repository.driver_rows

    def counted_driver_rows(*args: Any) -> Any:
        nonlocal statements
        statements += 1
        return run_on_driver(*args)

    repository.driver_rows = counted_driver_rows  # type: ignore[assignment]

    def call() -> None:
        nonlocal statements
        statements = 0
        with sessions() as session:
            page = alerting_service.alert_page(
                session,
                principal,
                "GET /api/v1/alerts",
                datetime.now(UTC),
                statuses=None,
                severity=None,
                team_id=None,
                patient_id=None,
                limit=50,
                cursor=None,
            )
            # The route serialises the page's plain values as they are.
            to_json(page)
            session.commit()
        counts.append(statements)

    try:
        yield call
    finally:
        repository.driver_rows = run_on_driver  # type: ignore[assignment]
        engine.dispose()


@contextmanager
def http_path(
    base: str, path: str, params: dict[str, str], headers: dict[str, str]
) -> Iterator[Timer]:
    with httpx.Client(base_url=base, headers=headers) as http:

        def call() -> None:
            http.get(path, params=params).raise_for_status()

        yield call


def run(paths: dict[str, Timer], requests: int, rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in paths}
    for call in paths.values():
        for _ in range(10):
            call()
    per_round = max(1, requests // rounds)
    for _ in range(rounds):
        for name, call in paths.items():
            for _ in range(per_round):
                start = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("MHF_BENCH_DATABASE_URL", bench_database("queue")),
    )
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--alerts", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the loaded database from a previous run"
    )
    args = parser.parse_args()
    url = args.database_url
    if not args.reuse:
        fresh_database(url)
        print(f"loading {args.patients:,} patients and {args.alerts:,} alerts ...", flush=True)
        load(url, args.patients, args.alerts)
    else:
        upgrade(url)
    team_id = uuid.UUID(bytes=bytes.fromhex(hashlib.md5(b"team1").hexdigest()))
    user_id, token = clinician_token(url, team_id)
    env = {
        "MHF_DATABASE_URL": url,
        "MHF_SECRET_KEY": SECRET,
        "MHF_ENVIRONMENT": "production",
        "MHF_LOG_LEVEL": "WARNING",
    }
    counts: list[int] = []
    with ExitStack() as stack:
        service_base = stack.enter_context(server("service.app:app_factory", env))
        bare_base = stack.enter_context(server("bench.bare_queue_app:create", env))
        paths = {
            "raw SQL (baseline)": stack.enter_context(raw_path(url, team_id)),
            "raw SQL, no findings": stack.enter_context(raw_path(url, team_id, RAW_NO_FINDINGS)),
            "raw SQL + 1-row commit": stack.enter_context(raw_commit_path(url, team_id)),
            "service (in process)": stack.enter_context(
                service_path(url, user_id, team_id, counts)
            ),
            "bare HTTP (baseline)": stack.enter_context(
                http_path(bare_base, "/bare-queue", {"team": str(team_id)}, {})
            ),
            "HTTP GET /api/v1/alerts": stack.enter_context(
                http_path(
                    service_base,
                    "/api/v1/alerts",
                    {"limit": "50"},
                    {"Authorization": f"Bearer {token}"},
                )
            ),
        }
        times = run(paths, args.requests, args.rounds)
    p99 = {name: summary(t)[1] for name, t in times.items()}
    print(
        f"\nalert queue, {args.patients:,} patients, {args.alerts:,} alerts, first page of 50, "
        f"{args.requests} requests per path in {args.rounds} interleaved rounds\n"
    )
    print(f"{'path':<26}{'p50 ms':>9}{'p99 ms':>9}")
    for name, t in times.items():
        p50, p99_ = summary(t)
        print(f"{name:<26}{p50:>9.2f}{p99_:>9.2f}")
    raw, bare = p99["raw SQL (baseline)"], p99["bare HTTP (baseline)"]
    service, http = p99["service (in process)"], p99["HTTP GET /api/v1/alerts"]
    print(f"\nservice p99 / raw SQL p99     {service / raw:6.1f}x   (goal < 3x)")
    p50 = {name: summary(t)[0] for name, t in times.items()}
    print(
        f"service p50 / raw SQL p50     "
        f"{p50['service (in process)'] / p50['raw SQL (baseline)']:6.1f}x   "
        "(steadier than p99 on a shared machine)"
    )
    no_findings = p99["raw SQL, no findings"]
    print(f"service p99 / no-findings p99 {service / no_findings:6.1f}x   (the earlier baseline)")
    print(f"HTTP p99 / bare HTTP p99      {http / bare:6.1f}x   (goal < 3x)")
    print(f"HTTP p99 / raw SQL p99        {http / raw:6.1f}x")
    print(f"HTTP p99                      {http:6.1f} ms (goal < 100 ms)")
    floor = p99["raw SQL + 1-row commit"]
    print(
        f"service p99 / raw+commit p99  {service / floor:6.1f}x   (not the goal: the durable write)"
    )
    print(f"SQL statements per service call: {sorted(set(counts))}")


if __name__ == "__main__":
    main()
