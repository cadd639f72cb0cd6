"""The eligible population of a site: loads of counts per equity group, from outside the service
(an ICS's population health management register). A load is never changed or replaced: the
reports of a month read the latest load dated on or before the month's end, so a month's uptake
can be worked out again as it was."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db.types import UTCDateTime
from service.models.base import Base, uuid_pk


class EligiblePopulationLoad(Base):
    """One load of a site's eligible population, dated by the register's own date."""

    __tablename__ = "eligible_population_loads"
    __table_args__ = (Index("ix_eligible_population_loads_site_id_as_of", "site_id", "as_of"),)
    id: Mapped[uuid.UUID] = uuid_pk()
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"))
    as_of: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(500))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    loaded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class EligiblePopulationCount(Base):
    """The eligible people of one equity group in a load: every group of every dimension."""

    __tablename__ = "eligible_population_counts"
    __table_args__ = (CheckConstraint("people >= 0", name="people_not_negative"),)
    load_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("eligible_population_loads.id"), primary_key=True
    )
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    grp: Mapped[str] = mapped_column(String(32), primary_key=True)
    people: Mapped[int] = mapped_column(Integer)
