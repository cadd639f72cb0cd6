"""Typed settings, read once at start-up from the environment (prefix ``MHF_``)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "dev"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MHF_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///var/mhf.db"
    secret_key: str = ""
    # Where a development secret is kept so tokens survive a restart of `make run`.
    secret_key_file: Path = Path("var/secret_key")
    token_issuer: str = "mhf-home"
    token_audience: str = "mhf-home-api"
    access_token_minutes: int = Field(default=30, ge=1, le=24 * 60)
    max_body_bytes: int = 1024 * 1024
    max_batch_readings: int = 500
    # A reading stamped slightly ahead is clock skew on the phone, not a forged future reading.
    future_skew_seconds: int = 300
    # Requests a patient's device may make per window (429 with Retry-After beyond): a looping
    # app is told to slow down. Generous, since a batch carries up to 500 readings: a phone
    # back after a month offline sends its backlog in a few requests, and even one reading
    # per request clears weeks of five a day within one window.
    device_rate_limit: int = Field(default=300, ge=1)
    device_rate_window_seconds: int = Field(default=60, ge=1, le=3600)
    log_level: str = "INFO"
    login_max_failures: int = 5
    login_lockout_seconds: int = 300
    # Where clients reach the service (scheme, host and any path prefix): links the service
    # writes (FHIR Location, Bundle links) are built on it, never on the request's Host header.
    public_base_url: str = "http://localhost:8000"
    # Host headers accepted in production, besides public_base_url's own host.
    allowed_hosts: list[str] = Field(default_factory=list)
    # /docs and /openapi.json: on by default except in production, where they are off unless
    # this is set (the document maps every route an attacker could try).
    api_docs: bool | None = None
    # Password checks at once per process: argon2 is slow by design, so a login flood would
    # otherwise take every worker thread and CPU from the clinicians' pages.
    login_hashing_slots: int = Field(default=1, ge=1, le=64)
    # A refused login (429) is answered this late, so a client looping on refusals sends a
    # request a second instead of hundreds (service/middleware.py).
    login_refusal_delay_seconds: float = Field(default=1.0, ge=0, le=10)
    # Webhooks go over https only; plain http is for a receiver on a developer's machine or in
    # tests, and production refuses it.
    webhook_allow_http: bool = False
    # Host names or networks (CIDR) of internal receivers an operator trusts; everything else
    # must resolve to public addresses (service/alerting/egress.py).
    webhook_allowed_hosts: list[str] = Field(default_factory=list)
    # Fernet key (urlsafe base64 of 32 bytes) for webhook secrets at rest. Empty: derived from
    # the secret key, so a deployment has one secret to keep; set it to rotate them apart.
    webhook_secret_key: str = ""
    # The key of the audit trail's signed checkpoints. Empty: derived from the secret key.
    # Either way it is never in the database, so whoever can rewrite the trail cannot re-sign.
    audit_checkpoint_key: str = ""

    @model_validator(mode="after")
    def _secret_must_be_real(self) -> Settings:
        if self.environment == "production":
            if self.secret_key in PLACEHOLDER_SECRETS or len(self.secret_key) < 32:
                raise ValueError("MHF_SECRET_KEY must be set to a random value of >= 32 characters")
            if urlsplit(self.public_base_url).scheme != "https":
                raise ValueError("MHF_PUBLIC_BASE_URL must be the service's https:// address")
            if self.webhook_allow_http:
                raise ValueError("MHF_WEBHOOK_ALLOW_HTTP is for development and tests only")
        elif not self.secret_key:
            self.secret_key = _development_secret(self.secret_key_file)
        parts = urlsplit(self.public_base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
            raise ValueError("MHF_PUBLIC_BASE_URL must be an http(s) address without a query")
        self.public_base_url = self.public_base_url.rstrip("/")
        return self

    @property
    def docs_enabled(self) -> bool:
        return self.api_docs if self.api_docs is not None else self.environment != "production"

    @property
    def trusted_hosts(self) -> list[str] | None:
        """The Host headers production accepts; None (any) elsewhere."""
        if self.environment != "production":
            return None
        host = urlsplit(self.public_base_url).hostname
        return list(dict.fromkeys([*([host] if host else []), *self.allowed_hosts]))

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over https when the service is reached over https (behind the TLS proxy
        the app itself may see plain http)."""
        return self.public_base_url.startswith("https://")


def _development_secret(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    value = secrets.token_urlsafe(48)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value)
        path.chmod(0o600)
    except OSError:
        # A read-only working directory still gets a working (per-process) secret.
        pass
    return value


def derived_key(settings: Settings, purpose: str) -> bytes:
    """32 bytes for one purpose, from the secret key: keys for different jobs never coincide."""
    return hmac.new(settings.secret_key.encode(), purpose.encode(), hashlib.sha256).digest()


@lru_cache
def get_settings() -> Settings:
    return Settings()
