"""Readings ingest through the real HTTP stack, against a bare one-row insert in the same run.

    .venv/bin/python bench/ingest.py [--database-url URL] [--clients 16] [--seconds 10]

Prints readings/s and p50/p99 latency for single-reading posts, 500-reading batches, FHIR
Bundles of 500 and the bare endpoint, and the ratios the project's goals are stated in: single
posts >= 0.6 of the bare endpoint's throughput, batches >= 10,000 readings/s on PostgreSQL, a
FHIR Bundle >= 0.5 of the native batch's readings/s (issue 22). Requests are built and encoded
before each timed slice (``Prebuilt``), so the figures are the server's, not the load
generator's.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import json
import math
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import DEFAULT_PG, HttpConnection, Server, fresh_database, serve, summary
from bench.ingest_fhir import as_fhir_bundle, fhir_bundle_payload
from service.db import build_engine, build_sessionmaker, unit_of_work
from service.identity.security import hash_device_token, new_device_token
from service.migrations_util import upgrade
from service.models import DeviceToken, Patient, Site, Team
from service.nhs_number import check_digit
from service.timeutil import LONDON

SECRET = "bench-secret-" + "x" * 40


def seed(
    url: str, patients: int, *, more: int = 0, more_enrolled_days: int = 90
) -> list[tuple[uuid.UUID, str]]:
    """``patients`` enrolled 90 days ago, then ``more`` enrolled ``more_enrolled_days`` ago."""
    upgrade(url)
    engine = build_engine(url)
    now = datetime.now(UTC)
    tokens = []
    with unit_of_work(build_sessionmaker(engine)) as s:
        site = Site(id=uuid.uuid4(), code="BENCH", name="Bench", created_at=now)
        s.add(site)
        s.flush()
        team = Team(id=uuid.uuid4(), site_id=site.id, name="Bench team", created_at=now)
        s.add(team)
        s.flush()
        n = 0
        for i in itertools.count():
            nine = f"999{i:06d}"
            digit = check_digit(nine)
            if digit is None:
                continue
            patient = Patient(
                id=uuid.uuid4(),
                nhs_number=nine + str(digit),
                date_of_birth=datetime(1948, 3, 1).date(),
                sex="female",
                team_id=team.id,
                cohort="post_discharge",
                enrolled_on=(
                    now - timedelta(days=90 if n < patients else more_enrolled_days)
                ).date(),
                status="active",
                expects_daily_weight=True,
                thresholds={"target_weight_kg": 80.0},
                version=1,
                created_at=now,
            )
            s.add(patient)
            s.flush()
            token = new_device_token()
            s.add(
                DeviceToken(
                    id=uuid.uuid4(),
                    patient_id=patient.id,
                    token_hash=hash_device_token(token),
                    created_at=now,
                )
            )
            tokens.append((patient.id, token))
            n += 1
            if n == patients + more:
                break
    engine.dispose()
    return tokens


def reading(at: datetime) -> dict[str, object]:
    return {
        "id": str(uuid.uuid4()),
        "type": "weight",
        "taken_at": at.isoformat(),
        "value": 80.0 + (hash(at) % 10) / 10,
    }


# Readings a patient's app takes each morning: weight, blood pressure with its pulse, SpO2 and
# the symptom questions. A backlog batch of 500 is then 100 consecutive days.
PER_DAY = 5


def backlog(rng: random.Random, first_day: date, days: int, limit: int) -> list[dict[str, object]]:
    """One patient's backlog as the app sends it after being offline: consecutive days, each
    day's readings a few minutes apart some time between 07:00 and 09:30 London time, values
    around the bench patient's plan (target weight 80 kg) and mostly within it."""
    out: list[dict[str, object]] = []
    for d in range(days):
        day = first_day + timedelta(days=d)
        at = datetime.combine(day, dtime(7), LONDON) + timedelta(minutes=rng.uniform(0, 150))
        sbp = round(rng.gauss(124, 8))
        worse = rng.random() < 0.03
        day_readings: list[dict[str, object]] = [
            {"type": "weight", "taken_at": at, "value": round(80.0 + rng.gauss(0, 0.5), 1)},
            {
                "type": "blood_pressure",
                "taken_at": at + timedelta(minutes=3),
                "systolic": sbp,
                "diastolic": round(sbp * 0.62),
            },
            {
                "type": "heart_rate",
                "taken_at": at + timedelta(minutes=3),
                "value": round(rng.gauss(72, 6)),
            },
            {
                "type": "spo2",
                "taken_at": at + timedelta(minutes=4),
                "value": min(100, round(rng.gauss(96, 0.9))),
            },
            {
                "type": "symptoms",
                "taken_at": at + timedelta(minutes=5),
                "answers": {
                    "breathlessness": "worse" if worse else "usual",
                    "orthopnoea": False,
                    "ankle_swelling": "usual",
                    "dizziness": False,
                    "chest_pain": False,
                    "fatigue": "worse" if worse and rng.random() < 0.5 else "usual",
                },
            },
        ]
        for r in day_readings:
            r["id"] = str(uuid.uuid4())
            r["taken_at"] = r["taken_at"].isoformat()  # type: ignore[attr-defined]
            out.append(r)
    return out[:limit]


