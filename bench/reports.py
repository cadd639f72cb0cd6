"""Benchmark: the full network month report against one hand-written adherence query.

Builds (once; --reload to rebuild) a network of 10 sites, 50,000 patients and about 10 million
readings on PostgreSQL with INSERT ... SELECT over generate_series, so the data never passes
through Python. Then, in the same run, times:

- the raw adherence query: one hand-written SQL statement, adherence by site for the month, on
  the stored readings.local_date and its index as a DBA would write it, in the two forms we know:
  each patient's days counted by a correlated subquery (the faster here, and the baseline of the
  ratio) and a join grouped by patient. The older query that converts every taken_at to a London
  date is timed too, for reference. All must give the report's own figure;
- the full network report for the month (every metric, every site, network, network median,
  12-month trend), with the 11 earlier months frozen by the snapshot job as in production;
- the reports pages with every chart, over HTTP as a signed-in programme lead: the month's
  table with every metric's SPC reading and the site trend charts, an SPC chart and two funnel
  plots (goal: each under 1.5 s);
- the month's pack (``service.reports.pack``: every table, equity split, chart, a value
  framework's dashboard and the zip), once with the month live and then with the month frozen
  as the month-end job leaves a closed month, inside a transaction that is rolled back so the
  bench's data stays as it was.

Runs are interleaved and the best of each is compared. On a shared machine wall time swings with
the load, so the CPU time of the report (client and its server backend) against the raw query's
backend is printed too, when the server runs on this machine.

Usage: python bench/reports.py [--database-url URL] [--month 2026-10] [--reload]
Goal: the report under 2 s and under 5x the raw query; the pack of a closed month under 10 s.
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine, make_url
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import REPORTS_PG
from service.app import create_app
from service.db import build_engine, build_sessionmaker, normalise_url
from service.deps import Principal
from service.identity.security import hash_password
from service.migrations_util import upgrade
from service.models import User
from service.reports import build
from service.reports.before_after import before_after
from service.reports.figures import FigureStore
from service.reports.groups import Grouping
from service.reports.pack import build_pack
from service.reports.period import as_of_date, check_month, last_months
from service.reports.runner import compute_all
from service.reports.snapshot import snapshot_month
from service.settings import Settings
from service.stewardship import dashboard, frameworks
from service.stewardship.costs import in_force
from service.stewardship.dashboard import FrameworkVersion
from service.stewardship.schemas import FrameworkIn
from service.stewardship.spec import FrameworkSpec, OutcomeSpec, Population, Resources

DEFAULT_URL = REPORTS_PG
# What the month-end job freezes; the month being timed is kept out of all of them.
SNAPSHOT_TABLES = ("report_snapshots", "report_equity_snapshots", "report_before_after_snapshots")
SITES = 10
TEAMS_PER_SITE = 3
PATIENTS = 50_000
CHUNKS = 25
FIRST_DAY = "2025-11-01"
LAST_DAY = "2026-10-31"
# The report is run "on" 20 November 2026: October is a closed month.
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
# A reading-day has weight, blood pressure and pulse; 84.5 % of expected days have one, which
# with stays of 60-119 days (cut at the last day) gives about ten million readings.
ADHERENCE_PER_MILLE = 845

# The adherence metric as a DBA would write it by hand against the same tables and indexes: the
# London days with a weight inside each patient's days of the month, from the stored
# readings.local_date through the (patient_id, local_date) partial index, summed by site. Each
# patient's days counted as they are read (a correlated subquery): the fastest form we know, so
# the baseline of the ratio.
RAW_ADHERENCE = """
SELECT t.site_id, SUM(pp.with_weight) AS num, SUM(pp.expected) AS den
FROM (
    SELECT p.team_id,
           LEAST(COALESCE(p.discharged_on, :last), :last)
               - GREATEST(p.enrolled_on, :first) + 1 AS expected,
           (SELECT COUNT(DISTINCT r.local_date)
            FROM readings r
            WHERE r.patient_id = p.id AND r.type = 'weight'
              AND r.local_date BETWEEN GREATEST(p.enrolled_on, :first)
                                   AND LEAST(COALESCE(p.discharged_on, :last), :last)
           ) AS with_weight
    FROM patients p
    WHERE p.expects_daily_weight
      AND p.enrolled_on <= :last AND (p.discharged_on IS NULL OR p.discharged_on >= :first)
) pp
JOIN teams t ON t.id = pp.team_id
GROUP BY t.site_id
"""

# The same query with the readings joined and grouped by patient: the usual way to write it,
# slower here by the grouping of every reading. Printed for reference.
RAW_ADHERENCE_JOIN = """
SELECT t.site_id, SUM(pp.with_weight) AS num, SUM(pp.expected) AS den
FROM (
    SELECT p.id, p.team_id,
           LEAST(COALESCE(p.discharged_on, :last), :last)
               - GREATEST(p.enrolled_on, :first) + 1 AS expected,
           COUNT(DISTINCT r.local_date) AS with_weight
    FROM patients p
    LEFT JOIN readings r
           ON r.patient_id = p.id AND r.type = 'weight'
          AND r.local_date BETWEEN GREATEST(p.enrolled_on, :first)
                               AND LEAST(COALESCE(p.discharged_on, :last), :last)
    WHERE p.expects_daily_weight
      AND p.enrolled_on <= :last AND (p.discharged_on IS NULL OR p.discharged_on >= :first)
    GROUP BY p.id, p.team_id
) pp
JOIN teams t ON t.id = pp.team_id
GROUP BY t.site_id
"""

# The same figure without the stored date, converting each reading's instant at query time over
# a month-bounded range of instants: the baseline before readings.local_date existed, printed
# for reference.
RAW_ADHERENCE_CONVERTING = """
WITH days AS (
    SELECT DISTINCT patient_id, CAST(timezone('Europe/London', taken_at) AS DATE) AS day
    FROM readings
    WHERE type = 'weight' AND taken_at >= :start AND taken_at < :end
), per_patient AS (
    SELECT p.id, t.site_id,
           (LEAST(COALESCE(p.discharged_on, :last), :last)
            - GREATEST(p.enrolled_on, :first) + 1) AS expected,
           COUNT(d.day) AS with_weight
    FROM patients p
    JOIN teams t ON t.id = p.team_id
    LEFT JOIN days d ON d.patient_id = p.id AND d.day >= p.enrolled_on
                    AND (p.discharged_on IS NULL OR d.day <= p.discharged_on)
    WHERE p.expects_daily_weight
      AND p.enrolled_on <= :last AND (p.discharged_on IS NULL OR p.discharged_on >= :first)
    GROUP BY p.id, t.site_id
)
SELECT site_id, SUM(with_weight) AS num, SUM(expected) AS den
FROM per_patient GROUP BY site_id
"""


def ensure_database(url: str) -> None:
    parsed = make_url(normalise_url(url))
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
        ).scalar()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def loaded(engine: Engine) -> bool:
    with engine.connect() as conn:
        sites = conn.execute(text("SELECT count(*) FROM sites")).scalar_one()
        patients = conn.execute(text("SELECT count(*) FROM patients")).scalar_one()
    return sites == SITES and patients == PATIENTS


def load(engine: Engine) -> None:
    steps: list[tuple[str, Callable[[], None]]] = []

    def run(sql: str, **params: object) -> Callable[[], None]:
        def step() -> None:
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL synchronous_commit = off"))
                conn.execute(text(sql), params)

        return step

    tables = (
        "report_snapshots, kccq_scores, medication_changes, patient_events, alert_events, "
        "alert_findings, alerts, readings, audit_events, device_tokens, user_teams, users, "
        "patients, teams, sites"
    )
    steps.append(("empty", run(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")))
    steps.append(("sites and teams", run(ORG_SQL, sites=SITES, teams=TEAMS_PER_SITE)))
    steps.append(("patients", run(PATIENTS_SQL, n=PATIENTS, first=FIRST_DAY, last=LAST_DAY)))
    size = PATIENTS // CHUNKS
    for chunk in range(CHUNKS):
        lo, hi = chunk * size + 1, (chunk + 1) * size
        steps.append(
            (
                f"readings {chunk + 1}/{CHUNKS}",
                run(READINGS_SQL, lo=lo, hi=hi, last=LAST_DAY, pm=ADHERENCE_PER_MILLE),
            )
        )
    steps.append(("alerts", run(ALERTS_SQL, last=LAST_DAY)))
    steps.append(("events", run(EVENTS_SQL, last=LAST_DAY)))
    steps.append(("medicines", run(MEDICINES_SQL, last=LAST_DAY)))
    steps.append(("kccq", run(KCCQ_SQL)))
    with tqdm(steps, desc="loading", unit="step") as bar:
        for name, step in bar:
            bar.set_postfix_str(name)
            step()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tqdm(
            (
                "readings",
                "patients",
                "alerts",
                "patient_events",
                "medication_changes",
                "kccq_scores",
                "teams",
                "sites",
            ),
            desc="vacuum analyze",
        ):
            conn.execute(text(f"VACUUM ANALYZE {table}"))


ORG_SQL = """
WITH s AS (
    INSERT INTO sites (id, code, name, created_at)
    SELECT gen_random_uuid(), 'SITE' || lpad(g::text, 2, '0'), 'Site ' || g, now()
    FROM generate_series(1, :sites) g
    RETURNING id, code
)
INSERT INTO teams (id, site_id, name, created_at)
SELECT gen_random_uuid(), s.id, s.code || ' team ' || t, now()
FROM s CROSS JOIN generate_series(1, :teams) t
"""

# Enrolments spread over the year; stays of 60-119 days; those still running on the last day
# are active, the rest discharged with a reason.
PATIENTS_SQL = """
WITH team_list AS (SELECT array_agg(id ORDER BY name) AS ids FROM teams),
g AS (
    SELECT g,
           CAST(:first AS date) + (g * 37) % 365 AS enrolled_on,
           60 + g % 60 AS stay
    FROM generate_series(1, :n) g
)
INSERT INTO patients (id, nhs_number, date_of_birth, sex, team_id, cohort, ethnicity,
                      imd_quintile, hf_type, enrolled_on, discharged_on, discharge_reason, status,
                      expects_daily_weight, thresholds, version, created_at)
