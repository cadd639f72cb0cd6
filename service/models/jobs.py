"""The scheduler's record of its jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from service.db.types import JSONType, UTCDateTime
from service.models.base import Base, serial_pk


class JobRun(Base):
    """The last run of each scheduled job, for operators and for the once-only tests."""

    __tablename__ = "job_runs"
    id: Mapped[int] = serial_pk()
    job: Mapped[str] = mapped_column(String(64), index=True)
    runner: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
