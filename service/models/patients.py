"""Patients on the pathway, and what their team records about them: admissions, A&E
attendances and deaths, changes of heart-failure medicines, KCCQ-12 scores.

Dates that a clinician records (admission, attendance, death, medicine change, KCCQ) are
calendar dates in Europe/London, stored as ``DATE``: the clinician knows the day, not the instant.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.db.types import JSONType, UTCDateTime
from service.models.base import Base, one_of, partial_index, uuid_pk

EVENT_KINDS = ("admission", "ae_attendance", "death")
PILLARS = ("acei_arb_arni", "beta_blocker", "mra", "sglt2i")
MEDICATION_STATUSES = ("started", "stopped", "not_tolerated", "contraindicated")
KCCQ_TIMEPOINTS = ("start", "discharge", "other")
DISCHARGE_REASONS = ("stable_optimised", "admitted", "died", "withdrew", "other")
CONTACT_KINDS = ("call", "visit", "message")


class Patient(Base):
    __tablename__ = "patients"
    __table_args__ = (
        CheckConstraint(
            "cohort IN ('new_diagnosis','post_discharge','medication_optimisation','palliative')",
            name="cohort",
        ),
        CheckConstraint("status IN ('active','paused','discharged')", name="status"),
        CheckConstraint("sex IN ('female','male','other','unknown')", name="sex"),
        CheckConstraint("imd_quintile BETWEEN 1 AND 5", name="imd_quintile"),
        # One active enrolment per NHS number; a discharged patient may be enrolled again.
        partial_index(
            "uq_patients_active_nhs_number",
            "nhs_number",
            unique=True,
            where="status <> 'discharged'",
        ),
        Index("ix_patients_team_id_status", "team_id", "status"),
        # Reports read the patients on the pathway in a month: not discharged, or discharged on
        # or after its first day.
        Index("ix_patients_discharged_on", "discharged_on"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    nhs_number: Mapped[str] = mapped_column(String(10), index=True)
    # How the team knows and rings the patient. Optional: a record enrolled by NHS number alone
    # stays valid. Never logged (the engine hides statement parameters from error messages).
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    date_of_birth: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id"))
    cohort: Mapped[str] = mapped_column(String(32))
    ethnicity: Mapped[str | None] = mapped_column(String(2), nullable=True)
    imd_quintile: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    hf_type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    enrolled_on: Mapped[date] = mapped_column(Date)
    discharged_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    discharge_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    expects_daily_weight: Mapped[bool] = mapped_column(Boolean, default=True)
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # Derived from the recorded events (service.patients.state), in the transaction that
    # records, edits or deletes one: the first day of the hospital stay the patient is in (the
    # scheduler does not judge missed readings meanwhile), and the recorded date of death.
    in_hospital_since: Mapped[date | None] = mapped_column(Date, nullable=True)
    died_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class PatientEvent(Base):
    """An admission, A&E attendance or death, recorded by the patient's team."""

    __tablename__ = "patient_events"
    __table_args__ = (
        CheckConstraint(one_of("kind", EVENT_KINDS), name="kind"),
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
    id: Mapped[uuid.UUID] = uuid_pk()
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
    """One change in one of the four heart-failure pillars; the latest by date is the state.

    The titration rules read these on every reading of a patient on titration
    (``service.readings.evaluation``), and the reports count the pillars at target."""

    __tablename__ = "medication_changes"
    __table_args__ = (
        CheckConstraint(one_of("pillar", PILLARS), name="pillar"),
        CheckConstraint(one_of("status", MEDICATION_STATUSES), name="status"),
        # "At target" only means something for a medicine the patient is taking.
        CheckConstraint(
            "at_target_or_max_tolerated = false OR status = 'started'", name="target_needs_started"
        ),
        # A dose is a value with its unit, or not recorded at all.
        CheckConstraint("(dose_value IS NULL) = (dose_unit IS NULL)", name="dose_with_unit"),
        CheckConstraint("dose_value IS NULL OR dose_value > 0", name="dose_positive"),
        Index(
            "ix_medication_changes_patient_id_pillar_changed_on",
            "patient_id",
            "pillar",
            "changed_on",
        ),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    pillar: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    at_target_or_max_tolerated: Mapped[bool] = mapped_column(Boolean, default=False)
    drug: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # The dm+d concept (VTM, VMP or AMP) when the clinician recorded one; the free-text drug
    # stays what they wrote. Checked in the schema (service.coding.dmd), not by the database.
    dmd_code: Mapped[str | None] = mapped_column(String(18), nullable=True)
    dose_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    dose_unit: Mapped[str | None] = mapped_column(String(16), nullable=True)  # coding.dose
    changed_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class KccqScore(Base):
    """A KCCQ-12 overall summary score. The instrument is licensed: scores only, no questions."""

    __tablename__ = "kccq_scores"
    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 100", name="score"),
        CheckConstraint(one_of("timepoint", KCCQ_TIMEPOINTS), name="timepoint"),
        Index("ix_kccq_scores_patient_id_assessed_on", "patient_id", "assessed_on"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    score: Mapped[float] = mapped_column(Float)
    timepoint: Mapped[str] = mapped_column(String(16))
    assessed_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class PatientContact(Base):
    """A call, visit or message between the team and the patient, with the minutes it took:
    with the minutes on resolved alerts, the staff time the reports cost.

    ``occurred_at`` is an instant, not a date: a team records contacts as they happen, and a
    month's report counts them by London month from it."""

    __tablename__ = "patient_contacts"
    __table_args__ = (
        CheckConstraint(one_of("kind", CONTACT_KINDS), name="kind"),
        CheckConstraint("minutes BETWEEN 0 AND 1440", name="minutes"),
        Index("ix_patient_contacts_patient_id_occurred_at", "patient_id", "occurred_at"),
        Index("ix_patient_contacts_occurred_at", "occurred_at"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    minutes: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The alert the contact was about, if any (an alert of the same patient).
    alert_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("alerts.id"), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
