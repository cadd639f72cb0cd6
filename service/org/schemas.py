"""API schemas of the organisation: sites and their settings, teams, staff users."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from service.contacts import parse_contact
from service.schemas import Input, SettingChangeOut

Role = Literal["clinician", "programme_lead", "admin", "site_admin", "site_lead"]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# alerts.out_of_hours.SiteChoice, spelled out so OpenAPI lists the options.
OutOfHoursChoice = Literal[
    "queue_for_next_working_day", "out_of_hours_webhook", "urgent_community_response"
]


class SiteIn(Input):
    name: Name
    code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{2,32}$")]


class ResponsePolicyIn(Input):
    """When alerts are due: the site's working hours and response times (Europe/London)."""

    opens_at: Annotated[str, StringConstraints(pattern=r"^\d{2}:\d{2}$")] | None = None
    closes_at: Annotated[str, StringConstraints(pattern=r"^\d{2}:\d{2}$")] | None = None
    red_cutoff: Annotated[str, StringConstraints(pattern=r"^\d{2}:\d{2}$")] | None = None
    working_days: list[Annotated[int, Field(ge=0, le=6)]] | None = Field(default=None, max_length=7)
    holidays: list[date] | None = Field(
        default=None,
        max_length=400,
        description="The site's own closures, on top of England and Wales bank holidays.",
    )
    bank_holidays: bool | None = Field(
        default=None,
        description="Whether England and Wales bank holidays are days off (default true); "
        "false for a team that works them.",
    )
    out_of_hours_contact: Annotated[str, StringConstraints(min_length=3, max_length=80)] | None = (
        Field(
            default=None,
            description="Who a patient calls when they feel worse before the team can call, "
            "e.g. 'the Derby urgent care line on 01332 000000' (default NHS 111).",
        )
    )
    red_within_minutes: Annotated[int, Field(ge=15, le=8 * 60)] | None = None
    amber_working_days: Annotated[int, Field(ge=1, le=3)] | None = None
    out_of_hours_handling: OutOfHoursChoice | None = Field(
        default=None,
        description="What happens to a red alert raised outside working hours. Every option "
        "keeps it in the team's queue, due by the calendar; 'out_of_hours_webhook' and "
        "'urgent_community_response' also send it, signed, to out_of_hours_webhook_id. "
        "Default 'queue_for_next_working_day'.",
    )
    out_of_hours_webhook_id: uuid.UUID | None = Field(
        default=None,
        description="The active webhook with purpose 'out_of_hours', registered under a team "
        "of this site, that takes red alerts raised out of hours (needed by the handovers).",
    )


class SitePatch(Input):
    """A JSON Merge Patch (RFC 7396) of a site's settings: a member left out is kept, ``null``
    removes it, an object is merged member by member; the result is validated as a whole."""

    name: Name | None = Field(default=None, description="The site's name (cannot be cleared).")
    pathway_overrides: dict[str, Any] | None = None
    response_policy: ResponsePolicyIn | None = None


class SiteOut(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    pathway_overrides: dict[str, Any] | None = None
    response_policy: dict[str, Any] | None = None


class SiteDetailOut(SiteOut):
    history: list[SettingChangeOut] = Field(description="Changes of the settings, newest first.")


EscalationContact = Annotated[
    str,
    AfterValidator(lambda v: parse_contact(v).text),
    Field(
        description="Who the nurse calls when an alert is escalated: a UK telephone number "
        "(01332 000000, +44 1332 000000) or an https:// address.",
        examples=["01332 000000"],
    ),
]


class TeamIn(Input):
    name: Name
    escalation_contact: EscalationContact | None = None


class TeamPatch(Input):
    name: Name | None = None
    escalation_contact: EscalationContact | None = None


class TeamOut(BaseModel):
    id: uuid.UUID
    site_id: uuid.UUID
    name: str
    escalation_contact: str | None


class UserIn(Input):
    username: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.@-]{3,150}$")]
    password: Annotated[str, StringConstraints(min_length=12, max_length=256)]
    role: Role
    team_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)
    display_name: Name | None = None
    site_id: uuid.UUID | None = Field(
        default=None,
        description="The site a site_admin manages or a site_lead stewards; only for those roles.",
    )


class PasswordIn(Input):
    password: Annotated[str, StringConstraints(min_length=12, max_length=256)]


class UserOut(BaseModel):
    id: uuid.UUID
    username: str
    role: str
    display_name: str | None
    team_ids: list[uuid.UUID]
    site_id: uuid.UUID | None = None
    is_active: bool = True
