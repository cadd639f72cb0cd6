"""Alerts and their findings and history; the outbox and the webhooks it is delivered to."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.db.types import JSONType, UTCDateTime
from service.models.base import Base, partial_index, serial_pk, uuid_pk


class Alert(Base):
    """An alert raised by a pathway rule for one patient; its lifecycle lives in ``alerts``."""

    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint("severity IN ('red','amber')", name="severity"),
        CheckConstraint("status IN ('open','acknowledged','resolved')", name="status"),
        CheckConstraint("minutes_spent BETWEEN 0 AND 1440", name="minutes_spent"),
        # One unresolved alert per patient and rule group (a rule's amber and red bands are one
        # group): the database, not a read-then-write, keeps it.
        partial_index(
            "uq_alerts_open_patient_group",
            "patient_id",
            "alert_group",
            unique=True,
            where="status <> 'resolved'",
        ),
        # An episode (e.g. one gap in readings) raises one alert, even after it is resolved.
        partial_index(
            "uq_alerts_patient_group_episode",
            "patient_id",
            "alert_group",
            "episode_key",
            unique=True,
            where="episode_key IS NOT NULL",
        ),
        # The queue: a team's unresolved alerts, red first, then oldest. The queue's totals
        # (red, amber, overdue over the whole filter) read status, due time and assignee from the
        # index itself: counting a team's 600 unresolved alerts visited 600 table rows (3.4 ms).
        partial_index(
            "ix_alerts_queue",
            "team_id",
            text("severity_rank DESC"),
            "raised_at",
            "id",
            where="status <> 'resolved'",
            include=("status", "due_at", "assignee_id"),
        ),
        # The same order over every alert, for the resolved history (status=resolved), which the
        # partial index above cannot serve.
        Index("ix_alerts_team_order", "team_id", text("severity_rank DESC"), "raised_at", "id"),
        Index("ix_alerts_patient_id_raised_at", "patient_id", "raised_at"),
        # Reports read the alerts raised or resolved in a month.
        Index("ix_alerts_raised_at", "raised_at"),
        Index("ix_alerts_resolved_at", "resolved_at"),
        partial_index(
            "ix_alerts_due_at_unescalated",
            "due_at",
            where="status <> 'resolved' AND escalated_at IS NULL",
        ),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id"))
    # The rule whose finding set the alert's current severity.
    rule_id: Mapped[str] = mapped_column(String(64))
    alert_group: Mapped[str] = mapped_column(String(64))
    # 'task': work the team owes (a post-discharge review), in the same queue as the alerts
    # but not counted as one by the reports; 'alert' otherwise (set only by the service).
    kind: Mapped[str] = mapped_column(String(8), default="alert", server_default="alert")
    severity: Mapped[str] = mapped_column(String(8))
    severity_rank: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(16))
    pathway_version: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(String(500))
    episode_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    first_action_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When the alert last rose in severity (amber to red): the queue's "became red at", and the
    # instant its due time was counted from. NULL for an alert raised at its severity.
    severity_raised_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    # Set when the alert became red outside the team's working hours: what the site's setting
    # did with it (``alerts.out_of_hours.Handling``); NULL in hours and for amber. Kept even if
    # the site changes its setting later, so the report says what happened at the time.
    out_of_hours_handling: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # What the resolving clinician said all the work on the alert took (the reports cost staff
    # time from it); NULL while unresolved, when they did not say, and for the service's closes.
    minutes_spent: Mapped[int | None] = mapped_column(Integer, nullable=True)


class AlertFinding(Base):
    """Each pathway finding that raised or fed an alert, with the readings behind it."""

    __tablename__ = "alert_findings"
    id: Mapped[int] = serial_pk()
    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alerts.id"), index=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(8))
    pathway_version: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(String(500))
    evidence: Mapped[list[str]] = mapped_column(JSONType)
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AlertEventRow(Base):
    """The alert's history: every move with who and when (append-only)."""

    __tablename__ = "alert_events"
    __table_args__ = (
        UniqueConstraint("alert_id", "version"),
        CheckConstraint("minutes_spent BETWEEN 0 AND 1440", name="minutes_spent"),
    )
    id: Mapped[int] = serial_pk()
    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alerts.id"))
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(8))
    previous_severity: Mapped[str | None] = mapped_column(String(8), nullable=True)
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    evidence: Mapped[list[str] | None] = mapped_column(JSONType, nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A resolve's minutes, so the history says who said how long.
    minutes_spent: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Webhook(Base):
    __tablename__ = "webhooks"
    id: Mapped[uuid.UUID] = uuid_pk()
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    # Signing needs the secret itself, not a hash of it: kept Fernet-encrypted with a key from
    # settings (service.alerting.secrets), never in the clear.
    secret: Mapped[str] = mapped_column(String(500))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # "team": the team's own tooling, sent every alert event; "out_of_hours": a service outside
    # the team that a site names for red alerts raised out of hours, sent only those.
    purpose: Mapped[str] = mapped_column(String(16), default="team", server_default="team")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class OutboxEvent(Base):
    """A notification event written in the same transaction as the change that caused it."""

    __tablename__ = "outbox_events"
    id: Mapped[uuid.UUID] = uuid_pk()
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id"), index=True)
    alert_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("alerts.id"), nullable=True)
    event_type: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebhookDelivery(Base):
    """One event to one endpoint: retried until delivered or given up, never deleted."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "webhook_id"),
        CheckConstraint("status IN ('pending','delivered','failed')", name="status"),
        partial_index(
            "ix_webhook_deliveries_pending",
            "next_attempt_at",
            where="status = 'pending'",
        ),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outbox_events.id"))
    webhook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhooks.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
