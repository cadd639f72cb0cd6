"""Access asked for and given: a member of staff asks to read one site's report or one value
framework outside their reach, an admin or programme lead decides, and an approval is a grant
that the read paths check (``service.access_requests``)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from service.db.types import UTCDateTime
from service.models.base import Base, one_of, uuid_pk

ACCESS_KINDS = ("site_report", "value_framework")
ACCESS_STATUSES = ("pending", "approved", "refused")


class AccessRequest(Base):
    __tablename__ = "access_requests"
    __table_args__ = (
        CheckConstraint(one_of("kind", ACCESS_KINDS), name="kind"),
        CheckConstraint(one_of("status", ACCESS_STATUSES), name="status"),
        # A decision names who made it and when; a pending request has neither.
        CheckConstraint(
            "(status = 'pending') = (decided_at IS NULL)", name="decided_when_not_pending"
        ),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    kind: Mapped[str] = mapped_column(String(32))
    # A site's id (site_report) or a value framework's (value_framework): no foreign key, as it
    # points at one of two tables; the use case checks it exists.
    target_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    reason: Mapped[str] = mapped_column(String(1000))
    requested_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decision_note: Mapped[str | None] = mapped_column(String(1000), nullable=True)


class AccessGrant(Base):
    """Read access to one report or framework for one user, from an approved request; until
    ``expires_at`` (exclusive) if set."""

    __tablename__ = "access_grants"
    __table_args__ = (
        CheckConstraint(one_of("kind", ACCESS_KINDS), name="kind"),
        Index("ix_access_grants_user_id_kind_target_id", "user_id", "kind", "target_id"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("access_requests.id"), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    granted_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
