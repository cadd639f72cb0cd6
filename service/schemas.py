"""API schemas (Pydantic). Inputs forbid unknown fields so nothing can be mass-assigned."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    field_validator,
)

from service.contacts import parse_contact, parse_phone
from service.nhs_number import is_valid_nhs_number, normalise_nhs_number

T = TypeVar("T")
Cohort = Literal["new_diagnosis", "post_discharge", "medication_optimisation", "palliative"]
Sex = Literal["female", "male", "other", "unknown"]
Role = Literal["clinician", "programme_lead", "admin", "site_admin"]
PatientStatus = Literal["active", "paused", "discharged"]
# NHS Data Dictionary ethnic category codes (2001 census categories); Z not stated, 99 not known.
EthnicCategory = Literal[
    "A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "R", "S", "Z", "99"
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# alerts.out_of_hours.SiteChoice, spelled out so OpenAPI lists the options.
OutOfHoursChoice = Literal[
    "queue_for_next_working_day", "out_of_hours_webhook", "urgent_community_response"
]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_max_length=10_000)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_bytes(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL, and no clinical text needs one.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
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


def valid_nhs_number(value: str) -> str:
    value = normalise_nhs_number(value)
    if not is_valid_nhs_number(value):
        raise ValueError("not a valid NHS number (10 digits with a modulus 11 check digit)")
    return value


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


# --- organisation -------------------------------------------------------------------------


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


class SettingChangeOut(BaseModel):
    """One change of one setting: who, when, the value before and after."""

    setting: str
    before: Any
    after: Any
    changed_by: uuid.UUID | None
    changed_by_name: str | None
    changed_at: datetime


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
        default=None, description="The site a site_admin manages; only for that role."
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


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


# --- patients ---------------------------------------------------------------------------


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


# --- readings ---------------------------------------------------------------------------


class _ReadingBase(Input):
    id: uuid.UUID = Field(description="Client-generated UUID: re-sending the same id is safe.")
    taken_at: AwareDatetime


class WeightIn(_ReadingBase):
    type: Literal["weight"]
    value: float
    unit: Literal["kg", "lb", "st"] = "kg"


class BloodPressureIn(_ReadingBase):
    type: Literal["blood_pressure"]
    systolic: int
    diastolic: int
    unit: Literal["mmHg"] = "mmHg"


class HeartRateIn(_ReadingBase):
    type: Literal["heart_rate"]
    value: float
    unit: Literal["/min", "bpm"] = "/min"


class Spo2In(_ReadingBase):
    type: Literal["spo2"]
    value: float
    unit: Literal["%"] = "%"


class SymptomAnswersIn(Input):
    breathlessness: Literal["none", "usual", "worse", "at_rest"]
    orthopnoea: bool
    ankle_swelling: Literal["none", "usual", "worse"]
    dizziness: bool
    chest_pain: bool
    fatigue: Literal["usual", "worse"]
    fainting: bool = False
    confusion: bool = False


class SymptomsIn(_ReadingBase):
    type: Literal["symptoms"]
    answers: SymptomAnswersIn


class LabIn(_ReadingBase):
    """Blood results entered by clinicians for titration safety checks."""

    type: Literal["potassium", "creatinine", "egfr"]
    value: float
    unit: Literal["mmol/L", "umol/L", "mL/min/1.73m2"]


ReadingIn = Annotated[
    WeightIn | BloodPressureIn | HeartRateIn | Spo2In | SymptomsIn | LabIn,
    Field(discriminator="type"),
]


class ReadingBatchIn(Input):
    readings: list[ReadingIn] = Field(min_length=1, max_length=500)


def _body_shape(value: Any) -> str:
    return "batch" if isinstance(value, dict) and "readings" in value else "single"


ReadingsBody = Annotated[
    Annotated[ReadingBatchIn, Tag("batch")] | Annotated[ReadingIn, Tag("single")],
    Discriminator(_body_shape),
]


class ReadingOut(BaseModel):
    id: uuid.UUID
    type: str
    taken_at: datetime
    received_at: datetime
    value: float | None = None
    unit: str | None = None
    systolic: int | None = None
    diastolic: int | None = None
    answers: dict[str, Any] | None = None
    value_as_sent: float | None = None
    unit_as_sent: str | None = None
    source: str
    in_hospital: bool = Field(
        default=False,
        description="Taken during a recorded hospital stay (derived from the admissions, so it "
        "follows their edits); monitoring is paused meanwhile.",
    )


class FindingOut(BaseModel):
    rule_id: str
    level: str
    pathway_version: str
    title: str
    summary: str
    evidence: list[str]


class AdviceOut(BaseModel):
    level: Literal["red", "amber", "green"]
    code: str
    text: str


class IngestOut(BaseModel):
    stored: list[ReadingOut]
    already_stored: list[ReadingOut]
    findings: list[FindingOut]
    advice: AdviceOut


# --- transfers between teams --------------------------------------------------------------


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