SELECT gen_random_uuid(), lpad(g::text, 10, '0'),
       DATE '1930-01-01' + (g * 7919) % 20000,
       (ARRAY['female', 'male'])[1 + g % 2],
       team_list.ids[1 + g % array_length(team_list.ids, 1)],
       (ARRAY['post_discharge', 'new_diagnosis', 'medication_optimisation', 'palliative'])[1 + g % 4],
       (ARRAY['A', 'A', 'A', 'B', 'C', 'D', 'H', 'J', 'K', 'M', 'N', 'R', 'Z', '99'])[1 + g % 14],
       1 + g % 5,
       (ARRAY['HFrEF', 'HFrEF', 'HFmrEF', 'HFpEF'])[1 + g % 4],
       enrolled_on,
       CASE WHEN enrolled_on + stay <= CAST(:last AS date) THEN enrolled_on + stay END,
       CASE WHEN enrolled_on + stay <= CAST(:last AS date)
            THEN (ARRAY['stable_optimised', 'stable_optimised', 'admitted', 'died', 'withdrew'])[1 + g % 5] END,
       CASE WHEN enrolled_on + stay <= CAST(:last AS date) THEN 'discharged' ELSE 'active' END,
       true, '{}', 1, enrolled_on + TIME '09:00' AT TIME ZONE 'UTC'
