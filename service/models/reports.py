"""Month-end report figures, frozen by the scheduler."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.db.types import JSONType, UTCDateTime
from service.models.base import Base, one_of, serial_pk

SNAPSHOT_SCOPES = ("network", "site", "team")


class ReportSnapshot(Base):
    """Month-end figures frozen by the scheduler, unsuppressed (disclosure is applied on read)."""

    __tablename__ = "report_snapshots"
    __table_args__ = (
        CheckConstraint(one_of("scope", SNAPSHOT_SCOPES), name="scope"),
        # The network row has no scope id; scope_key ("network" or the id) keeps it unique too.
        UniqueConstraint("month", "scope_key", "metric_id"),
    )
    id: Mapped[int] = serial_pk()
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


class EquitySnapshot(Base):
    """A closed month's figures for each site's equity groups, frozen with the site figures.

    The equity splits and the value frameworks' inequality outcomes read a year of these; live,
    each month would be a statement over the month's readings."""

    __tablename__ = "report_equity_snapshots"
    __table_args__ = (
        UniqueConstraint(
            "month",
            "dimension",
            "site_id",
            "grp",
            "metric_id",
            name="uq_report_equity_snapshots_cell",
        ),
    )
    id: Mapped[int] = serial_pk()
    month: Mapped[str] = mapped_column(String(7), index=True)
    dimension: Mapped[str] = mapped_column(String(16))
    site_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    grp: Mapped[str] = mapped_column(String(32))
    metric_id: Mapped[str] = mapped_column(String(64))
    numerator: Mapped[float | None] = mapped_column(Float, nullable=True)
    denominator: Mapped[float | None] = mapped_column(Float, nullable=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    n: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BeforeAfterSnapshot(Base):
    """A closed month's before-and-after sums of one site, frozen with the site figures (exact,
    undisclosed: ``service.reports.before_after.publish`` discloses them when read)."""

    __tablename__ = "report_before_after_snapshots"
    __table_args__ = (
        UniqueConstraint(
            "month", "window_months", "site_id", name="uq_report_before_after_snapshots_site"
        ),
    )
    id: Mapped[int] = serial_pk()
    month: Mapped[str] = mapped_column(String(7), index=True)
    window_months: Mapped[int] = mapped_column(Integer)
    site_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    patients: Mapped[int] = mapped_column(Integer)
    before_days: Mapped[int] = mapped_column(Integer)
    after_days: Mapped[int] = mapped_column(Integer)
    # Each outcome's events (or nights) in each window, by "<outcome>_<window>".
    outcomes: Mapped[dict[str, int]] = mapped_column(JSONType)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)


# A lessons note is plain text of at most this many characters (the API refuses longer).
LESSON_MAX_CHARS = 4000


class SiteLesson(Base):
    """What a site brings to the learning network's monthly meeting: its own note for a month,
    plain text, shown beside its results in the monthly pack. One per site and month; an
    emptied note is deleted."""

    __tablename__ = "site_lessons"
    __table_args__ = (CheckConstraint(f"length(text) <= {LESSON_MAX_CHARS}", name="text_length"),)
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True, index=True)
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
