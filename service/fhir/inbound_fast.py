"""The common inbound Bundle in one pass over plain dicts: the hot path, and only an accelerator.

A Bundle of 500 readings spent most of its CPU building and freeing pydantic models (about
12,500 of them: ``inbound_models``) and translating them one by one (``inbound``), four times
what the native batch spends. Here the same subset of FHIR is compiled once as TypedDicts
(pydantic-core validates it into plain dicts), and the translation reads those dicts, builds
the native inputs and validates them in one call.

This path never refuses anything. It takes the shape an app sends (the UK Core vital-sign
Observations and the symptom QuestionnaireResponse, POSTed in a batch or transaction, every
entry translatable) and gives back exactly what the general path (``parse`` then
``batch.translate``) would; on anything else it answers ``None`` and the general path runs,
with its OperationOutcome. Each element here is held to the rule ``inbound_models`` holds it to,
or a narrower one. ``tests/fhir/test_inbound_differential.py`` checks every input of the inbound
suite and its Hypothesis mutations: this path either declines or agrees with the general one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Annotated, Any, Literal, NotRequired

from pydantic import (
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    with_config,
)
from typing_extensions import TypedDict

from service.fhir import codes
from service.fhir.codes import Measure
from service.fhir.inbound import (
    ACCEPTED_OBSERVATION_STATUS,
    EntryKey,
    Mapped,
    Refused,
    SubjectRef,
    component_name,
    id_from_identifier,
    plain_number,
    reading_id,
    subject_ref,
)
from service.fhir.inbound_answers import ACCEPTED_RESPONSE_STATUS, is_our_questionnaire
from service.fhir.inbound_models import EXACT_FLOAT, INSTANT, Code, Id, Text, Uri
from service.fhir.questionnaire import BY_LINK_ID
from service.readings.schemas import ReadingIn

# inbound_models' Instant is parsed to a datetime by a Python validator; here the text is held
# to the same pattern in Rust, and parsed once the entry is known to be wanted.
Instant = Annotated[str, StringConstraints(pattern=f"^(?:{INSTANT.pattern})$")]
# inbound_models' Number: any JSON integer, or a finite float below 2**53 in size.
Number = (
    StrictInt | Annotated[StrictFloat, Field(allow_inf_nan=False, gt=-EXACT_FLOAT, lt=EXACT_FLOAT)]
)
_FORBID = ConfigDict(extra="forbid")


@with_config(_FORBID)
class Coding(TypedDict, total=False):
    system: Uri
    version: Text
    code: Code
    display: Text


@with_config(_FORBID)
class CodeableConcept(TypedDict, total=False):
    coding: list[Coding]
    text: Text


@with_config(_FORBID)
class Identifier(TypedDict, total=False):
    use: Code
    system: Uri
    value: Text


@with_config(_FORBID)
class Reference(TypedDict, total=False):
    reference: Text
    type: Uri
    identifier: Identifier
    display: Text


@with_config(_FORBID)
class Quantity(TypedDict, total=False):
    value: Number
    comparator: Code
    unit: Text
    system: Uri
    code: Code


@with_config(_FORBID)
class Meta(TypedDict, total=False):
    versionId: Id
    lastUpdated: Instant
    source: Uri
    profile: list[Uri]
    tag: list[Coding]
    security: list[Coding]


@with_config(_FORBID)
class Component(TypedDict):
    code: CodeableConcept
    valueQuantity: NotRequired[Quantity]


@with_config(_FORBID)
class Observation(TypedDict):
    resourceType: Literal["Observation"]
    id: NotRequired[Id]
    meta: NotRequired[Meta]
    language: NotRequired[Code]
    identifier: NotRequired[list[Identifier]]
    status: Code
    category: NotRequired[list[CodeableConcept]]
    code: CodeableConcept
    subject: NotRequired[Reference]
    effectiveDateTime: NotRequired[Instant]
    effectiveInstant: NotRequired[Instant]
    device: NotRequired[Reference]
    performer: NotRequired[list[Reference]]
    valueQuantity: NotRequired[Quantity]
    component: NotRequired[list[Component]]


@with_config(_FORBID)
class Answer(TypedDict, total=False):
    valueBoolean: StrictBool
    valueCoding: Coding


@with_config(_FORBID)
class Item(TypedDict):
    linkId: Text
    text: NotRequired[Text]
    answer: NotRequired[list[Answer]]


@with_config(_FORBID)
class QuestionnaireResponse(TypedDict):
    resourceType: Literal["QuestionnaireResponse"]
    id: NotRequired[Id]
    meta: NotRequired[Meta]
    language: NotRequired[Code]
    identifier: NotRequired[Identifier]
    questionnaire: NotRequired[Uri]
    status: Code
    subject: NotRequired[Reference]
    authored: NotRequired[Instant]
    author: NotRequired[Reference]
    source: NotRequired[Reference]
    item: NotRequired[list[Item]]


@with_config(_FORBID)
class Request(TypedDict):
    method: Code
    url: Uri
    ifNoneExist: NotRequired[Text]


@with_config(_FORBID)
class Entry(TypedDict, total=False):
    fullUrl: Uri
    resource: Annotated[Observation | QuestionnaireResponse, Field(discriminator="resourceType")]
    request: Request


@with_config(_FORBID)
class Bundle(TypedDict):
    resourceType: Literal["Bundle"]
    id: NotRequired[Id]
    meta: NotRequired[Meta]
    language: NotRequired[Code]
    identifier: NotRequired[Identifier]
    type: Code
    timestamp: NotRequired[Instant]
    entry: NotRequired[list[Entry]]


_BUNDLE: TypeAdapter[Bundle] = TypeAdapter(Bundle)
_BY_TYPE: dict[str, TypeAdapter[Any]] = {
    "Observation": TypeAdapter(Observation),
    "QuestionnaireResponse": TypeAdapter(QuestionnaireResponse),
}
_READINGS: TypeAdapter[list[Any]] = TypeAdapter(list[ReadingIn])


class _Declined(Exception):
    """Not the common shape: the general path answers this input."""


def bundle(raw: bytes, max_entries: int) -> tuple[str, list[Mapped]] | None:
    """The Bundle's type and every entry translated, from the body as sent; or None for the
    general path."""
    try:
        # Straight from the bytes: pydantic-core reads the JSON as it validates, where
        # json.loads then validation built (and freed) the whole tree twice.
        valid = _BUNDLE.validate_json(raw)
    except ValidationError:
        return None
    entries = valid.get("entry") or []
    if valid["type"] not in ("batch", "transaction") or not 0 < len(entries) <= max_entries:
        return None
    subjects = _Subjects()
    try:
        drafts = [_entry(entry, index, subjects) for index, entry in enumerate(entries)]
        return valid["type"], _validated(drafts)
    except _Declined:
        return None


def resource(raw: bytes, expected: str, key: EntryKey) -> Mapped | None:
    """One Observation or QuestionnaireResponse translated from the body as sent, or None for
    the general path."""
    adapter = _BY_TYPE.get(expected)
    if adapter is None:
        return None
    try:
        valid = adapter.validate_json(raw)
        return _validated([_translate(valid, expected, lambda: key, _Subjects())])[0]
    except (ValidationError, _Declined):
        return None


# A draft: the native reading before validation, and the rest of its Mapped.
_Draft = tuple[dict[str, Any], SubjectRef, str, str, dict[str, str]]


def _validated(drafts: list[_Draft]) -> list[Mapped]:
    try:
        readings = _READINGS.validate_python([draft[0] for draft in drafts])
    except ValidationError as exc:
        raise _Declined from exc
    return [
        Mapped(reading, subject, kind, where, fields)
        for reading, (_, subject, kind, where, fields) in zip(readings, drafts, strict=True)
    ]


def _entry(entry: Entry, index: int, subjects: _Subjects) -> _Draft:
    request, resource = entry.get("request"), entry.get("resource")
    if request is None or resource is None or request["method"] != "POST":
        raise _Declined
    kind = resource["resourceType"]
    if request["url"].split("?", 1)[0].strip("/") != kind:
        raise _Declined
    where = f"Bundle.entry[{index}]"

    def key() -> EntryKey:  # asked for only by a resource without an identifier
        return EntryKey(entry.get("fullUrl"), request.get("ifNoneExist"), where)

    return _translate(resource, f"{where}.resource", key, subjects)


def _translate(
    resource: Any, where: str, key: Callable[[], EntryKey], subjects: _Subjects
) -> _Draft:
    if resource["resourceType"] == "Observation":
        return _observation(resource, where, key, subjects)
    return _symptoms(resource, where, key, subjects)


class _Subjects:
    """Subject references already read in this request: a Bundle names one patient 500 times."""

    def __init__(self) -> None:
        self._seen: dict[tuple[Any, ...], tuple[Any, Any]] = {}

    def ref(self, subject: Reference | None, where: str) -> SubjectRef:
        if subject is None:
            raise _Declined
        ident = subject.get("identifier")
        seen_key = (
            subject.get("reference"),
            None if ident is None else (ident.get("system"), ident.get("value")),
        )
        found = self._seen.get(seen_key)
        if found is None:
            found = self._seen[seen_key] = self._read(subject, where)
        return SubjectRef(found[0], found[1], f"{where}.subject")

    @staticmethod
    def _read(subject: Reference, where: str) -> tuple[Any, Any]:
        ident = subject.get("identifier")
        as_read = SimpleNamespace(
            reference=subject.get("reference"),
            identifier=None
            if ident is None
            else SimpleNamespace(system=ident.get("system"), value=ident.get("value")),
        )
        try:
            ref = subject_ref(as_read, where)
        except Refused as exc:
            raise _Declined from exc
        return ref.patient_id, ref.nhs_number


def _taken_at(text: str | None) -> datetime:
    if text is None:
        raise _Declined
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:  # a date the pattern allows but the calendar does not
        raise _Declined from exc


def _identity(
    kind: str,
    identifiers: list[Identifier],
    key: Callable[[], EntryKey],
    content: Callable[[], str],
    where: str,
) -> tuple[Any, str]:
    """``inbound.reading_id``, with the entry's key and the content key built only when
    nothing before them names the reading."""
    for index, ident in enumerate(identifiers):
        if ident.get("value"):
            rid = id_from_identifier(kind, ident.get("system"), ident["value"])
            return rid, f"{where}.identifier[{index}]"
    try:
        return reading_id(kind, [], key(), content(), where)
    except Refused as exc:
        raise _Declined from exc


# Each accepted (system, code) and the one measure it names: nearly every Observation has one
# coding, read with a lookup instead of codes.measure_for's walk over every measure.
_ONE_CODING: dict[tuple[str, str], Measure] = {
    pair: measure
    for measure in codes.INBOUND
    for pair in measure.accepted
    if sum(pair in other.accepted for other in codes.INBOUND) == 1
}


def _measure(codings: list[tuple[str, str]]) -> Measure:
    if len(codings) == 1 and codings[0] in _ONE_CODING:
        return _ONE_CODING[codings[0]]
    measure, conflicting = codes.measure_for(codings)
    if measure is None or conflicting:
        raise _Declined
    return measure


def _observation(
    obs: Observation, where: str, key: Callable[[], EntryKey], subjects: _Subjects
) -> _Draft:
    if obs["status"] not in ACCEPTED_OBSERVATION_STATUS:
        raise _Declined
    measure = _measure(_pairs(obs["code"]))
    subject = subjects.ref(obs.get("subject"), where)
    on_date, instant = obs.get("effectiveDateTime"), obs.get("effectiveInstant")
    if on_date is not None and instant is not None:
        raise _Declined
    taken_at = _taken_at(on_date or instant)
    fields = {"taken_at": f"{where}.effective"}
    if measure.reading_type == "blood_pressure":
        body = _blood_pressure(obs, where, fields)
    else:
        body = _single_value(obs, measure.reading_type, where, fields)

    def content() -> str:
        # inbound.observation's content key, word for word
        at = taken_at.astimezone(UTC).isoformat()
        return f"{measure.reading_type}|{at}|{sorted(body.items())}"

    rid, fields["id"] = _identity("Observation", obs.get("identifier") or [], key, content, where)
    raw = {"id": rid, "type": measure.reading_type, "taken_at": taken_at, **body}
    return raw, subject, "Observation", where, fields


def _pairs(concept: CodeableConcept) -> list[tuple[str, str]]:
    """``inbound._codings``: (system, code) of each coding, "" for either missing."""
    return [(c.get("system") or "", c.get("code") or "") for c in concept.get("coding") or []]


def _value(quantity: Quantity | None, units: Any) -> int | float:
    """A Quantity's value, where it is plain and in one of ``units`` (UCUM)."""
    if quantity is None or quantity.get("system") != codes.UCUM:
        raise _Declined
    code = quantity.get("code")
    if not code or code not in units or "comparator" in quantity or "value" not in quantity:
        raise _Declined
    return plain_number(quantity["value"])  # type: ignore[return-value]