FROM g CROSS JOIN team_list
"""

READINGS_SQL = """
WITH p AS (
    SELECT id, enrolled_on, LEAST(COALESCE(discharged_on, CAST(:last AS date)), CAST(:last AS date)) AS until,
           row_number() OVER (ORDER BY nhs_number) AS g
    FROM patients
), chunk AS (SELECT * FROM p WHERE g BETWEEN :lo AND :hi),
days AS (
    SELECT chunk.id, chunk.g, d,
           (chunk.enrolled_on + d + TIME '06:30') AT TIME ZONE 'Europe/London'
               + make_interval(mins => ((chunk.g * 31 + d * 17) % 180)::int) AS taken_at
    FROM chunk CROSS JOIN LATERAL generate_series(0, chunk.until - chunk.enrolled_on) d
    WHERE (chunk.g * 7919 + d * 104729) % 1000 < :pm
)
INSERT INTO readings (patient_id, id, type, taken_at, received_at, value, systolic, diastolic,
                      source)
SELECT days.id, gen_random_uuid(), t.type, days.taken_at + t.lag, days.taken_at + t.lag,
       CASE t.type WHEN 'weight' THEN 70 + (days.g % 400) / 10.0 + (d % 7) / 10.0
                   WHEN 'heart_rate' THEN 60 + (days.g + d) % 30 END,
       CASE WHEN t.type = 'blood_pressure' THEN 100 + (days.g + d) % 40 END,
       CASE WHEN t.type = 'blood_pressure' THEN 60 + (days.g + d) % 25 END,
       'app'
