"""ORM tables. API schemas live in ``schemas.py`` and domain values in ``pathway``/``alerts``."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from service.db.types import JSONType, UTCDateTime, UuidList

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class Site(Base):
    __tablename__ = "sites"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
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
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    escalation_contact: Mapped[str | None] = mapped_column(String(320), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('clinician','programme_lead','admin','site_admin')", name="role"),
        # A site admin manages exactly one site; no one else is tied to a site this way.
        CheckConstraint("(role = 'site_admin') = (site_id IS NOT NULL)", name="site_admin_site"),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The site a site admin manages (users.role = 'site_admin'); null for every other role.
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
        Index(
            "uq_patients_active_nhs_number",
            "nhs_number",
            unique=True,
            sqlite_where=text("status <> 'discharged'"),
            postgresql_where=text("status <> 'discharged'"),
        ),
        Index("ix_patients_team_id_status", "team_id", "status"),
        # Reports read the patients on the pathway in a month: not discharged, or discharged on
        # or after its first day.
        Index("ix_patients_discharged_on", "discharged_on"),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
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


class SettingChange(Base):
    """A change to a patient's thresholds or a site's settings: who, when, before and after
    (append-only), so a setting never changes without a trace of what it was."""

    __tablename__ = "setting_changes"
    __table_args__ = (
        CheckConstraint("subject IN ('patient','site')", name="subject"),
        Index("ix_setting_changes_subject_id_changed_at", "subject_id", "changed_at"),
    )
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    subject: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    setting: Mapped[str] = mapped_column(String(64))
    before: Mapped[Any] = mapped_column(JSONType, nullable=True)
    after: Mapped[Any] = mapped_column(JSONType, nullable=True)
    changed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeviceToken(Base):
    __tablename__ = "device_tokens"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    # SHA-256 of a 256-bit random token: unguessable, so a fast hash is enough to look it up.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Reading(Base):
    """Every kind of home reading in one table.

    One table because the pathway evaluates a patient's recent readings of *every* type together
    (weight with symptoms, pulse with dizziness): one index range scan on (patient_id, taken_at)
    fetches the whole window, and adherence is one grouped scan. Type-specific columns are
    nullable, and CHECK constraints keep each type's columns filled.
    """

    __tablename__ = "readings"
    __table_args__ = (
        CheckConstraint(
            "type IN ('weight','blood_pressure','heart_rate','spo2','symptoms',"
            "'potassium','creatinine','egfr')",
            name="type",
        ),
        CheckConstraint(
            "(type = 'blood_pressure' AND systolic IS NOT NULL AND diastolic IS NOT NULL)"
            " OR (type = 'symptoms' AND answers IS NOT NULL)"
            " OR (type NOT IN ('blood_pressure','symptoms') AND value IS NOT NULL)",
            name="typed_values",
        ),
        Index("ix_readings_patient_id_taken_at", "patient_id", "taken_at"),
    )
    # The client's id is the idempotency key; scoped to the patient so that one patient can
    # never learn anything about another's readings from a clash.
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    systolic: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    diastolic: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    answers: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    value_as_sent: Mapped[float | None] = mapped_column(Float, nullable=True)
    unit_as_sent: Mapped[str | None] = mapped_column(String(16), nullable=True)
    source: Mapped[str] = mapped_column(String(16))
    entered_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # What the patient was told when this reading was accepted, so a re-send answers the same.
    advice: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)


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
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
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
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rows: Mapped[int] = mapped_column(BigInteger)
    head_seq: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64))


class LoginAttempt(Base):
    """Failed logins, for rate limiting per account and per address."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_attempted_at", "username", "attempted_at"),
        Index("ix_login_attempts_address_attempted_at", "address", "attempted_at"),
    )
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    username: Mapped[str] = mapped_column(String(150))
    address: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Alert(Base):
    """An alert raised by a pathway rule for one patient; its lifecycle lives in ``alerts``."""

    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint("severity IN ('red','amber')", name="severity"),
        CheckConstraint("status IN ('open','acknowledged','resolved')", name="status"),
        # One unresolved alert per patient and rule group (a rule's amber and red bands are one
        # group): the database, not a read-then-write, keeps it.
        Index(
            "uq_alerts_open_patient_group",
            "patient_id",
            "alert_group",
            unique=True,
            sqlite_where=text("status <> 'resolved'"),
            postgresql_where=text("status <> 'resolved'"),
        ),
        # An episode (e.g. one gap in readings) raises one alert, even after it is resolved.
        Index(
            "uq_alerts_patient_group_episode",
            "patient_id",
            "alert_group",
            "episode_key",
            unique=True,
            sqlite_where=text("episode_key IS NOT NULL"),
            postgresql_where=text("episode_key IS NOT NULL"),
        ),
        # The queue: a team's unresolved alerts, red first, then oldest.
        Index(
            "ix_alerts_queue",
            "team_id",
            text("severity_rank DESC"),
            "raised_at",
            "id",
            sqlite_where=text("status <> 'resolved'"),
            postgresql_where=text("status <> 'resolved'"),
        ),
        # The same order over every alert, for the resolved history (status=resolved), which the
        # partial index above cannot serve.
        Index("ix_alerts_team_order", "team_id", text("severity_rank DESC"), "raised_at", "id"),
        Index("ix_alerts_patient_id_raised_at", "patient_id", "raised_at"),
        # Reports read the alerts raised or resolved in a month.
        Index("ix_alerts_raised_at", "raised_at"),
        Index("ix_alerts_resolved_at", "resolved_at"),
        Index(
            "ix_alerts_due_at_unescalated",
            "due_at",
            postgresql_where=text("status <> 'resolved' AND escalated_at IS NULL"),
            sqlite_where=text("status <> 'resolved' AND escalated_at IS NULL"),
        ),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
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
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    # Set when the alert became red outside the team's working hours: what the site's setting
    # did with it (``alerts.out_of_hours.Handling``); NULL in hours and for amber. Kept even if
    # the site changes its setting later, so the report says what happened at the time.
    out_of_hours_handling: Mapped[str | None] = mapped_column(String(32), nullable=True)


class AlertFinding(Base):
    """Each pathway finding that raised or fed an alert, with the readings behind it."""

    __tablename__ = "alert_findings"
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
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
    __table_args__ = (UniqueConstraint("alert_id", "version"),)
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
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


class Webhook(Base):
    __tablename__ = "webhooks"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
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
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
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
        Index(
            "ix_webhook_deliveries_pending",
            "next_attempt_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
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


class JobRun(Base):
    """The last run of each scheduled job, for operators and for the once-only tests."""

    __tablename__ = "job_runs"
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    job: Mapped[str] = mapped_column(String(64), index=True)
    runner: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
