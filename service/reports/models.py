"""Tables the reports need: outcomes recorded by teams, and frozen month-end figures.

Dates that a clinician records (admission, attendance, death, medicine change, KCCQ) are
calendar dates in Europe/London, stored as ``DATE``: the clinician knows the day, not the instant.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.db.types import UTCDateTime
from service.models import Base, Reading, new_id
from service.reports.sqlfuncs import reading_local_date

EVENT_KINDS = ("admission", "ae_attendance", "death")
PILLARS = ("acei_arb_arni", "beta_blocker", "mra", "sglt2i")
MEDICATION_STATUSES = ("started", "stopped", "not_tolerated", "contraindicated")
KCCQ_TIMEPOINTS = ("start", "discharge", "other")
DISCHARGE_REASONS = ("stable_optimised", "admitted", "died", "withdrew", "other")
SNAPSHOT_SCOPES = ("network", "site", "team")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ",".join(f"'{v}'" for v in values) + ")"


class PatientEvent(Base):
    """An admission, A&E attendance or death, recorded by the patient's team."""

    __tablename__ = "patient_events"
    __table_args__ = (
        CheckConstraint(_in("kind", EVENT_KINDS), name="kind"),
        # Only admissions have a heart-failure flag and a discharge date (for bed days).
        CheckConstraint(
            "(kind = 'admission' AND hf_related IS NOT NULL)"
            " OR (kind <> 'admission' AND hf_related IS NULL AND discharged_on IS NULL)",
            name="admission_fields",
        ),
        CheckConstraint("discharged_on IS NULL OR discharged_on >= occurred_on", name="stay"),
        Index("ix_patient_events_patient_id_occurred_on", "patient_id", "occurred_on"),
        Index("ix_patient_events_occurred_on", "occurred_on"),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    kind: Mapped[str] = mapped_column(String(16))
    # Admission date, attendance date or date of death.
    occurred_on: Mapped[date] = mapped_column(Date)
    discharged_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    hf_related: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    emergency: Mapped[bool] = mapped_column(Boolean, default=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class MedicationChange(Base):
    """One change in one of the four heart-failure pillars; the latest by date is the state."""

    __tablename__ = "medication_changes"
    __table_args__ = (
        CheckConstraint(_in("pillar", PILLARS), name="pillar"),
        CheckConstraint(_in("status", MEDICATION_STATUSES), name="status"),
        # "At target" only means something for a medicine the patient is taking.
        CheckConstraint(
            "at_target_or_max_tolerated = false OR status = 'started'", name="target_needs_started"
        ),
        Index(
            "ix_medication_changes_patient_id_pillar_changed_on",
            "patient_id",
            "pillar",
            "changed_on",
        ),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    pillar: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    at_target_or_max_tolerated: Mapped[bool] = mapped_column(Boolean, default=False)
    drug: Mapped[str | None] = mapped_column(String(100), nullable=True)
    changed_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class KccqScore(Base):
    """A KCCQ-12 overall summary score. The instrument is licensed: scores only, no questions."""

    __tablename__ = "kccq_scores"
    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 100", name="score"),
        CheckConstraint(_in("timepoint", KCCQ_TIMEPOINTS), name="timepoint"),
        Index("ix_kccq_scores_patient_id_assessed_on", "patient_id", "assessed_on"),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    score: Mapped[float] = mapped_column(Float)
    timepoint: Mapped[str] = mapped_column(String(16))
    assessed_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class ReportSnapshot(Base):
    """Month-end figures frozen by the scheduler, unsuppressed (disclosure is applied on read)."""

    __tablename__ = "report_snapshots"
    __table_args__ = (
        CheckConstraint(_in("scope", SNAPSHOT_SCOPES), name="scope"),
        # The network row has no scope id; scope_key ("network" or the id) keeps it unique too.
        UniqueConstraint("month", "scope_key", "metric_id"),
    )
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    month: Mapped[str] = mapped_column(String(7), index=True)
    scope: Mapped[str] = mapped_column(String(8))
    scope_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    scope_key: Mapped[str] = mapped_column(String(36))
    metric_id: Mapped[str] = mapped_column(String(64))
    numerator: Mapped[float | None] = mapped_column(Float, nullable=True)
    denominator: Mapped[float | None] = mapped_column(Float, nullable=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    # How many people (or alerts, admissions) the figure rests on: medians of 1-7 are suppressed.
    n: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)


# The Europe/London calendar date of each reading, generated by the database from taken_at: a
# reading day is a London day, and converting millions of instants per report was most of its
# time. Generated, so every writer (the ingest path, bulk loads, psql) gets it without a line of
# code. Added to the readings table here, next to the report that needs it, and left unmapped: the
# ORM never reads it back after an insert, and autogenerate still sees it as part of the schema.
READING_LOCAL_DATE = Column(
    "local_date", Date, Computed(reading_local_date(), persisted=True), nullable=False
)
READINGS_TABLE: Table = Reading.__table__  # type: ignore[assignment]
READINGS_TABLE.append_column(READING_LOCAL_DATE)

# Adherence counts each patient's London days with a weight inside the patient's days of the
# month: one short index-only range scan per patient in the caseload.
READINGS_WEIGHT_INDEX = Index(
    "ix_readings_weight_local_date",
    READINGS_TABLE.c.patient_id,
    READING_LOCAL_DATE,
    sqlite_where=text("type = 'weight'"),
    postgresql_where=text("type = 'weight'"),
)
