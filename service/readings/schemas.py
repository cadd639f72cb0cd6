"""The readings' request and answer models. Inputs forbid unknown fields (``Input``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, Discriminator, Field, Tag

from service.schemas import Input


class FindingOut(BaseModel):
    """A finding of the pathway on the readings just posted. An alert's findings
    (``AlertFindingOut``) also say when each was observed."""

    rule_id: str
    level: str
    pathway_version: str
    title: str
    summary: str
    evidence: list[str]


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


class AdviceOut(BaseModel):
    level: Literal["red", "amber", "green"]
    code: str
    text: str


class IngestOut(BaseModel):
    stored: list[ReadingOut]
    already_stored: list[ReadingOut]
    findings: list[FindingOut]
    advice: AdviceOut
