"""Staff login (OAuth2 password flow) with rate limiting per account and per address."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import delete, func, select

from service.deps import NowDep, SessionDep, SettingsDep
from service.models import LoginAttempt, User
from service.problems import TooManyRequests, Unauthorized
from service.schemas import TokenOut
from service.security import issue_access_token, token_settings, verify_password

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

# Failures that lock a (username, address) pair, an address, or an account from anywhere. The
# account-wide limit is high so that an attacker elsewhere cannot lock a clinician out at will,
# and every lock lifts by itself when its window passes.
PAIR_LIMIT, ADDRESS_LIMIT, ACCOUNT_LIMIT = 5, 20, 50


@router.post(
    "/token",
    response_model=TokenOut,
    summary="Staff login (anyone may call)",
    responses={401: {"description": "Wrong username or password"}, 429: {"description": "Locked"}},
)
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> TokenOut:
    if "\x00" in form.username or "\x00" in form.password:
        raise Unauthorized("Wrong username or password.")
    address = request.client.host if request.client else "unknown"
    username = form.username.strip().lower()[:150]
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
        raise TooManyRequests(
            "Too many failed logins. Wait a few minutes and try again.",
            extra={"retry_after_seconds": settings.login_lockout_seconds},
        )
    user = session.scalar(select(User).where(func.lower(User.username) == username))
    ok = verify_password(user.password_hash if user else None, form.password)
    if not ok or user is None or not user.is_active:
        session.add(LoginAttempt(username=username, address=address, attempted_at=now))
        # Old rows are only useful inside the window.
        session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < window_start))
        session.commit()
        raise Unauthorized("Wrong username or password.")
    token = issue_access_token(token_settings(settings), user.id, user.role, now)
    return TokenOut(access_token=token, expires_in=settings.access_token_minutes * 60)
