"""Stewardship: a site's unit costs, value frameworks and their versions, the interventions of a
framework's STAR register and the what-if scenarios computed from them.

A framework's versions keep each agreed spec whole (``spec``, the API's shape as JSON), so a
month's dashboard can show the version in force then; ``value_framework_sites`` mirrors the
current version's scope so "the frameworks a clinician may see" is one SQL join.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db.types import JSONType, UTCDateTime
from service.models.base import Base, one_of, uuid_pk
from service.stewardship.costs import COST_KEYS

SOURCINGS = ("measured", "entered")


class SiteUnitCost(Base):
    """A site's own figure for one unit cost; a cost without a row is the national default."""

    __tablename__ = "site_unit_costs"
    __table_args__ = (
        CheckConstraint(one_of("key", COST_KEYS), name="key"),
        CheckConstraint("gbp >= 0", name="gbp_not_negative"),
    )
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    gbp: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class ValueFramework(Base):
    __tablename__ = "value_frameworks"
    id: Mapped[uuid.UUID] = uuid_pk()
    current_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class ValueFrameworkVersion(Base):
    """One agreed version of a framework, never changed once written."""

    __tablename__ = "value_framework_versions"
    framework_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("value_frameworks.id"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class ValueFrameworkSite(Base):
    """A site in the current version's scope; a network framework has none."""

    __tablename__ = "value_framework_sites"
    framework_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("value_frameworks.id"), primary_key=True
    )
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"), primary_key=True, index=True)


class Intervention(Base):
    """One line of a framework's STAR register: what is done, how much a year, at what cost,
    and the QALYs it buys per person where the evidence gives them."""

    __tablename__ = "interventions"
    __table_args__ = (
        CheckConstraint(one_of("sourcing", SOURCINGS), name="sourcing"),
        CheckConstraint(
            "yearly_activity IS NULL OR yearly_activity >= 0", name="activity_not_negative"
        ),
        CheckConstraint("sourcing = 'measured' OR yearly_activity IS NOT NULL", name="activity"),
        CheckConstraint("sourcing <> 'measured' OR measured_metric IS NOT NULL", name="measured"),
        CheckConstraint("unit_cost_gbp >= 0", name="unit_cost_not_negative"),
        CheckConstraint(
            "people_per_year IS NULL OR people_per_year >= 0", name="people_not_negative"
        ),
        CheckConstraint("qaly_per_person IS NULL OR qaly_source IS NOT NULL", name="qaly_source"),
    )
    id: Mapped[uuid.UUID] = uuid_pk()
    framework_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("value_frameworks.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # Entered activity; null for a measured intervention, whose activity is read from reports.
    yearly_activity: Mapped[float | None] = mapped_column(Float, nullable=True)
    activity_unit: Mapped[str] = mapped_column(String(32))
    unit_cost_gbp: Mapped[float] = mapped_column(Float)
    people_per_year: Mapped[float | None] = mapped_column(Float, nullable=True)
    qaly_per_person: Mapped[float | None] = mapped_column(Float, nullable=True)
    qaly_source: Mapped[str | None] = mapped_column(String(500), nullable=True)
    sourcing: Mapped[str] = mapped_column(String(8))
    measured_metric: Mapped[str | None] = mapped_column(String(64), nullable=True)
    note: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StarScenario(Base):
    """A what-if computed once and kept with its inputs, so packs and dashboards can show it."""

    __tablename__ = "star_scenarios"
    id: Mapped[uuid.UUID] = uuid_pk()
    framework_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("value_frameworks.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    framework_version: Mapped[int] = mapped_column(Integer)
    changes: Mapped[list[Any]] = mapped_column(JSONType)
    result: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