FROM days CROSS JOIN (VALUES ('weight', interval '0 minutes'),
                             ('blood_pressure', interval '2 minutes'),
                             ('heart_rate', interval '3 minutes')) AS t(type, lag)
"""

# About two alerts per patient, a quarter red; worked within minutes to a day.
ALERTS_SQL = """
WITH a AS (
    SELECT p.id AS patient_id, p.team_id, k,
           (p.enrolled_on + (abs(hashtext(p.id::text || k)) % 60) + TIME '08:00')
               AT TIME ZONE 'Europe/London' AS raised_at,
           abs(hashtext(p.id::text || k)) AS h
    FROM patients p CROSS JOIN generate_series(1, 2) k
)
INSERT INTO alerts (id, patient_id, team_id, rule_id, alert_group, severity, severity_rank, status,
                    pathway_version, title, summary, raised_at, due_at, acknowledged_at,
                    first_action_at, resolved_at, outcome, version)
SELECT gen_random_uuid(), patient_id, team_id, 'rule_' || k, 'group_' || k,
       CASE WHEN h % 4 = 0 THEN 'red' ELSE 'amber' END,
       CASE WHEN h % 4 = 0 THEN 2 ELSE 1 END,
       'resolved', 'bench', 'Bench alert', 'Generated',
       raised_at, raised_at + interval '4 hours',
       raised_at + make_interval(mins => (h % 600)::int),
       raised_at + make_interval(mins => (h % 600)::int),
       raised_at + make_interval(mins => (h % 600)::int + 60),
       (ARRAY['advice_given', 'no_action_needed', 'diuretic_adjusted', 'no_action_needed'])[1 + h % 4],
       3
FROM a WHERE raised_at < CAST(:last AS date) + 1
"""

EVENTS_SQL = """
INSERT INTO patient_events (id, patient_id, kind, occurred_on, discharged_on, hf_related,
                            emergency, recorded_at)
SELECT gen_random_uuid(), p.id, e.kind,
       LEAST(p.enrolled_on + 20 + abs(hashtext(p.id::text)) % 30, CAST(:last AS date)),
       CASE WHEN e.kind = 'admission'
            THEN LEAST(p.enrolled_on + 25 + abs(hashtext(p.id::text)) % 30, CAST(:last AS date)) END,
       CASE WHEN e.kind = 'admission' THEN abs(hashtext(p.id::text)) % 2 = 0 END,
       true, now()
