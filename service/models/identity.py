"""Who may call: the patients' app's device tokens, and failed staff logins for rate limiting.

A staff member's page sessions and bearer tokens are not stored; ``User.sessions_valid_after``
(``org.py``) revokes them.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db.types import UTCDateTime
from service.models.base import Base, serial_pk, uuid_pk


class DeviceToken(Base):
    __tablename__ = "device_tokens"
    id: Mapped[uuid.UUID] = uuid_pk()
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    # SHA-256 of a 256-bit random token: unguessable, so a fast hash is enough to look it up.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The per-device rate limit's fixed window (service.identity.device_limit).
    window_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    window_requests: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class LoginAttempt(Base):
    """Failed logins, for rate limiting per account and per address."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_attempted_at", "username", "attempted_at"),
        Index("ix_login_attempts_address_attempted_at", "address", "attempted_at"),
    )
    id: Mapped[int] = serial_pk()
    username: Mapped[str] = mapped_column(String(150))
    address: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