def _single_value(
    obs: Observation, reading_type: str, where: str, fields: dict[str, str]
) -> dict[str, Any]:
    if obs.get("component"):
        raise _Declined
    value_expr = f"{where}.value.ofType(Quantity)"
    fields["value"], fields["unit"] = f"{value_expr}.value", f"{value_expr}.code"
    quantity = obs.get("valueQuantity")
    if reading_type == "weight":
        value = _value(quantity, codes.WEIGHT_UNITS)
        native_unit, factor = codes.WEIGHT_UNITS[quantity["code"]]  # type: ignore[index]
        return {"value": value * factor, "unit": native_unit}
    if reading_type == "heart_rate":
        return {"value": _value(quantity, codes.RATE_UNITS), "unit": "/min"}
    return {"value": _value(quantity, codes.PERCENT_UNITS), "unit": "%"}


def _blood_pressure(obs: Observation, where: str, fields: dict[str, str]) -> dict[str, Any]:
    if "valueQuantity" in obs:
        raise _Declined
    found: dict[str, int | float] = {}
    for index, component in enumerate(obs.get("component") or []):
        name = component_name(_pairs(component["code"]))
        if name is None or name in found:
            raise _Declined
        value = _value(component.get("valueQuantity"), codes.PRESSURE_UNITS)
        if not isinstance(value, int):
            raise _Declined
        found[name] = value
        fields[name] = f"{where}.component[{index}].value.ofType(Quantity).value"
    if len(found) != 2:
        raise _Declined
    return {**found, "unit": "mmHg"}