FROM patients p
CROSS JOIN (VALUES ('admission', 8), ('ae_attendance', 11), ('death', 40)) AS e(kind, every)
WHERE abs(hashtext(p.id::text || e.kind)) % e.every = 0
"""

MEDICINES_SQL = """
INSERT INTO medication_changes (id, patient_id, pillar, status, at_target_or_max_tolerated,
                                changed_on, recorded_at)
SELECT gen_random_uuid(), p.id, pillar,
       CASE WHEN abs(hashtext(p.id::text || pillar)) % 10 = 0 THEN 'not_tolerated' ELSE 'started' END,
       abs(hashtext(p.id::text || pillar)) % 10 BETWEEN 1 AND 6,
       LEAST(p.enrolled_on + abs(hashtext(p.id::text || pillar)) % 50, CAST(:last AS date)), now()
FROM patients p
CROSS JOIN unnest(ARRAY['acei_arb_arni', 'beta_blocker', 'mra', 'sglt2i']) AS pillar
WHERE p.hf_type = 'HFrEF'
"""

KCCQ_SQL = """
INSERT INTO kccq_scores (id, patient_id, score, timepoint, assessed_on, recorded_at)
SELECT gen_random_uuid(), p.id,
       CASE t.timepoint WHEN 'start' THEN 30 + abs(hashtext(p.id::text)) % 40
                        ELSE 35 + abs(hashtext(p.id::text || 'd')) % 50 END,
       t.timepoint,
       CASE t.timepoint WHEN 'start' THEN p.enrolled_on ELSE p.discharged_on END,
       now()
