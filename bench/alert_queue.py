"""Alert queue at scale: 100k patients, 1M alerts on PostgreSQL.

    .venv/bin/python bench/alert_queue.py [--database-url URL] [--patients 100000] [--alerts 1000000]

Loads the data with set-based SQL, then times, in the same run:
  raw      the plain indexed SQL query of one team's queue page (the baseline),
  service  the service's queue function (keyset query, findings, patient summaries) in process,
  http     GET /api/v1/alerts through uvicorn (auth, query, audit write, JSON), sequentially,
and prints p50/p99 with the service/raw and http/raw ratios.
Goal: queue p99 under 3x the raw query and under 100 ms.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import DEFAULT_PG, fresh_database, server, summary
from service.db import build_engine, build_sessionmaker
from service.migrations_util import upgrade
from service.security import hash_password, issue_access_token, token_settings
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

RAW = """
SELECT a.id, a.patient_id, a.severity, a.status, a.rule_id, a.title, a.summary, a.raised_at,
       a.due_at, a.version, p.nhs_number, p.date_of_birth, p.cohort
FROM alerts a JOIN patients p ON p.id = a.patient_id
WHERE a.team_id = %s AND a.status <> 'resolved'
ORDER BY a.severity_rank DESC, a.raised_at, a.id
LIMIT 50
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


def clinician_token(url: str, team_id: uuid.UUID) -> str:
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
    return issue_access_token(token_settings(settings), user_id, "clinician", datetime.now(UTC))


def time_raw(url: str, team_id: uuid.UUID, n: int) -> list[float]:
    import psycopg

    times = []
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        for _ in range(n):
            start = time.perf_counter()
            conn.execute(RAW, (team_id,)).fetchall()
            times.append(time.perf_counter() - start)
    return times


def time_service(url: str, team_id: uuid.UUID, n: int) -> list[float]:
    from service.api.alerts import _findings, queue_rows

    engine = build_engine(url)
    sessions = build_sessionmaker(engine)
    times = []
    for _ in range(n):
        with sessions() as session:
            start = time.perf_counter()
            page, _cursor = queue_rows(
                session,
                frozenset({team_id}),
                statuses=None,
                severity=None,
                patient_id=None,
                limit=50,
                cursor=None,
            )
            _findings(session, [row.id for row in page])
            times.append(time.perf_counter() - start)
    engine.dispose()
    return times


def time_http(url: str, token: str, n: int) -> list[float]:
    env = {
        "MHF_DATABASE_URL": url,
        "MHF_SECRET_KEY": SECRET,
        "MHF_ENVIRONMENT": "production",
        "MHF_LOG_LEVEL": "WARNING",
    }
    times = []
    with server("service.app:app_factory", env) as base, httpx.Client(base_url=base) as http:
        headers = {"Authorization": f"Bearer {token}"}
        for _ in range(5):
            http.get("/api/v1/alerts", headers=headers).raise_for_status()
        for _ in range(n):
            start = time.perf_counter()
            response = http.get("/api/v1/alerts", params={"limit": 50}, headers=headers)
            times.append(time.perf_counter() - start)
            response.raise_for_status()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "MHF_BENCH_DATABASE_URL", DEFAULT_PG.replace("mhf_bench", "mhf_bench_queue")
        ),
    )
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--alerts", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300)
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
    team_id = uuid.UUID(bytes=bytes.fromhex(__import__("hashlib").md5(b"team1").hexdigest()))
    token = clinician_token(url, team_id)
    raw = time_raw(url, team_id, args.requests)
    service = time_service(url, team_id, args.requests)
    http = time_http(url, token, args.requests)
    rows = {"raw SQL (baseline)": raw, "service queue()": service, "HTTP GET /alerts": http}
    print(
        f"\nalert queue, {args.patients:,} patients, {args.alerts:,} alerts, page of 50, {args.requests} requests each\n"
    )
    print(f"{'path':<22}{'p50 ms':>9}{'p99 ms':>9}{'p99 / raw p99':>15}")
    raw_p99 = summary(raw)[1]
    for name, times in rows.items():
        p50, p99 = summary(times)
        print(f"{name:<22}{p50:>9.2f}{p99:>9.2f}{p99 / raw_p99:>15.1f}")
    print("\ngoal: queue p99 under 3x the raw query and under 100 ms")


if __name__ == "__main__":
    main()