def _symptoms(
    qr: QuestionnaireResponse, where: str, key: Callable[[], EntryKey], subjects: _Subjects
) -> _Draft:
    if not is_our_questionnaire(qr.get("questionnaire")):
        raise _Declined
    if qr["status"] not in ACCEPTED_RESPONSE_STATUS:
        raise _Declined
    subject = subjects.ref(qr.get("subject"), where)
    taken_at = _taken_at(qr.get("authored"))
    answers: dict[str, Any] = {}
    fields = {"taken_at": f"{where}.authored", "answers": f"{where}.item"}
    for index, item in enumerate(qr.get("item") or []):
        link_id = item["linkId"]
        question = BY_LINK_ID.get(link_id)
        given = item.get("answer") or []
        if question is None or link_id in answers or len(given) != 1 or len(given[0]) != 1:
            raise _Declined
        answer = given[0]
        if question.kind == "boolean":
            if "valueBoolean" not in answer:
                raise _Declined
            answers[link_id] = answer["valueBoolean"]
        else:
            chosen = answer.get("valueCoding")
            if (
                chosen is None
                or chosen.get("system") not in (None, codes.SYMPTOM_ANSWER_SYSTEM)
                or chosen.get("code") not in _options(link_id)
            ):
                raise _Declined
            answers[link_id] = chosen["code"]
        fields[f"answers.{link_id}"] = f"{where}.item[{index}]"

    def content() -> str:
        # inbound_answers.questionnaire_response's content key, word for word
        at = taken_at.astimezone(UTC).isoformat()
        return f"symptoms|{at}|{sorted(answers.items())}"

    ident = qr.get("identifier")
    identifiers = [] if ident is None else [ident]
    rid, id_expr = _identity("QuestionnaireResponse", identifiers, key, content, where)
    fields["id"] = id_expr.replace(".identifier[0]", ".identifier")
    raw = {"id": rid, "type": "symptoms", "taken_at": taken_at, "answers": answers}
    return raw, subject, "QuestionnaireResponse", where, fields


@functools.cache
def _options(link_id: str) -> frozenset[str]:
    return frozenset(code for code, _ in BY_LINK_ID[link_id].options)