FROM patients p CROSS JOIN (VALUES ('start'), ('discharge')) AS t(timepoint)
WHERE p.discharged_on IS NOT NULL
"""


def backend_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a PostgreSQL backend, when the server runs on this machine."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_ratio(
    database_url: str,
    report: Callable[..., object],
    raw_sql: str,
    params: dict[str, Any],
    runs: int,
) -> str:
    """Median CPU of the report (client process + its backend) over the raw query's backend CPU.

    On a machine shared with other work, wall time swings with the load; CPU time much less.
    One pooled connection, so one backend serves both.
    """
    engine = build_engine(database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        if backend_cpu_seconds(pid) is None:
            return "cpu ratio: not measured (the server is not on this machine)"
        sessions = build_sessionmaker(engine)
        reports, raws = [], []
        for _ in range(runs):
            b0, p0 = backend_cpu_seconds(pid) or 0.0, time.process_time()
            report(sessions)
            reports.append((backend_cpu_seconds(pid) or 0.0) - b0 + time.process_time() - p0)
            with engine.connect() as conn:
                same = conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == pid
                b0 = backend_cpu_seconds(pid) or 0.0
                conn.execute(text(raw_sql), params).all()
                raws.append((backend_cpu_seconds(pid) or 0.0) - b0)
            if not same:
                return "cpu ratio: not measured (the pool changed connection)"
        ours, theirs = statistics.median(reports), statistics.median(raws)
        return (
            f"cpu: report {ours * 1000:.0f} ms (client + server), raw query {theirs * 1000:.0f} ms"
            f" (server), ratio {ours / theirs:.2f}x (medians, clock ticks of 10 ms)"
        )
    finally:
        engine.dispose()


def best_of(runs: int, fn: Callable[[], object]) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times), times


def framework_dashboard(sessions: Any, month: str) -> object:
    """A network framework with outcomes in all four domains, as the demo's, built as a lead
    opens it: the figures store, the unit costs in force, the before-and-after comparison."""
    spec = FrameworkSpec(
        name="Bench network framework",
        site_ids=(),
        aim="Keep people with heart failure well at home",
        objectives=("Fewer admissions", "Medicines optimised"),
        population=Population(description="Everyone on the pathway"),
        resources=Resources(team_wte=60.0),
        outcomes=(
            OutcomeSpec("population_health", "admissions_hf", 100.0, "lower"),
            OutcomeSpec("quality", "weight_adherence", 80.0, "higher"),
            OutcomeSpec("quality", "red_alerts_actioned_in_time", 90.0, "higher"),
            OutcomeSpec("resources", "bed_day_cost_gbp", 500_000.0, "lower"),
            OutcomeSpec("resources", "cost_per_patient_month_gbp", 100.0, "lower"),
            OutcomeSpec("resources", "caseload_per_wte", 150.0, "higher"),
            OutcomeSpec("inequalities", "weight_adherence", 5.0, "lower", "imd_quintile"),
        ),
    )
    framework = FrameworkVersion(uuid.uuid4(), 1, NOW, spec)
    with sessions() as session:
        store = FigureStore(session, NOW, dashboard.metrics_needed(spec))
        costs = {site.id: in_force({}) for site in store.sites()}
        comparison = before_after(session, month, None, as_of=as_of_date(NOW))
        return dashboard.build(store, framework, month, costs, before_after=dict(comparison))


PACK_FRAMEWORK = {
    "name": "Bench pack framework",
    "aim": "Keep people with heart failure well at home",
    "population": "Everyone on the pathway",
    "resources": {"team_wte": 60},
    "outcomes": [
        {
            "domain": "population_health",
            "metric": "admissions_hf",
            "target": 100,
            "direction": "lower",
        },
        {"domain": "quality", "metric": "weight_adherence", "target": 80, "direction": "higher"},
        {"domain": "resources", "metric": "caseload_per_wte", "target": 150, "direction": "higher"},
        {
            "domain": "inequalities",
            "metric": "weight_adherence",
            "target": 5,
            "direction": "lower",
            "equity_split": "imd_quintile",
        },
    ],
}


PAGE_LEAD = "bench-pages-lead"
PAGE_PASSWORD = "bench pages password"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def page_client(database_url: str, sessions: Any) -> TestClient:
    """The staff pages as a programme lead opens them: the app on the bench's database, signed
    in through the login form with a session cookie (the lead is the bench's own user)."""
    with sessions.begin() as session:
        known = session.scalar(select(User.id).where(User.username == PAGE_LEAD))
        if known is None:
            session.add(
                User(
                    id=uuid.uuid4(),
                    username=PAGE_LEAD,
                    password_hash=hash_password(PAGE_PASSWORD),
                    role="programme_lead",
                    is_active=True,
                    created_at=NOW,
                )
            )
    settings = Settings(database_url=database_url, secret_key="bench-" * 8, environment="test")
    client = TestClient(create_app(settings, clock=lambda: NOW))
    client.__enter__()
    login = client.get("/ui/login")
    match = CSRF.search(login.text)
    assert match, "no CSRF token on the login page"
    form = {"username": PAGE_LEAD, "password": PAGE_PASSWORD, "csrf_token": match.group(1)}
    signed = client.post("/ui/login", data=form, follow_redirects=False)
    if signed.status_code != 303:
        raise click.ClickException(f"bench lead could not sign in: {signed.status_code}")
    return client


def report_pages(month: str) -> dict[str, str]:
    """The reports pages with every chart: the month's table with its SPC readings and site
    trend charts, a proportion's SPC chart (network and a site), and two funnel plots."""
    return {
        "reports page (every metric's SPC reading, site trends)": f"/ui/reports?month={month}",
        "SPC page (weight adherence, p-chart)": (
            f"/ui/reports/spc?month={month}&metric=weight_adherence"
        ),
        "funnel page (weight adherence, proportion)": (
            f"/ui/reports/funnel?month={month}&metric=weight_adherence"
        ),
        "funnel page (HF admissions, Poisson rate)": (
            f"/ui/reports/funnel?month={month}&metric=admissions_hf"
        ),
    }


def time_pages(client: TestClient, month: str, runs: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in report_pages(month)}
    for _ in range(runs):
        for name, url in report_pages(month).items():
            started = time.perf_counter()
            response = client.get(url)
            times[name].append(time.perf_counter() - started)
            if response.status_code != 200 or "<svg" not in response.text:
                raise click.ClickException(f"{url} answered {response.status_code} without a chart")
    return times


def time_pack(sessions: Any, month: str) -> tuple[float, float, int, int]:
    """The month's pack as a programme lead downloads it, live and then with the month frozen
    (seconds each), its size and its files. One transaction, rolled back: the framework it
    agrees and the month's snapshot are the bench's own for this run."""
    lead = Principal(role="programme_lead")
    with sessions() as session:
        frameworks.create(session, lead, "bench", NOW, FrameworkIn.model_validate(PACK_FRAMEWORK))
        session.execute(text("DELETE FROM report_equity_snapshots WHERE month = :m"), {"m": month})
        session.execute(
            text("DELETE FROM report_before_after_snapshots WHERE month = :m"), {"m": month}
        )
        started = time.perf_counter()
        build_pack(session, lead, month, NOW).zip_bytes()
        live = time.perf_counter() - started
        snapshot_month(session, month, NOW)
        started = time.perf_counter()
        pack = build_pack(session, lead, month, NOW)
        body = pack.zip_bytes()
        frozen = time.perf_counter() - started
        session.rollback()
    return live, frozen, len(body), len(pack.files)


@click.command()
@click.option("--database-url", default=DEFAULT_URL, show_default=True)
@click.option("--month", default="2026-10", show_default=True)
@click.option("--reload", is_flag=True, help="Rebuild the data even if it is there.")
@click.option("--runs", default=5, show_default=True)
@click.option("--resnapshot", is_flag=True, help="Recompute the earlier months' snapshots.")
def main(database_url: str, month: str, reload: bool, runs: int, resnapshot: bool) -> None:
    if make_url(normalise_url(database_url)).get_backend_name() != "postgresql":
        raise click.ClickException("the benchmark runs on PostgreSQL")
    ensure_database(database_url)
    upgrade(database_url)
    engine = build_engine(database_url)
    if reload or not loaded(engine):
        started = time.perf_counter()
        load(engine)
        click.echo(f"loaded in {time.perf_counter() - started:.0f} s")
    with engine.connect() as conn:
        counts = {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("sites", "patients", "readings", "alerts", "patient_events")
        }
    click.echo("data: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))

    sessions = build_sessionmaker(engine)
    earlier = last_months(month, 12)[:-1]
    started = time.perf_counter()
    with sessions.begin() as session:
        if resnapshot:
            for table in SNAPSHOT_TABLES:
                session.execute(text(f"DELETE FROM {table}"))
        done = set(session.scalars(text("SELECT DISTINCT month FROM report_snapshots")).all())
        # The report month itself stays live: that is what is being timed.
        for table in SNAPSHOT_TABLES:
            session.execute(text(f"DELETE FROM {table} WHERE month = :m"), {"m": month})
        todo = [m for m in earlier if m not in done]
        for m in tqdm(todo, desc="snapshot earlier months", unit="month"):
            snapshot_month(session, m, NOW)
    click.echo(f"snapshots of {len(todo)} earlier months: {time.perf_counter() - started:.1f} s")

    period = check_month(month, NOW)
    params = {
        "start": period.start_utc,
        "end": period.end_utc,
        "first": period.first_day,
        "last": period.last_day,
    }

    def raw_query(sql: str) -> Callable[[], object]:
        def run() -> object:
            with engine.connect() as conn:
                return conn.execute(text(sql), params).all()

        return run

    raws = {
        "stored local_date, counted per patient (baseline)": raw_query(RAW_ADHERENCE),
        "stored local_date, joined and grouped": raw_query(RAW_ADHERENCE_JOIN),
        "converting taken_at": raw_query(RAW_ADHERENCE_CONVERTING),
    }
    baseline = next(iter(raws))

    def report() -> object:
        with sessions() as session:
            return build.network_report(FigureStore(session, NOW), month, 12)

    # Every raw query must give the report's own (unsuppressed) figure, or the ratio means nothing.
    with sessions() as session:
        ours = compute_all(session, period, Grouping("site"), ["weight_adherence"])
    expected = {
        site: (int(v.numerator or 0), int(v.denominator or 0))
        for site, v in ours["weight_adherence"].groups.items()
    }
    for name, query in raws.items():
        got = {row.site_id: (int(row.num), int(row.den)) for row in query()}  # type: ignore[attr-defined]
        if got != expected:
            raise click.ClickException(f"raw adherence query ({name}) disagrees with the report")
    raws[baseline]()  # warm the cache for all: the same pages are read
    cold_started = time.perf_counter()
    body = report()
    cold = time.perf_counter() - cold_started
    # Interleaved, so a burst of load on a shared machine falls on both sides of the ratio.
    times: dict[str, list[float]] = {name: [] for name in [*raws, "report"]}
    for _ in range(runs):
        for name, query in raws.items():
            times[name].append(best_of(1, query)[0])
        times["report"].append(best_of(1, report)[0])
    assert isinstance(body, dict)
    click.echo(f"report source for {month}: {body['source']}; metrics {len(body['metrics'])}")
    for name in raws:
        click.echo(
            f"raw adherence query ({name}): best {min(times[name]) * 1000:.0f} ms, "
            f"median {statistics.median(times[name]) * 1000:.0f} ms"
        )
    report_best = min(times["report"])
    click.echo(
        f"full network report: best {report_best * 1000:.0f} ms, "
        f"median {statistics.median(times['report']) * 1000:.0f} ms "
        f"(first run {cold * 1000:.0f} ms)"
    )
    medians = statistics.median(times["report"]) / statistics.median(times[baseline])
    click.echo(
        f"ratio report / raw query: {report_best / min(times[baseline]):.2f}x "
        f"(goal < 5x, < 2 s); of the medians {medians:.2f}x"
    )
    for name in list(raws)[1:]:
        click.echo(
            f"ratio report / raw query ({name}): {report_best / min(times[name]):.2f}x (reference)"
        )

    dashboard_times = [
        best_of(1, lambda: framework_dashboard(sessions, month))[0] for _ in range(runs)
    ]
    dashboard_best = min(dashboard_times)
    click.echo(
        f"network value-framework dashboard: best {dashboard_best * 1000:.0f} ms, "
        f"median {statistics.median(dashboard_times) * 1000:.0f} ms; "
        f"ratio to raw query {dashboard_best / min(times[baseline]):.2f}x (goal < 1 s)"
    )

    client = page_client(database_url, sessions)
    page_times = time_pages(client, month, runs)
    client.__exit__(None, None, None)
    for name, taken in page_times.items():
        click.echo(
            f"{name}: best {min(taken) * 1000:.0f} ms, median "
            f"{statistics.median(taken) * 1000:.0f} ms; ratio to raw query "
            f"{min(taken) / min(times[baseline]):.2f}x (goal < 1.5 s)"
        )

    pack_runs = [time_pack(sessions, month) for _ in range(max(1, min(runs, 2)))]
    live, frozen, size, count = min(pack_runs, key=lambda run: run[1])
    click.echo(
        f"month's pack ({count} files, {size / 1024:.0f} KiB zipped): closed month, frozen "
        f"{frozen:.1f} s (goal < 10 s); the month live, before its snapshot {live:.1f} s"
    )

    def report_with(factory: Any) -> object:
        with factory() as session:
            return build.network_report(FigureStore(session, NOW), month, 12)

    click.echo(cpu_ratio(database_url, report_with, RAW_ADHERENCE, params, runs))
    engine.dispose()


if __name__ == "__main__":
    main()
