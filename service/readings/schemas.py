"""The readings' request and answer models. Inputs forbid unknown fields (``Input``)."""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Discriminator, Field, Tag

from service.readings.units import LIMITS, WEIGHT_TO_KG
from service.schemas import Input

LAB_UNITS = {"potassium": "mmol/L", "creatinine": "umol/L", "egfr": "mL/min/1.73m2"}


def plausible(*names: str, unit: str, by: dict[str, tuple[str, str]] | None = None) -> Any:
    """The OpenAPI bounds of a numeric field, from the plausibility limits the service checks
    (``units.LIMITS``, the one source of the numbers): ``minimum``, ``maximum`` and the unit
    (``x-unit``). A field whose unit or limits depend on another member (a weight's unit, a
    lab's type) gets the envelope of them all and each in ``x-plausible-by``; the service
    answers ``out_of_range`` outside them. Documentation only: the schema does not enforce
    them, so a typo gets the same error whichever check finds it."""
    low = min(LIMITS[name][0] for name in names)
    high = max(LIMITS[name][1] for name in names)
    extra: dict[str, Any] = {"minimum": low, "maximum": high, "x-unit": unit}
    if by:
        extra["x-plausible-by"] = {
            key: {"minimum": LIMITS[name][0], "maximum": LIMITS[name][1], "x-unit": u}
            for key, (name, u) in by.items()
        }
    return extra


def _weight_bounds() -> dict[str, Any]:
    low, high = LIMITS["weight"]
    # In each unit, rounded outwards to 0.01 so no plausible weight falls outside.
    lows = {unit: math.floor(low / kg * 100) / 100 for unit, kg in WEIGHT_TO_KG.items()}
    highs = {unit: math.ceil(high / kg * 100) / 100 for unit, kg in WEIGHT_TO_KG.items()}
    by_unit = {
        unit: {"minimum": lows[unit], "maximum": highs[unit], "x-unit": unit} for unit in lows
    }
    return {
        "minimum": min(lows.values()),
        "maximum": max(highs.values()),
        "x-unit": "the reading's unit (kg, lb or st); stored and answered in kg",
        "x-plausible-by": by_unit,
    }


# An example of each reading type, for the OpenAPI document (``contract.py``).
EXAMPLES: dict[str, dict[str, Any]] = {}


def _example(**fields: Any) -> ConfigDict:
    base = {"id": "7d0e9a52-3c1b-4b7e-9a55-0f5b8f2f6a10", "taken_at": "2026-11-20T07:45:00+00:00"}
    EXAMPLES[fields["type"]] = base | fields
    return ConfigDict(json_schema_extra={"examples": [base | fields]})


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
    model_config = _example(type="weight", value=82.4, unit="kg")
    type: Literal["weight"]
    value: float = Field(json_schema_extra=_weight_bounds())
    unit: Literal["kg", "lb", "st"] = "kg"


class BloodPressureIn(_ReadingBase):
    model_config = _example(type="blood_pressure", systolic=118, diastolic=72, unit="mmHg")
    type: Literal["blood_pressure"]
    systolic: int = Field(json_schema_extra=plausible("systolic", unit="mmHg"))
    diastolic: int = Field(
        json_schema_extra=plausible("diastolic", unit="mmHg"),
        description="Below systolic.",
    )
    unit: Literal["mmHg"] = "mmHg"


class HeartRateIn(_ReadingBase):
    model_config = _example(type="heart_rate", value=72, unit="/min")
    type: Literal["heart_rate"]
    value: float = Field(json_schema_extra=plausible("heart_rate", unit="/min"))
    unit: Literal["/min", "bpm"] = "/min"


class Spo2In(_ReadingBase):
    model_config = _example(type="spo2", value=96, unit="%")
    type: Literal["spo2"]
    value: float = Field(json_schema_extra=plausible("spo2", unit="%"))
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
    model_config = _example(
        type="symptoms",
        answers={
            "breathlessness": "usual",
            "orthopnoea": False,
            "ankle_swelling": "none",
            "dizziness": False,
            "chest_pain": False,
            "fatigue": "usual",
        },
    )
    type: Literal["symptoms"]
    answers: SymptomAnswersIn


class LabIn(_ReadingBase):
    """Blood results entered by clinicians for titration safety checks."""

    model_config = _example(type="potassium", value=4.6, unit="mmol/L")
    type: Literal["potassium", "creatinine", "egfr"]
    value: float = Field(
        json_schema_extra=plausible(
            *LAB_UNITS,
            unit="the unit of the lab's type (x-plausible-by)",
            by={kind: (kind, unit) for kind, unit in LAB_UNITS.items()},
        )
    )
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
