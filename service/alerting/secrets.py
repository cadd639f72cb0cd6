"""Webhook signing secrets at rest: Fernet-encrypted with a key from settings, never the DB.

Signing needs the secret itself, so it cannot be hashed; a copy of the database (a backup, a
read replica, a leaked dump) must still not let anyone forge the team's notifications.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken

from service.settings import Settings, derived_key

__all__ = ["SecretBox", "UnreadableSecret"]


class UnreadableSecret(ValueError):
    """A stored secret the configured key cannot decrypt (the key changed, or it was altered)."""


class SecretBox:
    def __init__(self, key: str | bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        if settings.webhook_secret_key:
            return cls(settings.webhook_secret_key)
        return cls(base64.urlsafe_b64encode(derived_key(settings, "mhf-webhook-secrets")))

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode("ascii")

    def open(self, stored: str) -> str:
        try:
            return self._fernet.decrypt(stored.encode("ascii")).decode()
        except (InvalidToken, UnicodeError) as exc:
            raise UnreadableSecret("the webhook secret cannot be decrypted") from exc
