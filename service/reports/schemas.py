"""API schemas for outcomes recorded by teams. Inputs forbid unknown fields."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from service.coding.dmd import concept_id_problem
from service.coding.dose import DoseUnitName
from service.schemas import Input

Pillar = Literal["acei_arb_arni", "beta_blocker", "mra", "sglt2i"]
MedicationStatus = Literal["started", "stopped", "not_tolerated", "contraindicated"]
Timepoint = Literal["start", "discharge", "other"]
DischargeReason = Literal["stable_optimised", "admitted", "died", "withdrew", "other"]


def _dmd_code(value: str) -> str:
    problem = concept_id_problem(value)
    if problem:
        raise ValueError(problem)
    return value


DmdCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True),
    AfterValidator(_dmd_code),
    Field(
        description="The dm+d concept (VTM, VMP or AMP) id: 6-18 digits with a Verhoeff check "
        "digit (partition 00 or 10)",
    ),
]
DoseValue = Annotated[float, Field(gt=0, le=100_000, allow_inf_nan=False)]


class AdmissionIn(Input):
    kind: Literal["admission"]
    admitted_on: date
    discharged_on: date | None = None
    hf_related: bool
    emergency: bool = True

    @model_validator(mode="after")
    def _stay(self) -> AdmissionIn:
        if self.discharged_on is not None and self.discharged_on < self.admitted_on:
            raise ValueError("discharged_on is before admitted_on")
        return self


class AttendanceIn(Input):
    kind: Literal["ae_attendance"]
    attended_on: date


class DeathIn(Input):
    kind: Literal["death"]
    died_on: date


EventIn = Annotated[AdmissionIn | AttendanceIn | DeathIn, Field(discriminator="kind")]


class EventPatch(Input):
    """A JSON Merge Patch (RFC 7396) of an event, in ``EventOut``'s names: a field left out is
    kept, ``null`` clears it. Most often an admission's discharge date, known only later."""

    occurred_on: date | None = None
    discharged_on: date | None = None
    hf_related: bool | None = None
    emergency: bool | None = None


class EventOut(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    kind: str
    occurred_on: date
    discharged_on: date | None
    hf_related: bool | None
    emergency: bool
    recorded_at: datetime


class MedicationIn(Input):
    pillar: Pillar
    status: MedicationStatus
    at_target_or_max_tolerated: bool = False
    changed_on: date
    drug: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
        | None
    ) = None
    dmd_code: DmdCode | None = None
    dose_value: DoseValue | None = None
    dose_unit: DoseUnitName | None = None

    @model_validator(mode="after")
    def _target_needs_started(self) -> MedicationIn:
        if self.at_target_or_max_tolerated and self.status != "started":
            raise ValueError(
                "at_target_or_max_tolerated applies only to a medicine that is started"
            )
        if (self.dose_value is None) != (self.dose_unit is None):
            raise ValueError("a dose needs both dose_value and dose_unit")
        return self


class MedicationOut(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    pillar: str
    status: str
    at_target_or_max_tolerated: bool
    drug: str | None
    dmd_code: str | None
    dose_value: float | None
    dose_unit: str | None
    changed_on: date
    recorded_at: datetime


class KccqIn(Input):
    score: Annotated[float, Field(ge=0, le=100)]
    timepoint: Timepoint
    assessed_on: date


class KccqOut(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    score: float
    timepoint: str
    assessed_on: date
    recorded_at: datetime


class DischargeIn(Input):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    discharged_on: date = Field(alias="date")
    reason: DischargeReason


class LessonIn(Input):
    """A site's lessons for a month: plain text, up to 4000 characters; empty removes it."""

    text: str = Field(
        description="Plain text, up to 4000 characters (line breaks kept, shown escaped)."
    )


class LessonOut(BaseModel):
    site_id: uuid.UUID
    month: str
    text: str
    updated_at: datetime | None
    updated_by_name: str | None
