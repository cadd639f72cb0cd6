"""API schemas of patients: enrolment, thresholds, transfers between teams, device tokens."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints, field_validator

from service.contacts import parse_phone
from service.nhs_number import is_valid_nhs_number, normalise_nhs_number
from service.schemas import Input

Cohort = Literal["new_diagnosis", "post_discharge", "medication_optimisation", "palliative"]
Sex = Literal["female", "male", "other", "unknown"]
# NHS Data Dictionary ethnic category codes (2001 census categories); Z not stated, 99 not known.
EthnicCategory = Literal[
    "A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "R", "S", "Z", "99"
]


def valid_nhs_number(value: str) -> str:
    value = normalise_nhs_number(value)
    if not is_valid_nhs_number(value):
        raise ValueError("not a valid NHS number (10 digits with a modulus 11 check digit)")
    return value


def valid_patient_name(value: str | None) -> str | None:
    if value is None:
        return None
    # One line of printable text: it is shown in pages and spoken on the phone.
    value = " ".join(value.split())
    if not value:
        raise ValueError("must not be blank")
    if any(not ch.isprintable() for ch in value):
        raise ValueError("must be printable text")
    return value


def valid_phone(value: str | None) -> str | None:
    return None if value is None else parse_phone(value).text


PatientName = Annotated[str, Field(max_length=200, description="As the team calls the patient.")]
PatientPhone = Annotated[
    str, Field(max_length=32, description="A UK number the team rings, e.g. 07700 900123.")
]


class Thresholds(Input):
    """Personal limits agreed with the patient; unset ones fall back to the pathway's."""

    target_weight_kg: Annotated[float, Field(ge=20, le=350)] | None = None
    systolic_red_below: Annotated[int, Field(ge=70, le=140)] | None = None
    systolic_amber_below: Annotated[int, Field(ge=70, le=160)] | None = None
    pulse_low_red: Annotated[int, Field(ge=25, le=60)] | None = None
    pulse_low_amber: Annotated[int, Field(ge=25, le=70)] | None = None
    pulse_high_amber: Annotated[int, Field(ge=80, le=180)] | None = None
    pulse_high_red: Annotated[int, Field(ge=80, le=200)] | None = None
    spo2_red_at_or_below: Annotated[float, Field(ge=85, le=100)] | None = None
    spo2_amber_at_or_below: Annotated[float, Field(ge=85, le=100)] | None = None


class PatientIn(Input):
    nhs_number: str
    name: PatientName | None = None
    phone: PatientPhone | None = None
    date_of_birth: date
    sex: Sex
    team_id: uuid.UUID
    cohort: Cohort
    ethnicity: EthnicCategory | None = None
    imd_quintile: Annotated[int, Field(ge=1, le=5)] | None = None
    hf_type: Literal["HFrEF", "HFmrEF", "HFpEF", "unknown"] | None = None
    enrolled_on: date | None = None
    expects_daily_weight: bool = True
    thresholds: Thresholds | None = None

    @field_validator("nhs_number")
    @classmethod
    def _nhs_number(cls, value: str) -> str:
        return valid_nhs_number(value)

    _name = field_validator("name")(valid_patient_name)
    _phone = field_validator("phone")(valid_phone)


class PatientPatch(Input):
    """A JSON Merge Patch (RFC 7396): a field left out is kept, ``null`` clears it (a threshold
    falls back to the pathway's; cohort, status and the plan cannot be cleared). Thresholds are
    merged one by one and the merged set is checked as a whole."""

    thresholds: Thresholds | None = None
    status: Literal["active", "paused"] | None = None
    cohort: Cohort | None = None
    expects_daily_weight: bool | None = None
    name: PatientName | None = None
    phone: PatientPhone | None = None
    # Optimistic concurrency: a stale edit is refused rather than overwriting a colleague's.
    version: int | None = None

    _name = field_validator("name")(valid_patient_name)
    _phone = field_validator("phone")(valid_phone)


class PatientOut(BaseModel):
    id: uuid.UUID
    nhs_number: str
    name: str | None = None
    phone: str | None = None
    date_of_birth: date
    sex: str
    team_id: uuid.UUID
    cohort: str
    ethnicity: str | None
    imd_quintile: int | None
    hf_type: str | None
    enrolled_on: date
    discharged_on: date | None
    status: str
    expects_daily_weight: bool
    thresholds: dict[str, Any]
    version: int
    discharge_reason: str | None = None
    in_hospital_since: date | None = Field(
        default=None,
        description="First day of the recorded hospital stay the patient is in: missed "
        "readings are not flagged meanwhile.",
    )
    died_on: date | None = Field(default=None, description="The recorded date of death.")


class DeviceTokenOut(BaseModel):
    id: uuid.UUID
    token: str = Field(description="Shown once: only its hash is stored.")
    patient_id: uuid.UUID


class TransferIn(Input):
    nhs_number: str
    to_team_id: uuid.UUID
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]

    @field_validator("nhs_number")
    @classmethod
    def _nhs_number(cls, value: str) -> str:
        return valid_nhs_number(value)


class TransferOut(BaseModel):
    patient_id: uuid.UUID
    from_team_id: uuid.UUID
    to_team_id: uuid.UUID
    moved_alerts: int = Field(description="Unresolved alerts that moved to the new team's queue")


ContactKind = Literal["call", "visit", "message"]


def plain_note(value: str | None) -> str | None:
    """A note as plain text: surrounding space dropped, a blank note is no note, and no control
    characters but line breaks and tabs (it is shown in pages and exported)."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if any(not (ch.isprintable() or ch in "\n\r\t") for ch in value):
        raise ValueError("must be plain text")
    return value


class ContactIn(Input):
    """A call, visit or message with the patient, and the minutes it took."""

    kind: ContactKind
    occurred_at: AwareDatetime = Field(
        description="When it happened, RFC 3339 with its offset; not in the future."
    )
    minutes: Annotated[int, Field(ge=0, le=1440, strict=True)] = Field(
        description="The staff minutes it took, 0 to 1440."
    )
    note: Annotated[str, StringConstraints(max_length=4000)] | None = None
    alert_id: uuid.UUID | None = Field(
        default=None, description="The patient's alert the contact was about, if any."
    )

    @field_validator("note")
    @classmethod
    def _plain(cls, value: str | None) -> str | None:
        return plain_note(value)


class ContactOut(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    kind: ContactKind
    occurred_at: datetime
    minutes: int
    note: str | None
    alert_id: uuid.UUID | None
    recorded_at: datetime
    recorded_by: uuid.UUID
