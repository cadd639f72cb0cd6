"""The trails: staff access to patient data (hash-chained, with signed checkpoints), and every
change of a patient's thresholds or a site's settings (``service.changes``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from service.db.types import JSONType, UTCDateTime, UuidList
from service.models.base import Base, serial_pk


class AuditEvent(Base):
    """Append-only record of staff access to patient data, modelled on FHIR AuditEvent.

    Each row carries the hash of the previous row, so deleting or editing a row breaks the chain.
    A record names one patient (``patient_id``) or, for a read of several at once (a page of a
    list), all of them (``patient_ids``, covered by the hash like every other field).
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_patient_id_recorded_at", "patient_id", "recorded_at"),
        Index("ix_audit_events_actor_id_recorded_at", "actor_id", "recorded_at"),
        # "Who viewed P" among the lists. One row and a GIN entry per patient, appended to the
        # index's pending list: a page of 50 as 50 rows of their own, each with two B-tree
        # entries on random pages, had cost a sixth of the queue page and most of its tail.
        # The pending list goes into the index every 4 MB (about 2,500 pages of 50; flushing
        # 1,238 records' lists took 8 ms on the bench database), or when autovacuum gets there.
        # SQLite has no such index and scans the lists (its deployments are small).
        Index("ix_audit_events_patient_ids", "patient_ids", postgresql_using="gin").ddl_if(
            dialect="postgresql"
        ),
    )
    seq: Mapped[int] = serial_pk()
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    actor_role: Mapped[str] = mapped_column(String(32))
    patient_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    patient_ids: Mapped[list[uuid.UUID] | None] = mapped_column(UuidList, nullable=True)
    action: Mapped[str] = mapped_column(String(8))  # C R U D E, as FHIR AuditEvent.action
    route: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(8))
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """A signed note of the audit trail's length and head (service.audit.checkpoint).

    The hash chain shows a row edited or removed from the middle, but not rows cut from the
    end; a checkpoint signed with a key kept outside the database does.
    """

    __tablename__ = "audit_checkpoints"
    id: Mapped[int] = serial_pk()
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rows: Mapped[int] = mapped_column(BigInteger)
    head_seq: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64))


class SettingChange(Base):
    """A change to a patient's thresholds or a site's settings: who, when, before and after
    (append-only), so a setting never changes without a trace of what it was."""

    __tablename__ = "setting_changes"
    __table_args__ = (
        CheckConstraint("subject IN ('patient','site')", name="subject"),
        Index("ix_setting_changes_subject_id_changed_at", "subject_id", "changed_at"),
    )
    id: Mapped[int] = serial_pk()
    subject: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    setting: Mapped[str] = mapped_column(String(64))
    before: Mapped[Any] = mapped_column(JSONType, nullable=True)
    after: Mapped[Any] = mapped_column(JSONType, nullable=True)
    changed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
