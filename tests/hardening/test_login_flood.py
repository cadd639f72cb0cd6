"""Issue 18 finding 3: a login flood must not starve the clinicians' alert queue.

A real `mhf serve` on PostgreSQL. The queue's latency is measured in windows that alternate
between quiet (the baseline, on this machine, in this run) and a flood: many clients pouring
wrong passwords in from different addresses (through the trusted-proxy header, as behind
nginx), so every attempt passes the per-address limits and reaches the password check. Before
the gate, 120 such clients held the queue at p50 6.3 s and exhausted the connection pool.

The bound is the issue's 100 ms for the p99, or five times the baseline p99 if this machine is
slower than that on its own: an absolute time alone would fail on a loaded machine for reasons
that are not the change's.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.support.live import database, processes
from tests.support.load import seed_network
from tests.support.soak import soak_seed

FLOOD = """
import json, os, random, signal, sys, threading, time
from collections import Counter
import httpx

base, clients, seed = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
outcomes = Counter()
lock = threading.Lock()

def report(*_):
    # At once, without waiting for the clients' requests in flight.
    with lock:
        print(json.dumps(outcomes), flush=True)
    os._exit(0)

signal.signal(signal.SIGTERM, report)

def flood(n):
    local = random.Random(seed + n)
    with httpx.Client(base_url=base, timeout=30) as http:
        while True:
            address = f"10.{local.randrange(256)}.{local.randrange(256)}.{n}"
            try:
                answer = http.post(
                    "/api/v1/auth/token",
                    data={"username": f"nobody{local.randrange(10**6)}", "password": "x"},
                    headers={"X-Forwarded-For": address},
                )
            except httpx.HTTPError:
                continue
            with lock:
                outcomes[answer.status_code] += 1

threads = [threading.Thread(target=flood, args=(n,), daemon=True) for n in range(clients)]
for t in threads:
    t.start()
# SIGTERM may land on any thread, but its handler runs only when the main thread runs Python:
# blocked in join() it never would (a stop that timed out under load); a short sleep wakes it.
while True:
    time.sleep(0.1)
"""
FLOOD_CLIENTS = 24
CYCLES = 4
WINDOW_SECONDS = 3.0


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _queue_latencies(base: str, token: str, count: int) -> list[float]:
    out = []
    with httpx.Client(base_url=base, timeout=30) as http:
        for _ in range(count):
            started = time.perf_counter()
            answer = http.get("/api/v1/alerts", headers={"Authorization": f"Bearer {token}"})
            out.append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.text
    return out


def _window(base: str, token: str) -> list[float]:
    samples: list[float] = []
    deadline = time.monotonic() + WINDOW_SECONDS
    while time.monotonic() < deadline:
        samples += _queue_latencies(base, token, 5)
    return samples


@pytest.mark.soak
@pytest.mark.postgres
def test_the_alert_queue_stays_quick_during_a_login_flood(tmp_path: Path) -> None:
    seed = soak_seed()
    print(f"\nseed {seed}")
    rng = random.Random(seed)
    with (
        database("postgres", tmp_path, f"mhf_hard_flood_{os.getpid()}") as url,
        processes(tmp_path) as procs,
    ):
        net = seed_network(url, 12)
        server = procs.server("api", url, MHF_FORWARDED_ALLOW_IPS="127.0.0.1")
        with httpx.Client(base_url=server.base, timeout=30) as http:
            for patient in net.patients:
                reading = {
                    "id": str(uuid.uuid4()),
                    "type": "spo2",
                    "taken_at": datetime.now(UTC).isoformat(),
                    "value": 90,
                }
                token = net.device_tokens[patient]
                sent = http.post(
                    "/api/v1/me/readings",
                    json=reading,
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert sent.status_code == 201, sent.text
        clinician = net.tokens["clinician"]
        _queue_latencies(server.base, clinician, 20)  # warm up

        # The flood runs in its own process: in this one its threads would hold the GIL
        # against the thread that measures, and the measurement would be the client's. It is
        # paused and resumed (SIGSTOP, SIGCONT) so that windows with and without it alternate:
        # whatever else loads this machine weighs on both alike.
        flood = subprocess.Popen(
            [sys.executable, "-c", FLOOD, server.base, str(FLOOD_CLIENTS), str(rng.random())],
            stdout=subprocess.PIPE,
            text=True,
        )
        alone: list[float] = []
        during: list[float] = []
        try:
            time.sleep(1.5)  # the flood's clients connect
            for _ in range(CYCLES):
                flood.send_signal(signal.SIGCONT)
                time.sleep(0.5)
                during += _window(server.base, clinician)
                flood.send_signal(signal.SIGSTOP)
                time.sleep(1.5)  # refusals already in the server are answered and drained
                alone += _window(server.base, clinician)
        finally:
            flood.send_signal(signal.SIGCONT)
            flood.terminate()
            out, _ = flood.communicate(timeout=60)
        outcomes = Counter({int(k): int(v) for k, v in json.loads(out or "{}").items()})
        baseline, flooded = _p99(alone), _p99(during)
        bound = max(0.100, 5 * baseline)
        print(
            f"queue p99 alone {baseline * 1000:.1f} ms ({len(alone)} reads), during the flood "
            f"{flooded * 1000:.1f} ms ({len(during)} reads), bound {bound * 1000:.0f} ms; "
            f"flood answers {dict(outcomes)}"
        )
        assert not [code for code in outcomes if code >= 500], outcomes
        assert outcomes[401] > 0, "no password was checked: the flood did not reach the gate"
        assert outcomes[429] > 0, "the gate never refused: the flood was not a flood"
        assert flooded <= bound
