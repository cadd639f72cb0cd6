"""Passwords, staff bearer tokens and patient device tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from service.settings import Settings

# argon2-cffi's default type is Argon2id with RFC 9106's low-memory profile.
_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps the response time the same, so
# usernames cannot be discovered by timing the login endpoint.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

JWT_ALGORITHM = "HS256"
DEVICE_TOKEN_PREFIX = "mhfd_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True, slots=True)
class TokenSettings:
    secret: str
    issuer: str
    audience: str
    lifetime: timedelta


def issue_access_token(
    settings: TokenSettings, user_id: uuid.UUID, role: str, now: datetime
) -> str:
    claims = {
        "sub": str(user_id),
        "role": role,
        "iss": settings.issuer,
        "aud": settings.audience,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + settings.lifetime).timestamp()),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, settings.secret, algorithm=JWT_ALGORITHM)


class InvalidToken(Exception):
    pass


def decode_access_token(settings: TokenSettings, token: str, now: datetime) -> dict[str, object]:
    try:
        # One fixed algorithm: a token that names another (none, RS256 with our secret as a
        # public key) is refused before its signature is looked at. Expiry is checked below
        # against the service's clock rather than PyJWT's, so tests can control time.
        claims: dict[str, object] = jwt.decode(
            token,
            settings.secret,
            algorithms=[JWT_ALGORITHM],
            audience=settings.audience,
            issuer=settings.issuer,
            options={
                "require": ["exp", "iss", "aud", "sub", "iat"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    stamp = now.timestamp()
    exp, nbf = claims.get("exp"), claims.get("nbf", 0)
    if not isinstance(exp, int | float) or not isinstance(nbf, int | float):
        raise InvalidToken("malformed time claims")
    # 30 s of leeway for clock skew between replicas.
    if exp <= stamp - 30 or nbf > stamp + 30:
        raise InvalidToken("token expired or not yet valid")
    return claims


def new_device_token() -> str:
    return DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_device_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_settings(settings: Settings) -> TokenSettings:
    return TokenSettings(
        secret=settings.secret_key,
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        lifetime=timedelta(minutes=settings.access_token_minutes),
    )
