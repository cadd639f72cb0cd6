"""Staff sessions for the pages: a signed cookie, CSRF tokens tied to it, and login throttling.

The cookie holds only who is signed in, a random session nonce and the times: it is signed with
HMAC-SHA256 under a key derived from the service secret (so it can never be confused with an
access token signed by the same secret). Nothing in it is trusted beyond the user id: the user is
loaded on every request, refused if no longer active, and their teams are read afresh, exactly as
``service.deps`` does for bearer tokens.

CSRF uses the synchronizer-token pattern: each form carries an HMAC of the session nonce, and
every POST is refused unless it matches. Logging in starts a new nonce, so a token seen before
login (or a fixated cookie) is useless afterwards.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.deps import Principal
from service.identity.principal import revoked
from service.models import User, UserTeam
from service.settings import Settings

COOKIE_NAME = "mhf_ui_session"
COOKIE_PATH = "/ui"
# One shift: a signed-in page left open overnight asks for the password again in the morning.
SESSION_LIFETIME = timedelta(hours=8)
# A login form left open this long must be reloaded before it is sent.
ANONYMOUS_LIFETIME = timedelta(hours=2)
CSRF_FIELD = "csrf_token"
_VERSION = 1


def _key(settings: Settings, purpose: bytes) -> bytes:
    return hmac.new(settings.secret_key.encode(), b"mhf-ui:" + purpose, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class SessionData:
    user_id: uuid.UUID | None
    nonce: str
    issued_at: datetime
    expires_at: datetime

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None


def new_session(user_id: uuid.UUID | None, now: datetime) -> SessionData:
    lifetime = SESSION_LIFETIME if user_id is not None else ANONYMOUS_LIFETIME
    return SessionData(user_id, secrets.token_urlsafe(18), now, now + lifetime)


def encode(settings: Settings, data: SessionData) -> str:
    payload = json.dumps(
        {
            "v": _VERSION,
            "u": str(data.user_id) if data.user_id else None,
            "n": data.nonce,
            # Milliseconds: a sign-out revokes sessions issued before it, not one issued after.
            "iat": round(data.issued_at.timestamp(), 3),
            "exp": int(data.expires_at.timestamp()),
        },
        separators=(",", ":"),
    ).encode()
    body = _b64(payload)
    mac = hmac.new(_key(settings, b"session"), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def decode(settings: Settings, value: str | None, now: datetime) -> SessionData | None:
    """The session in a cookie, or None if it is missing, forged, malformed or expired."""
    if not value or value.count(".") != 1 or len(value) > 1024:
        return None
    body, mac = value.split(".")
    expected = hmac.new(_key(settings, b"session"), body.encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(_unb64(mac), expected):
            return None
        raw: dict[str, Any] = json.loads(_unb64(body))
        if raw.get("v") != _VERSION:
            return None
        issued = datetime.fromtimestamp(float(raw["iat"]), tz=now.tzinfo)
        expires = datetime.fromtimestamp(int(raw["exp"]), tz=now.tzinfo)
        user_id = uuid.UUID(raw["u"]) if raw.get("u") else None
        nonce = str(raw["n"])
    except (ValueError, KeyError, TypeError):
        return None
    if expires <= now or issued > now + timedelta(minutes=1):
        return None
    return SessionData(user_id, nonce, issued, expires)


def read(request: Request) -> SessionData | None:
    settings: Settings = request.app.state.settings
    return decode(settings, request.cookies.get(COOKIE_NAME), request.app.state.clock())


def set_cookie(request: Request, response: Response, data: SessionData) -> None:
    settings: Settings = request.app.state.settings
    max_age = int((data.expires_at - data.issued_at).total_seconds())
    response.set_cookie(
        COOKIE_NAME,
        encode(settings, data),
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        secure=settings.secure_cookies or request.url.scheme == "https",
        samesite="lax",
    )


def clear_cookie(request: Request, response: Response) -> None:
    settings: Settings = request.app.state.settings
    response.delete_cookie(
        COOKIE_NAME,
        path=COOKIE_PATH,
        httponly=True,
        secure=settings.secure_cookies or request.url.scheme == "https",
        samesite="lax",
    )


def csrf_token(request: Request, data: SessionData) -> str:
    settings: Settings = request.app.state.settings
    return hmac.new(_key(settings, b"csrf"), data.nonce.encode(), hashlib.sha256).hexdigest()


def csrf_ok(request: Request, data: SessionData | None, token: str | None) -> bool:
    if data is None or not token:
        return False
    return hmac.compare_digest(csrf_token(request, data), token)


# --- who is signed in -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageUser:
    principal: Principal
    username: str
    display_name: str
    session: SessionData

    @property
    def role(self) -> str:
        return self.principal.role


def load_user(session: Session, data: SessionData) -> PageUser | None:
    """The signed-in user, checked afresh (active, role, teams) as ``service.deps`` does."""
    if data.user_id is None:
        return None
    user = session.get(User, data.user_id)
    if user is None or not user.is_active:
        return None
    # Signing out ends every session issued before it, including copies of the cookie.
    if revoked(user.sessions_valid_after, data.issued_at.timestamp()):
        return None
    team_ids = frozenset(
        session.scalars(select(UserTeam.team_id).where(UserTeam.user_id == user.id)).all()
    )
    principal = Principal(role=user.role, user_id=user.id, team_ids=team_ids, site_id=user.site_id)
    return PageUser(principal, user.username, user.display_name or user.username, data)


# --- login, with the API's throttling ---------------------------------------------------------


def safe_next(value: str | None, default: str) -> str:
    """Only a path inside the pages: never another host (open redirect)."""
    if (
        value
        and value.startswith("/ui")
        and not value.startswith("//")
        and "\\" not in value
        and "//" not in value
        and all(31 < ord(ch) < 127 for ch in value)
    ):
        return value
    return default
