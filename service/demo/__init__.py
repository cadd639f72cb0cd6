"""`mhf demo`: a learning network that looks like a real one, a year into the programme.

Ten sites with four community heart-failure teams each, two nurses per team, a site admin per
site, a network admin and a programme lead; about 1,000 made-up patients enrolled over the last
twelve months (`plan`; the three sites of the worked value frameworks run bigger caseloads), most
of them since discharged from monitoring for each of the allowed
reasons. Their records are written in bulk (`store`); their alerts are raised from the pathway's
findings by the service's own raising code and worked by the teams through the alerting use
cases, in time order (`work`). Everything is relative to today: what happened in the last two
days waits in the queues. Each site's eligible population is loaded as an ICS would, with the
most deprived, Asian and Black patients, women and people aged 85 and over missed more
(`population`).

Planning a patient is pure and seeded, so on a database file or server the patients are planned
and stored by worker processes while this one works the alerts of those already stored.
"""

from __future__ import annotations

import multiprocessing
import os
import random
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from service.db import build_engine, build_sessionmaker, unit_of_work
from service.demo import population, stewardship
from service.demo.people import DEMO_PASSWORD, SITES, team_weights
from service.demo.plan import Network
from service.demo.store import Org, Stored, organisation, store_patients
from service.demo.work import PatientWork
from service.identity.security import hash_password
from service.migrations_util import upgrade
from service.models import Alert, Site, User
from service.timeutil import utcnow

__all__ = ["DEMO_PASSWORD", "Demo", "build_demo", "load_demo"]

CHUNK = 25
# Below this many patients the worker processes cost more than they save.
PARALLEL_FROM = 150


@dataclass(frozen=True, slots=True)
class Demo:
    """What was built: the teams, and one device token per team for a monitored patient."""

    org: Org
    patients: int
    tokens: dict[str, str]


def load_demo(
    database_url: str,
    *,
    if_empty: bool,
    seed: int,
    patients: int,
    days: int = 365,
    progress: bool = True,
    url: str = "http://127.0.0.1:8000",
) -> None:
    """The `mhf demo` command: migrate, build into an empty database, print the logins."""
    upgrade(database_url)
    engine = build_engine(database_url)
    sessions = build_sessionmaker(engine)
    try:
        with unit_of_work(sessions) as session:
            if session.scalar(select(func.count()).select_from(Site)):
                if if_empty:
                    print("Demo data already loaded.")  # noqa: T201
                    print_logins(session, url)
                    return
                raise SystemExit("The database is not empty; use --if-empty to skip.")
        workers = 0 if patients < PARALLEL_FROM else min(2, os.cpu_count() or 1)
        demo = build_demo(
            sessions,
            seed=seed,
            patients=patients,
            days=days,
            now=utcnow(),
            database_url=database_url,
            workers=workers,
            progress=progress,
        )
        with unit_of_work(sessions) as session:
            print_logins(session, url, demo.tokens)
    finally:
        engine.dispose()


def build_demo(
    sessions: sessionmaker[Session],
    *,
    seed: int = 20261124,
    patients: int = 1000,
    days: int = 365,
    now: datetime,
    database_url: str | None = None,
    workers: int = 0,
    progress: bool = False,
) -> Demo:
    """Build the demo network into an empty database as of ``now``. With ``workers`` (and the
    ``database_url`` they connect to) patients are planned and stored in that many processes."""
    with unit_of_work(sessions) as session:
        org = organisation(session, hash_password(DEMO_PASSWORD), now)
    network = Network(
        seed=seed, now=now, teams=len(org.team_ids), days=days, team_weights=team_weights()
    )
    chunks = [range(start, min(start + CHUNK, patients)) for start in range(0, patients, CHUNK)]
    tokens: dict[str, str] = {}
    bar = tqdm(total=2 * patients, desc="demo", unit="step", disable=not progress)
    try:
        for stored in _stored_chunks(sessions, network, org, chunks, database_url, workers):
            bar.update(len(stored))
            with unit_of_work(sessions) as session:
                for patient in stored:
                    rng = random.Random(f"mhf-demo-work:{seed}:{patient.id}")  # noqa: S311
                    PatientWork(session, patient, org, now, rng).run()
                    name = org.team_names[patient.team]
                    if patient.ends_on is None and name not in tokens:
                        tokens[name] = patient.device_token
                    bar.update(1)
    finally:
        bar.close()
    with unit_of_work(sessions) as session:
        stewardship.build(session, now)
        population.build(session, now)
    return Demo(org=org, patients=patients, tokens=tokens)


def _stored_chunks(
    sessions: sessionmaker[Session],
    network: Network,
    org: Org,
    chunks: list[range],
    database_url: str | None,
    workers: int,
) -> Iterator[list[Stored]]:
    """Each chunk of patients once its records are committed, in the order they finish."""
    if workers < 2 or database_url is None:
        for chunk in chunks:
            with unit_of_work(sessions) as session:
                stored = store_patients(session, network, org, chunk)
            yield stored
        return
    # Forked workers open their own connections (the parent's must not cross a fork).
    sessions.kw["bind"].dispose()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_connect, initargs=(database_url,)
    ) as pool:
        futures: list[Future[list[Stored]]] = [
            pool.submit(_store_in_worker, network, org, chunk) for chunk in chunks
        ]
        for future in as_completed(futures):
            yield future.result()


_worker_sessions: sessionmaker[Session] | None = None


def _connect(database_url: str) -> None:
    global _worker_sessions  # noqa: PLW0603 - one connection pool per worker process
    _worker_sessions = build_sessionmaker(build_engine(database_url))


def _store_in_worker(network: Network, org: Org, chunk: range) -> list[Stored]:
    assert _worker_sessions is not None
    with unit_of_work(_worker_sessions) as session:
        return store_patients(session, network, org, chunk)


def print_logins(session: Session, url: str, tokens: dict[str, str] | None = None) -> None:
    """Who can sign in (one password for all), how busy the queues are, and device tokens."""
    users = session.execute(select(User.username, User.role).order_by(User.username)).all()
    by_role: dict[str, list[str]] = {}
    for username, role in users:
        by_role.setdefault(role, []).append(username)
    open_alerts = session.scalar(
        select(func.count()).select_from(Alert).where(Alert.status != "resolved")
    )
    lines = [
        "",
        f"MHF @home demo network is ready: {url}/ui/login (API docs at {url}/docs)",
        f"Password for every demo user: {DEMO_PASSWORD}",
        "",
        f"  network admin     {' '.join(by_role.get('admin', []))}",
        f"  programme lead    {' '.join(by_role.get('programme_lead', []))}",
        f"  site admins       {' '.join(by_role.get('site_admin', []))}",
        f"  site leads        {' '.join(by_role.get('site_lead', []))}",
        "  nurses            nurse.<site><team> and nurse.<site><team>b, for example:",
    ]
    nurses = by_role.get("clinician", [])
    for code, name, _ in SITES:
        mine = [u for u in nurses if u.startswith(f"nurse.{code.lower()}")]
        if mine:
            lines.append(f"    {name}: {', '.join(mine[:4])}{' ...' if len(mine) > 4 else ''}")
    lines.append(f"\n{open_alerts} alerts are waiting in the teams' queues.")
    if tokens:
        lines.append("\nDevice tokens (patient app) for a monitored patient of some teams:")
        lines += [f"  {team}: {token}" for team, token in list(tokens.items())[:5]]
    print("\n".join(lines))  # noqa: T201
