"""The organisation: sites, their teams, and the staff who work in them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db.types import JSONType, UTCDateTime
from service.models.base import Base, uuid_pk


class Site(Base):
    __tablename__ = "sites"
    id: Mapped[uuid.UUID] = uuid_pk()
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Site-level pathway overrides (thresholds, response times), validated by the pathway.
    pathway_overrides: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    # Working hours and response times for alert due times (alerts.sla.ResponsePolicy fields).
    response_policy: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("site_id", "name"),)
    id: Mapped[uuid.UUID] = uuid_pk()
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    escalation_contact: Mapped[str | None] = mapped_column(String(320), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('clinician','programme_lead','admin','site_admin','site_lead')", name="role"
        ),
        # A site admin manages exactly one site and a site lead stewards exactly one; no one
        # else is tied to a site this way.
        CheckConstraint(
            "(role IN ('site_admin','site_lead')) = (site_id IS NOT NULL)", name="site_admin_site"
        ),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    username: Mapped[str] = mapped_column(String(150), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The site a site admin manages or a site lead stewards; null for every other role.
    site_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("sites.id"), nullable=True, index=True
    )
    # Page sessions and bearer tokens issued before this are refused: set when the user signs
    # out or is deactivated.
    sessions_valid_after: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UserTeam(Base):
    __tablename__ = "user_teams"
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id"), primary_key=True, index=True)
