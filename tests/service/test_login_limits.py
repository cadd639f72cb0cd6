"""Issue 18 finding 3: login limits hold under concurrency, and password checks are bounded."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from service.db import unit_of_work
from service.identity import login as login_module
from service.identity import security
from service.identity.login import ADDRESS_LIMIT, PAIR_LIMIT, LoginBusy, LoginLocked, hashing_gate
from service.models import LoginAttempt
from tests.support.clock import T0
from tests.support.signin import token_login

THREADS = 16


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password check made; each one slow enough for the others to catch up with it."""
    made: list[str] = []
    lock = threading.Lock()
    real = security.verify_password

    def counted(password_hash: str | None, password: str) -> bool:
        with lock:
            made.append(password)
        time.sleep(0.05)
        return real(password_hash, password)

    monkeypatch.setattr(login_module, "verify_password", counted)
    return made


def _at_once(app, settings, attempts: list[tuple[str, str]]) -> list[str]:
    """Each (address, username) tries a wrong password, all released together."""
    barrier = threading.Barrier(len(attempts))

    def attempt(address: str, username: str) -> str:
        barrier.wait()
        try:
            with unit_of_work(app.state.sessions) as session:
                user = login_module.authenticate(session, settings, address, username, "no", T0)
            return "ok" if user else "failed"
        except LoginLocked:
            return "locked"

    with ThreadPoolExecutor(len(attempts)) as pool:
        return list(pool.map(lambda a: attempt(*a), attempts))


@pytest.fixture
def roomy(settings):
    # Enough slots that the gate does not hide the race the limits must close themselves.
    return settings.model_copy(update={"login_hashing_slots": 64})


def test_concurrent_guesses_for_one_account_get_the_pair_limit_of_checks(app, world, roomy, checks):
    outcomes = _at_once(app, roomy, [("198.51.100.7", "clin_a1")] * THREADS)
    # Before: every thread read the same count before any recorded its failure (19 of 60).
    assert len(checks) == PAIR_LIMIT
    assert sorted(outcomes) == ["failed"] * PAIR_LIMIT + ["locked"] * (THREADS - PAIR_LIMIT)


def test_concurrent_guesses_from_one_address_get_the_address_limit_of_checks(
    app, world, roomy, checks
):
    attempts = [("198.51.100.8", f"user{i}") for i in range(ADDRESS_LIMIT + 6)]
    outcomes = _at_once(app, roomy, attempts)
    assert len(checks) == ADDRESS_LIMIT
    assert outcomes.count("locked") == 6


def test_a_correct_password_takes_its_attempt_back(client, world, app):
    for _ in range(PAIR_LIMIT - 1):
        assert token_login(client, "clin_a1", "guess").status_code == 401
    assert token_login(client, "clin_a1").status_code == 200
    with app.state.sessions() as s:
        assert s.scalar(select(func.count()).select_from(LoginAttempt)) == PAIR_LIMIT - 1


def test_a_full_gate_answers_429_with_retry_after_and_counts_nothing(client, world, app, settings):
    gate = hashing_gate(settings.login_hashing_slots)
    taken = 0
    while gate.try_enter():
        taken += 1
    try:
        busy = token_login(client, "clin_a1", "guess")
    finally:
        for _ in range(taken):
            gate.leave()
    assert taken == settings.login_hashing_slots
    assert busy.status_code == 429
    assert busy.headers["retry-after"] == "1"
    assert busy.headers["content-type"] == "application/problem+json"
    with app.state.sessions() as s:
        assert s.scalar(select(func.count()).select_from(LoginAttempt)) == 0
    assert token_login(client, "clin_a1").status_code == 200


def test_a_locked_pair_says_when_to_retry(client, world, settings):
    for _ in range(PAIR_LIMIT):
        token_login(client, "clin_a1", "guess")
    locked = token_login(client, "clin_a1")
    assert locked.status_code == 429
    assert locked.headers["retry-after"] == str(settings.login_lockout_seconds)


def test_the_gate_refuses_rather_than_queues(settings, app):
    gate = hashing_gate(settings.login_hashing_slots)
    for _ in range(settings.login_hashing_slots):
        assert gate.try_enter()
    try:
        with unit_of_work(app.state.sessions) as session, pytest.raises(LoginBusy):
            login_module.authenticate(session, settings, "198.51.100.9", "x", "y", T0)
    finally:
        for _ in range(settings.login_hashing_slots):
            gate.leave()


def test_under_contention_a_slot_rests_before_it_reopens():
    gate = login_module.HashingGate(1)
    assert gate.try_enter() and not gate.try_enter()
    gate.leave(rest=0.2)
    assert not gate.try_enter()  # resting: the check's CPU time is given back first
    deadline = time.monotonic() + 10
    while not gate.try_enter():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    gate.leave()
