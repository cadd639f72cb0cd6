"""Staff password login, shared by the API token endpoint and the pages.

Failures are counted per (username, address), per address and per account over the lockout
window, in one table for both doors, so switching between the API and the pages gains an
attacker nothing. The account-wide limit is high so that an attacker elsewhere cannot lock a
clinician out at will, and every lock lifts by itself when its window passes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from service.models import LoginAttempt, User
from service.security import verify_password
from service.settings import Settings

PAIR_LIMIT, ADDRESS_LIMIT, ACCOUNT_LIMIT = 5, 20, 50


class LoginLocked(Exception):
    pass


def authenticate(
    session: Session,
    settings: Settings,
    address: str,
    username: str,
    password: str,
    now: datetime,
) -> User | None:
    """The user for a correct password, else None (the failure is recorded; the caller's unit
    of work must commit it even though it answers with an error). Raises LoginLocked."""
    if "\x00" in username or "\x00" in password:
        # PostgreSQL text cannot hold NUL; no real username or password contains one.
        return None
    username = username.strip().lower()[:150]
    window_start = now - timedelta(seconds=settings.login_lockout_seconds)
    recent = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.attempted_at >= window_start)
    )
    pair = session.scalar(
        recent.where(LoginAttempt.username == username, LoginAttempt.address == address)
    )
    by_address = session.scalar(recent.where(LoginAttempt.address == address))
    by_account = session.scalar(recent.where(LoginAttempt.username == username))
    if (
        (pair or 0) >= PAIR_LIMIT
        or (by_address or 0) >= ADDRESS_LIMIT
        or (by_account or 0) >= ACCOUNT_LIMIT
    ):
        raise LoginLocked
    user = session.scalar(select(User).where(func.lower(User.username) == username))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        session.add(LoginAttempt(username=username, address=address, attempted_at=now))
        session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < window_start))
        return None
    return user
