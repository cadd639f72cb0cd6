"""The part of FHIR R4 this service reads, as pydantic models compiled once: the inbound hot path.

``fhir.resources`` validates every element of every resource type, and on a Bundle of 500
Observations that was most of the server's CPU (about 70 ms a Bundle in process, against 11 ms
for our translation to the native inputs). These models cover only what the service accepts:
the UK Core vital-sign Observations (weight, blood pressure with components, heart rate, SpO2),
the symptom QuestionnaireResponse, and the batch/transaction Bundle that carries them.

They are a strict *subset* of what ``fhir.resources`` accepts, never a different reading of it:
each element is held to the same rule or a narrower one (a canonical string with no edge
whitespace, a JSON number rather than a numeric string, a dateTime with seconds and offset),
and anything they do not model (extensions, other value[x] choices, other resource types) is
refused here. ``service.fhir.parse`` then hands the body to ``fhir.resources``, which accepts it
(the slow path) or refuses it with the OperationOutcome clients have always had. So an input is
accepted or refused exactly as before; only the accepted common case got faster.
``tests/fhir/test_inbound_differential.py`` checks both paths agree.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    TypeAdapter,
    model_validator,
)

# fhir_core's patterns, narrowed: no edge whitespace anywhere, a uri with no whitespace at all.
Code = Annotated[str, StringConstraints(pattern=r"^[^\s]+( [^\s]+)*$")]
Text = Annotated[str, StringConstraints(pattern=r"^[^\s](?:[^\r\n\t]*[^\s])?$")]
Uri = Annotated[str, StringConstraints(pattern=r"^\S+$")]
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9\-.]{1,64}$")]

# fhir_core's instant pattern (a dateTime with a time of day and an offset), without leap
# seconds and with at most microseconds: those parse differently and take the reference path.
INSTANT = re.compile(
    r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|"
    r"3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
    r"(Z|([+\-])((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
)
# Below 2**53 a float and fhir_core's Decimal(str(float)) agree on the value and on whether it
# is whole; above, they can differ in the digits, so such a number takes the reference path.
EXACT_FLOAT = float(2**53)


def _instant_text(value: Any) -> Any:
    if not isinstance(value, str) or not INSTANT.fullmatch(value):
        raise ValueError("not a dateTime with seconds and a UTC offset")
    return value


def _plain_number(value: int | float) -> int | float:
    if isinstance(value, float) and not (math.isfinite(value) and abs(value) < EXACT_FLOAT):
        raise ValueError("not a finite decimal in the exact float range")
    return value


Instant = Annotated[datetime, BeforeValidator(_instant_text)]
Number = Annotated[StrictInt | StrictFloat, AfterValidator(_plain_number)]


class Element(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Coding(Element):
    system: Uri | None = None
    version: Text | None = None
    code: Code | None = None
    display: Text | None = None


class CodeableConcept(Element):
    coding: list[Coding] | None = None
    text: Text | None = None


class Identifier(Element):
    use: Code | None = None
    system: Uri | None = None
    value: Text | None = None


class Reference(Element):
    reference: Text | None = None
    type: Uri | None = None
    identifier: Identifier | None = None
    display: Text | None = None


class Quantity(Element):
    value: Number | None = None
    comparator: Code | None = None
    unit: Text | None = None
    system: Uri | None = None
    code: Code | None = None


class Meta(Element):
    versionId: Id | None = None
    lastUpdated: Instant | None = None
    source: Uri | None = None
    profile: list[Uri] | None = None
    tag: list[Coding] | None = None
    security: list[Coding] | None = None


class Resource(Element):
    id: Id | None = None
    meta: Meta | None = None
    language: Code | None = None

    def get_resource_type(self) -> str:
        return type(self).__name__


class ObservationComponent(Element):
    code: CodeableConcept
    valueQuantity: Quantity | None = None


class Observation(Resource):
    resourceType: Literal["Observation"]
    identifier: list[Identifier] | None = None
    status: Code
    category: list[CodeableConcept] | None = None
    code: CodeableConcept
    subject: Reference | None = None
    effectiveDateTime: Instant | None = None
    effectiveInstant: Instant | None = None
    device: Reference | None = None
    performer: list[Reference] | None = None
    valueQuantity: Quantity | None = None
    component: list[ObservationComponent] | None = None
    # Elements the translation asks about and these models refuse (so always absent here):
    # class attributes, not fields, so an input that has them is still refused as extra.
    dataAbsentReason: ClassVar[None] = None
    effectivePeriod: ClassVar[None] = None
    effectiveTiming: ClassVar[None] = None
    valueCodeableConcept: ClassVar[None] = None
    valueString: ClassVar[None] = None
    valueBoolean: ClassVar[None] = None
    valueInteger: ClassVar[None] = None
    valueRange: ClassVar[None] = None
    valueRatio: ClassVar[None] = None
    valueSampledData: ClassVar[None] = None
    valueTime: ClassVar[None] = None
    valueDateTime: ClassVar[None] = None
    valuePeriod: ClassVar[None] = None

    @model_validator(mode="after")
    def _one_effective(self) -> Observation:
        # FHIR's value[x] rule, as fhir.resources applies it: at most one of a choice.
        if self.effectiveDateTime is not None and self.effectiveInstant is not None:
            raise ValueError("effective[x] is given twice")
        return self


class Answer(Element):
    valueBoolean: StrictBool | None = None
    valueCoding: Coding | None = None

    @model_validator(mode="after")
    def _one_value(self) -> Answer:
        if self.valueBoolean is not None and self.valueCoding is not None:
            raise ValueError("value[x] is given twice")
        return self


class Item(Element):
    linkId: Text
    text: Text | None = None
    answer: list[Answer] | None = None
    item: ClassVar[None] = None  # nested items: refused here (see Observation's)


class QuestionnaireResponse(Resource):
    resourceType: Literal["QuestionnaireResponse"]
    identifier: Identifier | None = None
    questionnaire: Uri | None = None
    status: Code
    subject: Reference | None = None
    authored: Instant | None = None
    author: Reference | None = None
    source: Reference | None = None
    item: list[Item] | None = None


class Request(Element):
    method: Code
    url: Uri
    ifNoneExist: Text | None = None


class Entry(Element):
    fullUrl: Uri | None = None
    resource: (
        Annotated[Observation | QuestionnaireResponse, Field(discriminator="resourceType")] | None
    ) = None
    request: Request | None = None


class Bundle(Resource):
    resourceType: Literal["Bundle"]
    identifier: Identifier | None = None
    type: Code
    timestamp: Instant | None = None
    entry: list[Entry] | None = None


OBSERVATION = TypeAdapter(Observation)
QUESTIONNAIRE_RESPONSE = TypeAdapter(QuestionnaireResponse)
BUNDLE = TypeAdapter(Bundle)
BY_TYPE: dict[str, TypeAdapter[Any]] = {
    "Observation": OBSERVATION,
    "QuestionnaireResponse": QUESTIONNAIRE_RESPONSE,
    "Bundle": BUNDLE,
}
