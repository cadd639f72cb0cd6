"""The shapes of access requests: asking, deciding, and a request as listed."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from service.schemas import Input

Kind = Literal["site_report", "value_framework"]
Words = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class AccessRequestIn(Input):
    kind: Kind = Field(description="site_report: one site's report; value_framework: one framework")
    target_id: uuid.UUID = Field(description="The site's id, or the value framework's")
    reason: Words = Field(description="Why the requester needs it, for whoever decides")


class ApproveIn(Input):
    note: Words
    expires_on: date | None = Field(
        default=None,
        description="Last day (Europe/London) the grant opens the report or framework; "
        "none: until withdrawn",
    )


class RefuseIn(Input):
    note: Words


class AccessRequestOut(BaseModel):
    id: uuid.UUID
    kind: Kind
    target_id: uuid.UUID
    target_name: str
    reason: str
    requested_by: uuid.UUID
    requested_by_name: str
    requested_at: datetime
    status: Literal["pending", "approved", "refused"]
    decided_by: uuid.UUID | None
    decided_by_name: str | None
    decided_at: datetime | None
    decision_note: str | None
    expires_at: datetime | None = Field(
        description="When an approved request's grant stops opening its target (null: never)"
    )
