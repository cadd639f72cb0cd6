"""API schemas for alerts, webhooks and deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, Field, StringConstraints

from alerts import MINUTES_MAX
from service.schemas import Input

OutcomeName = Literal[
    "advice_given",
    "diuretic_adjusted",
    "medication_titrated",
    "seen_in_person",
    "referred",
    "admitted",
    "no_action_needed",
    "patient_unreachable",
]
OutOfHoursHandling = Literal[
    "queue_for_next_working_day",
    "out_of_hours_webhook",
    "urgent_community_response",
    "handover_unavailable",
]
VersionField = Annotated[
    int | None,
    Field(
        default=None,
        description="The alert version you saw; a move on a changed alert is refused with 409.",
    ),
]


class MoveIn(Input):
    version: VersionField = None


class AssignIn(MoveIn):
    user_id: uuid.UUID


class NoteIn(MoveIn):
    text: Annotated[str, StringConstraints(min_length=1, max_length=4000)]


MinutesField = Annotated[int, Field(ge=0, le=MINUTES_MAX, strict=True)]


class ResolveIn(MoveIn):
    outcome: OutcomeName
    note: Annotated[str, StringConstraints(max_length=4000)] | None = None
    minutes: MinutesField | None = Field(
        default=None,
        description="The minutes all the work on the alert took (0 to 1440), as the clinician "
        "says; kept on the alert and in its resolved event, and costed by the reports.",
    )


class AlertFindingOut(BaseModel):
    """A finding as the alert keeps it: the finding ingest answered with, and when it was
    observed."""

    rule_id: str
    level: str
    pathway_version: str
    title: str
    summary: str
    evidence: list[str] = Field(description="Ids of the readings behind the finding")
    observed_at: datetime


class PatientSummary(BaseModel):
    id: uuid.UUID
    nhs_number: str
    age: int
    cohort: str


class AlertOut(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    team_id: uuid.UUID
    patient: PatientSummary
    rule_id: str
    severity: str
    status: str
    title: str
    summary: str
    pathway_version: str
    raised_at: datetime
    due_at: datetime
    overdue: bool
    acknowledged_at: datetime | None
    first_action_at: datetime | None
    escalated_at: datetime | None
    resolved_at: datetime | None
    severity_raised_at: datetime | None = Field(
        description="When the alert last rose in severity (amber to red), from which its due "
        "time was counted; null if it was raised at its severity."
    )
    assignee_id: uuid.UUID | None
    outcome: str | None
    version: int
    out_of_hours_handling: OutOfHoursHandling | None = Field(
        description="Set when the alert became red outside the team's working hours: what the "
        "site's setting did with it (handed to an out-of-hours service, or queued for the next "
        "working day); null in hours."
    )
    minutes_spent: int | None = Field(
        default=None,
        description="The minutes the resolving clinician said the work took; null if not said.",
    )
    findings: list[AlertFindingOut]


class AlertEventOut(BaseModel):
    kind: str
    at: datetime
    actor_id: uuid.UUID | None
    version: int
    from_status: str | None
    to_status: str
    severity: str
    previous_severity: str | None
    assignee_id: uuid.UUID | None
    note: str | None
    outcome: str | None
    evidence: list[str] | None
    minutes_spent: int | None = None


class HandoverOut(BaseModel):
    """The delivery of a red alert raised out of hours to the site's out-of-hours service."""

    webhook_id: uuid.UUID
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    delivered_at: datetime | None
    last_error: str | None


class AlertDetailOut(AlertOut):
    events: list[AlertEventOut]
    out_of_hours_handover: HandoverOut | None = None


class QueueTotals(BaseModel):
    """The whole filter's counts, not the page's: what every page of the queue shows."""

    red: int
    amber: int
    overdue: int = Field(description="Past their due time now and not resolved")
    all: int


class AlertPage(BaseModel):
    items: list[AlertOut]
    next_cursor: str | None = None
    totals: QueueTotals = Field(description="Counts over every page of the same filter")


WebhookPurpose = Literal["team", "out_of_hours"]


class WebhookIn(Input):
    url: AnyHttpUrl
    secret: Annotated[str, StringConstraints(min_length=16, max_length=200)]
    purpose: WebhookPurpose = Field(
        default="team",
        description="'team': the team's own tooling, sent every alert event. 'out_of_hours': "
        "a service outside the team (out-of-hours GP, urgent community response) that a site "
        "names in its response policy; sent only the red alerts raised out of hours.",
    )


class WebhookOut(BaseModel):
    id: uuid.UUID
    team_id: uuid.UUID
    url: str
    is_active: bool
    purpose: str
    created_at: datetime
    pending: int
    delivered: int
    failed: int


class DeliveryOut(BaseModel):
    id: uuid.UUID
    webhook_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    alert_id: uuid.UUID | None
    status: str
    attempts: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
