"""Staff login (OAuth2 password flow) and sign-out; the limits live in ``login.py``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from service.deps import NowDep, Principal, SessionDep, SettingsDep, require
from service.identity.login import BUSY_RETRY_SECONDS, LoginBusy, LoginLocked, authenticate
from service.identity.security import issue_access_token, token_settings
from service.org.service import end_sessions
from service.problems import TooManyRequests, Unauthorized
from service.schemas import TokenOut

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post(
    "/token",
    response_model=TokenOut,
    summary="Staff login (anyone may call)",
    responses={
        401: {"description": "Wrong username or password"},
        429: {"description": "Locked, or too many logins at once: see Retry-After"},
    },
)
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> TokenOut:
    address = request.client.host if request.client else "unknown"
    try:
        user = authenticate(session, settings, address, form.username, form.password, now)
    except LoginLocked as exc:
        raise TooManyRequests(
            "Too many failed logins. Wait a few minutes and try again.",
            extra={"retry_after_seconds": settings.login_lockout_seconds},
        ) from exc
    except LoginBusy as exc:
        raise TooManyRequests(
            "Too many logins at once. Try again in a moment.",
            extra={"retry_after_seconds": BUSY_RETRY_SECONDS},
        ) from exc
    if user is None:
        # The failure must be counted even though the request fails.
        session.commit()
        raise Unauthorized("Wrong username or password.")
    token = issue_access_token(token_settings(settings), user.id, user.role, now)
    return TokenOut(access_token=token, expires_in=settings.access_token_minutes * 60)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Sign out everywhere: every token and page session issued until now stops working "
    "(any staff)",
)
def logout(
    session: SessionDep,
    principal: Annotated[
        Principal,
        Depends(require("clinician", "programme_lead", "admin", "site_admin", "site_lead")),
    ],
    now: NowDep,
) -> None:
    assert principal.user_id is not None
    end_sessions(session, principal.user_id, now)