@dataclass
class Result:
    readings: int
    latencies: list[float]
    errors: int
    server_cpu: float
    client_cpu: float
    # Wall time from the first request sent to the last answer: requests in flight at the
    # deadline still finish and count, so the rate divides by this, not by --seconds.
    elapsed: float

    def __add__(self, other: Result) -> Result:
        return Result(
            self.readings + other.readings,
            self.latencies + other.latencies,
            self.errors + other.errors,
            self.server_cpu + other.server_cpu,
            self.client_cpu + other.client_cpu,
            self.elapsed + other.elapsed,
        )


class Prebuilt:
    """A path's requests, built and encoded ahead of each timed slice, each client's in the
    order it sends them.

    Building a request is the load generator's work, not the server's: a FHIR Bundle of 500
    took it 18 ms (the backlog, the resources, 390 KB of JSON) against 4 ms for the native
    batch, and on a 2-core machine that CPU came out of the server's share during the FHIR
    path's turns only. Each slice is topped up to half as many again as the last one sent, and
    a request the top-up did not foresee is built as before, in the loop (``built_in_loop``).
    """

    def __init__(self, make_request: Any, first: int) -> None:
        self.make_request = make_request
        self.queues: dict[int, collections.deque[tuple[str, bytes, dict[str, str], int]]] = (
            collections.defaultdict(collections.deque)
        )
        self.next_k: dict[int, int] = collections.defaultdict(int)
        self.per_client = first  # for the first slice: a guess, generous
        self.built_in_loop = 0

    def _build(self, worker: int) -> tuple[str, bytes, dict[str, str], int]:
        path, body, headers, count = self.make_request(worker, self.next_k[worker])
        self.next_k[worker] += 1
        return path, json.dumps(body).encode(), headers, count

    def top_up(self, clients: int) -> None:
        for worker in range(clients):
            queue = self.queues[worker]
            while len(queue) < self.per_client:
                queue.append(self._build(worker))

    def next(self, worker: int) -> tuple[str, bytes, dict[str, str], int]:
        queue = self.queues[worker]
        if queue:
            return queue.popleft()
        self.built_in_loop += 1
        return self._build(worker)

    def sent(self, requests: int, clients: int) -> None:
        self.per_client = max(4, math.ceil(1.5 * requests / clients))


async def _load(
    target: Server, requests: Prebuilt, clients: int, seconds: float
) -> tuple[int, list[float], int]:
    latencies: list[float] = []
    readings = errors = 0
    deadline = time.perf_counter() + seconds

    async def sender(worker: int) -> None:
        nonlocal readings, errors
        async with HttpConnection(target.host, target.port) as http:
            while time.perf_counter() < deadline:
                path, payload, headers, count = requests.next(worker)
                start = time.perf_counter()
                status, _ = await http.post(path, payload, headers)
                latencies.append(time.perf_counter() - start)
                if status in (200, 201):
                    readings += count
                else:
                    errors += 1

    await asyncio.gather(*(sender(w) for w in range(clients)))
    return readings, latencies, errors


