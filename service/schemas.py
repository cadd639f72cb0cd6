"""API schemas shared by the rooms: the base of every input (unknown fields are refused, so
nothing can be mass-assigned), the page of a list, a setting's history. Each room keeps its own
shapes in its ``schemas.py`` (``service/org``, ``service/patients``, ``service/alerting``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
)

T = TypeVar("T")


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_max_length=10_000)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_bytes(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL, and no clinical text needs one.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class SettingChangeOut(BaseModel):
    """One change of one setting: who, when, the value before and after."""

    setting: str
    before: Any
    after: Any
    changed_by: uuid.UUID | None
    changed_by_name: str | None
    changed_at: datetime


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


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
