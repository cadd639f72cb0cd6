"""Staff password login, shared by the API token endpoint and the pages.

Failures are counted per (username, address), per address and per account over the lockout
window, in one table for both doors, so switching between the API and the pages gains an
attacker nothing. The account-wide limit is high so that an attacker elsewhere cannot lock a
clinician out at will, and every lock lifts by itself when its window passes.

Each attempt is counted and recorded in one step before its password is checked (issue 18):
the count and the insert it allows run under a lock on the username and the address
(``serialize_on``) and commit at once, so concurrent guesses cannot all read the same count and
all pass. A correct password takes its attempt back; only failures are left counted. The check
itself (argon2, slow by design) runs outside any transaction and behind a small per-process
gate: when the gate is full the caller is told to retry (``LoginBusy``), so a flood of logins
cannot take every worker thread, CPU and database connection from the clinicians' pages.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import and_, delete, func, insert, literal, or_, select
from sqlalchemy.orm import Session

from service.db import serialize_on
from service.identity.security import verify_password
from service.models import LoginAttempt, User
from service.settings import Settings

PAIR_LIMIT, ADDRESS_LIMIT, ACCOUNT_LIMIT = 5, 20, 50
BUSY_RETRY_SECONDS = 1


class LoginLocked(Exception):
    pass


class LoginBusy(Exception):
    """Every password-checking slot of this process is taken; retry in a moment."""


class HashingGate:
    """A few slots for password checks in this process; a full gate refuses, never queues.

    Under a flood (a caller was refused while a check ran) the slot rests as long as the check
    took before it reopens: checks then use at most half the time of their slots, and the CPU
    they leave is the clinicians'. Without contention a slot reopens at once.
    """

    def __init__(self, slots: int) -> None:
        self._slots = threading.BoundedSemaphore(slots)
        self.refused = 0

    def try_enter(self) -> bool:
        if self._slots.acquire(blocking=False):
            return True
        self.refused += 1  # a racy count is fine: it only says "there was contention"
        return False

    def leave(self, rest: float = 0.0) -> None:
        if rest <= 0:
            self._slots.release()
            return
        timer = threading.Timer(rest, self._slots.release)
        timer.daemon = True
        timer.start()


@lru_cache
def hashing_gate(slots: int) -> HashingGate:
    """The process's gate for password checks (one per configured size)."""
    return HashingGate(slots)


def authenticate(
    session: Session,
    settings: Settings,
    address: str,
    username: str,
    password: str,
    now: datetime,
) -> User | None:
    """The user for a correct password, else None (the failure is already committed). Raises
    LoginLocked, or LoginBusy when the process is checking as many passwords as it may."""
    if "\x00" in username or "\x00" in password:
        # PostgreSQL text cannot hold NUL; no real username or password contains one.
        return None
    username = username.strip().lower()[:150]
    gate = hashing_gate(settings.login_hashing_slots)
    if not gate.try_enter():
        raise LoginBusy
    refused, rest = gate.refused, 0.0
    try:
        attempt = _record_attempt(session, settings, address, username, now)
        user = session.scalar(select(User).where(func.lower(User.username) == username))
        # Commit the attempt and end the transaction before the slow check: no lock, row lock
        # or pooled connection is held while argon2 runs.
        session.commit()
        started = time.monotonic()
        ok = verify_password(user.password_hash if user else None, password)
        if gate.refused != refused:
            rest = time.monotonic() - started
    finally:
        gate.leave(rest)
    if not ok or user is None or not user.is_active:
        return None
    session.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt))
    return user


def _record_attempt(
    session: Session, settings: Settings, address: str, username: str, now: datetime
) -> int:
    """Count the recent attempts and record this one, atomically; raises LoginLocked (and
    records nothing) when a limit is reached."""
    window_start = now - timedelta(seconds=settings.login_lockout_seconds)
    serialize_on(session, f"login-user:{username}", f"login-address:{address}")
    session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < window_start))
    recent = and_(
        LoginAttempt.attempted_at >= window_start,
        or_(LoginAttempt.username == username, LoginAttempt.address == address),
    )
    pair = func.count().filter(
        and_(LoginAttempt.username == username, LoginAttempt.address == address)
    )
    by_address = func.count().filter(LoginAttempt.address == address)
    by_account = func.count().filter(LoginAttempt.username == username)
    counts = (
        select(pair.label("pair"), by_address.label("address"), by_account.label("account"))
        .where(recent)
        .subquery()
    )
    allowed = (
        select(literal(username), literal(address), literal(now, LoginAttempt.attempted_at.type))
        .select_from(counts)
        .where(
            counts.c.pair < PAIR_LIMIT,
            counts.c.address < ADDRESS_LIMIT,
            counts.c.account < ACCOUNT_LIMIT,
        )
    )
    attempt = session.scalar(
        insert(LoginAttempt)
        .from_select(["username", "address", "attempted_at"], allowed)
        .returning(LoginAttempt.id)
    )
    if attempt is None:
        session.commit()
        raise LoginLocked
    return int(attempt)