def load(target: Server, requests: Prebuilt, clients: int, seconds: float) -> Result:
    """Closed-loop load: ``clients`` concurrent keep-alive connections for ``seconds``.

    Records the CPU the server and this load generator spent, so a reader can tell which of
    the two a figure is bound by on a shared machine.
    """
    requests.top_up(clients)
    server_before, client_before = target.cpu_seconds(), time.process_time()
    started = time.perf_counter()
    readings, latencies, errors = asyncio.run(_load(target, requests, clients, seconds))
    elapsed = time.perf_counter() - started
    requests.sent(len(latencies), clients)
    return Result(
        readings,
        latencies,
        errors,
        server_cpu=target.cpu_seconds() - server_before,
        client_cpu=time.process_time() - client_before,
        elapsed=elapsed,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", default=os.environ.get("MHF_BENCH_DATABASE_URL", DEFAULT_PG)
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument(
        "--batch-shape",
        choices=("backlog", "dense"),
        default="backlog",
        help="backlog (default): each batch is one patient's consecutive days, five readings a "
        "day as an app sends them after being offline; dense: one patient's weights one second "
        "apart (the first rounds' shape, thousands a day)",
    )
    parser.add_argument(
        "--rounds", type=int, default=4, help="turns each path takes, --seconds in all (default 4)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="uvicorn workers, the same for the bare endpoint and the service (default 1)",
    )
    args = parser.parse_args()

    url = fresh_database(args.database_url)
    # Each path posts for patients of its own, so that one path's readings are not the
    # history another path's readings are judged with (the paths take turns below).
    per_path = args.clients * 4
    batch_clients = max(2, args.clients // 4)
    # Backlog shape: each batch client posts for patients of its own, one at a time, each
    # patient's backlogs in date order, oldest first, so every batch is judged against the days
    # before it. The service takes nothing more than a year old, so a patient has as many
    # backlogs as fit in 360 days, ending yesterday; the pool has enough patients for 100
    # batches/s (50,000 readings/s) for the whole run.
    days_per_batch = math.ceil(args.batch / PER_DAY)
    backlogs = max(1, 360 // days_per_batch)
    span = backlogs * days_per_batch + 1
    pool_per_client = max(4, math.ceil(args.seconds * 100 / (batch_clients * backlogs)))
    fhir_clients = max(2, args.clients // 4)
    more = (batch_clients + fhir_clients) * pool_per_client if args.batch_shape == "backlog" else 0
    tokens = seed(url, per_path * 3, more=more, more_enrolled_days=span + 1)
    pool = tokens[per_path * 3 :]
    fhir_pool = pool[batch_clients * pool_per_client :]
    env = {
        "MHF_DATABASE_URL": url,
        "MHF_SECRET_KEY": SECRET,
        "MHF_ENVIRONMENT": "production",
        "MHF_LOG_LEVEL": "WARNING",
        # A few devices post as fast as the service answers: the limit a real phone meets
        # would refuse them, and the counting itself is still measured.
        "MHF_DEVICE_RATE_LIMIT": str(10**9),
    }
    start = datetime.now(UTC) - timedelta(days=60)
    clock = itertools.count()

    def single(worker: int, k: int):
        _, token = tokens[worker * 4 + k % 4]
        at = start + timedelta(minutes=next(clock))
        return "/api/v1/me/readings", reading(at), {"Authorization": f"Bearer {token}"}, 1

    def dense(worker: int, k: int):
        _, token = tokens[worker * 4 + k % 4 + per_path]
        base = start + timedelta(seconds=next(clock) * args.batch)
        body = {"readings": [reading(base + timedelta(seconds=i)) for i in range(args.batch)]}
        return "/api/v1/me/readings", body, {"Authorization": f"Bearer {token}"}, args.batch

    first_day = datetime.now(LONDON).date() - timedelta(days=span)
    sent: dict[tuple[str, int], int] = {}  # batches each batch client has sent, over all turns

    def next_backlog(path: str, worker: int, patients: list[tuple[uuid.UUID, str]]):
        n_sent = sent.get((path, worker), 0)
        sent[(path, worker)] = n_sent + 1
        which, part = divmod(n_sent, backlogs)
        if which >= pool_per_client:
            raise SystemExit(f"bench: {path} client {worker} ran out of backlog patients")
        patient_id, token = patients[worker * pool_per_client + which]
        rng = random.Random(f"bench:{worker}:{which}:{part}")  # bench data, not security
        start_day = first_day + timedelta(days=part * days_per_batch)
        return patient_id, token, backlog(rng, start_day, days_per_batch, args.batch)

    def from_backlog(worker: int, k: int):
        _, token, readings = next_backlog("native", worker, pool)
        body = {"readings": readings}
        return "/api/v1/me/readings", body, {"Authorization": f"Bearer {token}"}, args.batch

    batched = from_backlog if args.batch_shape == "backlog" else dense

    def fhir_backlog(worker: int, k: int):
        # The same backlogs as the native batches, as FHIR resources, for patients of its own.
        patient_id, token, readings = next_backlog("fhir", worker, fhir_pool)
        body = as_fhir_bundle(readings, f"Patient/{patient_id}")
        return "/fhir", body, {"Authorization": f"Bearer {token}"}, args.batch

    fhir_dense_sent = itertools.count()

    def fhir_dense(worker: int, k: int):
        # Its own clock: sharing the single-reading path's pushed these Bundles past now (the
        # 8-16 refusals a run used to show were readings in the future).
        patient_id, token = tokens[worker * 4 + k % 4 + 2 * per_path]
        base = start + timedelta(seconds=next(fhir_dense_sent) * args.batch)
        body = fhir_bundle_payload(args.batch, f"Patient/{patient_id}", start=base)
        return "/fhir", body, {"Authorization": f"Bearer {token}"}, args.batch

    fhir_bundle = fhir_backlog if args.batch_shape == "backlog" else fhir_dense

    def bare(worker: int, k: int):
        return "/bare", reading(start), {}, 1

    n, seconds, rounds = args.clients, args.seconds, args.rounds
    batch_name = f"batch of {args.batch} ({args.batch_shape})"
    fhir_name = f"FHIR Bundle of {args.batch}"
    # Both servers run side by side and the paths take turns in short slices, so that each
    # sees the same machine: on a shared machine the load from elsewhere changes by the minute.
    plan = [
        ("bare endpoint", "bare", bare, n),
        ("single reading", "service", single, n),
        (batch_name, "service", batched, batch_clients),
        (fhir_name, "service", fhir_bundle, fhir_clients),
    ]
    results: dict[str, Result] = {}
    # A first slice's requests per client, generously: about 1,000 small posts a second in all,
    # and 50 batches (the native path) or 25 Bundles a second.
    first = {"bare": 200, "service": 200}
    prebuilt = {
        name: Prebuilt(make, first[which] if clients == n else math.ceil(150 / clients))
        for name, which, make, clients in plan
    }
    with (
        serve("bench.bare_app:create", env, workers=args.workers) as bare_server,
        serve("service.app:app_factory", env, workers=args.workers) as service_server,
    ):
        servers = {"bare": bare_server, "service": service_server}
        for _ in range(rounds):
            for name, which, _, clients in plan:
                part = load(servers[which], prebuilt[name], clients, seconds / rounds)
                results[name] = results[name] + part if name in results else part

    backend = url.split(":", 1)[0]
    workers = "one uvicorn worker" if args.workers == 1 else f"{args.workers} uvicorn workers"
    print(
        f"\ningest benchmark on {backend}, {n} concurrent clients, {seconds:g} s each in {rounds} turns, {workers}\n"
    )
    print(
        f"{'path':<24}{'readings/s':>12}{'requests/s':>12}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}{'server CPU ms/req':>19}{'client CPU ms/req':>19}"
    )
    rates = {}
    for name, result in results.items():
        p50, p99 = summary(result.latencies)
        requests = len(result.latencies)
        rates[name] = result.readings / result.elapsed
        print(
            f"{name:<24}{rates[name]:>12.0f}{requests / result.elapsed:>12.1f}{p50:>9.1f}{p99:>9.1f}"
            f"{result.errors:>8}{result.server_cpu / requests * 1000:>19.2f}"
            f"{result.client_cpu / requests * 1000:>19.2f}"
        )
    print(
        f"\nsingle / bare throughput: {rates['single reading'] / rates['bare endpoint']:.2f} (goal >= 0.6)"
    )
    shape = (
        f"backlog: {days_per_batch} consecutive days of {PER_DAY} readings per patient"
        if args.batch_shape == "backlog"
        else "dense: weights one second apart"
    )
    print(f"batched readings/s: {rates[batch_name]:.0f} (goal >= 10,000 on PostgreSQL; {shape})")
    print(f"FHIR Bundle / native batch throughput: {rates[fhir_name] / rates[batch_name]:.2f}")
    cpu = {n: r.server_cpu / r.readings for n, r in results.items() if r.readings}
    if fhir_name in cpu and batch_name in cpu:
        print(
            "FHIR Bundle / native batch, server CPU per reading (inverted, so that higher is "
            f"better, as throughput): {cpu[batch_name] / cpu[fhir_name]:.2f}"
        )
    late = {n: p.built_in_loop for n, p in prebuilt.items() if p.built_in_loop}
    if late:
        print(f"requests built inside the timed loop (the top-up fell short): {late}")


if __name__ == "__main__":
    main()
