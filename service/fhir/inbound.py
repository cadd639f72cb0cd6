"""FHIR resources in, the native reading inputs out (``service.readings.schemas``): Observations
here, the symptom QuestionnaireResponse in ``inbound_answers``.

Nothing here validates ranges, times or duplicates: ``service.readings.service.prepare`` does
that for both front doors. This module only translates, and refuses what it cannot translate exactly
(an unknown code, a non-UCUM unit, an unanswered question) instead of dropping it.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from pydantic import TypeAdapter, ValidationError

from service.fhir import codes
from service.fhir.codes import Measure
from service.fhir.outcome import Issue
from service.fhir.problem_codes import coding
from service.nhs_number import is_valid_nhs_number, normalise_nhs_number
from service.readings.schemas import ReadingIn

ACCEPTED_OBSERVATION_STATUS = {"final", "amended", "corrected"}
_READING = TypeAdapter[ReadingIn](ReadingIn)
_PATIENT_REF = re.compile(r"^(?:.*/)?Patient/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")
_UUID_URN = re.compile(r"^urn:uuid:([0-9a-fA-F-]{36})$")


@dataclass(frozen=True, slots=True)
class SubjectRef:
    """Who a resource is about, as sent: a logical id, an NHS number, or both."""

    patient_id: uuid.UUID | None = None
    nhs_number: str | None = None
    expression: str = ""


@dataclass(frozen=True, slots=True)
class EntryKey:
    """What a Bundle entry offers as its identity besides the resource's own identifier."""

    full_url: str | None = None
    if_none_exist: str | None = None
    where: str = ""  # FHIRPath of the entry, for issues about fullUrl / ifNoneExist


@dataclass(slots=True)
class Mapped:
    reading: ReadingIn
    subject: SubjectRef
    resource_type: str
    where: str
    # native field name -> FHIRPath expression, so prepare()'s field errors point into FHIR
    fields: dict[str, str] = field(default_factory=dict)

    def expression(self, native_field: str) -> str:
        head = native_field.split(".", 1)[0]
        return self.fields.get(native_field) or self.fields.get(head) or self.where


class Refused(Exception):
    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(i.diagnostics for i in issues))
        self.issues = issues


# --- identity ----------------------------------------------------------------------------


_NAMESPACE = codes.READING_ID_NAMESPACE.bytes


def id_from_identifier(resource_type: str, system: str | None, value: str) -> uuid.UUID:
    """``uuid.uuid5(READING_ID_NAMESPACE, ...)``, as RFC 4122 and the standard library compute
    it, in one step: a Bundle derives 500 of them (tests/fhir hold the two equal)."""
    name = f"{resource_type}|{system or ''}|{value}".encode()
    return uuid.UUID(bytes=hashlib.sha1(_NAMESPACE + name).digest()[:16], version=5)  # noqa: S324


def reading_id(
    resource_type: str,
    identifiers: list[tuple[str | None, str | None]],
    key: EntryKey,
    content: str,
    where: str,
) -> tuple[uuid.UUID, str]:
    """The reading's id and the FHIRPath of what it came from.

    In order: the resource's identifier, the entry's ifNoneExist (``identifier=system|value``,
    which gives the same id as that identifier), the entry's fullUrl, and last the content
    itself, so that even an Observation with no identifier (as the specification's examples)
    is stored once when it is sent again.
    """
    for index, (system, value) in enumerate(identifiers):
        if value:
            return id_from_identifier(resource_type, system, value), f"{where}.identifier[{index}]"
    if key.if_none_exist:
        name, _, criterion = key.if_none_exist.partition("=")
        system, bar, value = unquote(criterion).rpartition("|")
        if name != "identifier" or not criterion:
            raise Refused(
                [
                    Issue(
                        "not-supported",
                        "ifNoneExist: only identifier=[system|]value is supported",
                        (f"{key.where}.request.ifNoneExist",),
                        details=coding("invalid_value"),
                    )
                ]
            )
        return (
            id_from_identifier(resource_type, system if bar else None, value),
            f"{key.where}.request.ifNoneExist",
        )
    if key.full_url:
        match = _UUID_URN.match(key.full_url)
        if match:
            return uuid.UUID(match.group(1)), f"{key.where}.fullUrl"
        return uuid.uuid5(
            codes.READING_ID_NAMESPACE, f"fullUrl|{key.full_url}"
        ), f"{key.where}.fullUrl"
    return uuid.uuid5(codes.READING_ID_NAMESPACE, f"content|{content}"), where


# --- subject -----------------------------------------------------------------------------


def subject_ref(subject: Any, where: str) -> SubjectRef:
    expr = f"{where}.subject"
    if subject is None:
        raise Refused(
            [
                Issue(
                    "required",
                    "subject is required: Patient/{id} or an NHS number",
                    (expr,),
                    details=coding("missing"),
                )
            ]
        )
    patient_id: uuid.UUID | None = None
    nhs: str | None = None
    reference = subject.reference
    if reference:
        if reference.startswith("Patient?"):
            nhs = _nhs_from_query(reference[len("Patient?") :], expr)
        else:
            match = _PATIENT_REF.match(reference)
            try:
                patient_id = uuid.UUID(match.group(1)) if match else None
            except ValueError:
                patient_id = None
            if patient_id is None:
                raise Refused(
                    [
                        Issue(
                            "invalid",
                            f"subject.reference {reference!r} is not Patient/{{id}} of this server",
                            (f"{expr}.reference",),
                            details=coding("invalid_value"),
                        )
                    ]
                )
    ident = subject.identifier
    if ident is not None:
        if ident.system != codes.NHS_NUMBER or not ident.value:
            raise Refused(
                [
                    Issue(
                        "not-supported",
                        f"subject.identifier must be an NHS number ({codes.NHS_NUMBER})",
                        (f"{expr}.identifier",),
                        details=coding("invalid_value"),
                    )
                ]
            )
        by_identifier = _checked_nhs(ident.value, f"{expr}.identifier.value")
        if nhs is not None and nhs != by_identifier:
            raise Refused(
                [
                    Issue(
                        "invalid",
                        "subject.reference and subject.identifier differ",
                        (expr,),
                        details=coding("invalid_value"),
                    )
                ]
            )
        nhs = by_identifier
    if patient_id is None and nhs is None:
        raise Refused(
            [
                Issue(
                    "required",
                    "subject needs a reference or an identifier",
                    (expr,),
                    details=coding("missing"),
                )
            ]
        )
    return SubjectRef(patient_id=patient_id, nhs_number=nhs, expression=expr)


def _nhs_from_query(query: str, expr: str) -> str:
    name, _, criterion = query.partition("=")
    system, _, value = unquote(criterion).rpartition("|")
    if name != "identifier" or system != codes.NHS_NUMBER:
        raise Refused(
            [
                Issue(
                    "not-supported",
                    "a conditional subject must be "
                    f"Patient?identifier={codes.NHS_NUMBER}|{{number}}",
                    (f"{expr}.reference",),
                    details=coding("invalid_value"),
                )
            ]
        )
    return _checked_nhs(value, f"{expr}.reference")


def _checked_nhs(value: str, expr: str) -> str:
    number = normalise_nhs_number(value)
    if not is_valid_nhs_number(number):
        raise Refused(
            [Issue("value", "not a valid NHS number", (expr,), details=coding("invalid_value"))]
        )
    return number


# --- Observation -------------------------------------------------------------------------


def _codings(concept: Any) -> list[tuple[str, str]]:
    if concept is None:
        return []
    return [(c.system or "", c.code or "") for c in concept.coding or []]


def taken_time(value: Any, expr: str, issues: list[Issue]) -> datetime | None:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if value is None:
        issues.append(
            Issue(
                "required",
                "the time the reading was taken is required",
                (expr,),
                details=coding("missing"),
            )
        )
    elif isinstance(value, date | str):
        issues.append(
            Issue(
                "value",
                f"{value} has no time of day: send a dateTime with a UTC offset",
                (expr,),
                details=coding("naive_time"),
            )
        )
    else:
        issues.append(
            Issue("value", "the time needs a UTC offset", (expr,), details=coding("naive_time"))
        )
    return None


def plain_number(value: Decimal | float | None) -> float | int | None:
    """A Decimal from fhir.resources or an int/float from ``inbound_models``, alike."""
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    return int(value) if value == value.to_integral_value() else float(value)


def _quantity(
    quantity: Any, expr: str, units: set[str] | dict[str, Any], issues: list[Issue], what: str
) -> tuple[float | int, str] | None:
    if quantity is None:
        issues.append(
            Issue("required", f"{what} needs a valueQuantity", (expr,), details=coding("missing"))
        )
        return None
    allowed = ", ".join(sorted(units))
    if quantity.system != codes.UCUM or not quantity.code:
        issues.append(
            Issue(
                "code-invalid",
                f"{what} must be in UCUM units ({codes.UCUM}): one of {allowed}",
                (f"{expr}.system",),
                details=coding("unknown_unit"),
            )
        )
        return None
    if quantity.code not in units:
        issues.append(
            Issue(
                "code-invalid",
                f"unit {quantity.code!r} is not supported for {what}: use one of {allowed}",
                (f"{expr}.code",),
                details=coding("unknown_unit"),
            )
        )
        return None
    if quantity.comparator is not None:
        issues.append(
            Issue(
                "not-supported",
                f"{what} with a comparator",
                (f"{expr}.comparator",),
                details=coding("invalid_value"),
            )
        )
        return None
    number = plain_number(quantity.value)
    if number is None:
        issues.append(
            Issue("required", f"{what} has no value", (f"{expr}.value",), details=coding("missing"))
        )
        return None
    return number, quantity.code


def observation(obs: Any, where: str, key: EntryKey) -> Mapped:
    """Translate one Observation, or raise ``Refused`` with every issue found in it."""
    issues: list[Issue] = []
    if obs.status not in ACCEPTED_OBSERVATION_STATUS:
        issues.append(
            Issue(
                "not-supported",
                f"status {obs.status!r}: only final, amended or corrected readings are stored",
                (f"{where}.status",),
                details=coding("invalid_value"),
            )
        )
    measure, conflicting = codes.measure_for(_codings(obs.code))
    if conflicting:
        issues.append(
            Issue(
                "code-invalid",
                f"code names more than one measure: {conflicting}",
                (f"{where}.code",),
                details=coding("invalid_value"),
            )
        )
    elif measure is None:
        supported = ", ".join(
            sorted({f"{s.rsplit('/', 1)[-1]} {c}" for m in codes.INBOUND for s, c in m.accepted})
        )
        issues.append(
            Issue(
                "code-invalid",
                f"code is not a measure this service accepts (supported: {supported})",
                (f"{where}.code",),
                details=coding("invalid_value"),
            )
        )
    subject: SubjectRef | None = None
    try:
        subject = subject_ref(obs.subject, where)
    except Refused as exc:
        issues.extend(exc.issues)
    if obs.dataAbsentReason is not None:
        issues.append(
            Issue(
                "not-supported",
                "a reading without a value is not stored",
                (f"{where}.dataAbsentReason",),
                details=coding("missing"),
            )
        )
    when_expr = f"{where}.effective"
    taken_at = taken_time(obs.effectiveDateTime or obs.effectiveInstant, when_expr, issues)
    if obs.effectivePeriod is not None or obs.effectiveTiming is not None:
        issues.append(
            Issue(
                "not-supported",
                "effective must be a dateTime or instant",
                (when_expr,),
                details=coding("invalid_type"),
            )
        )
    body: dict[str, Any] = {}
    fields: dict[str, str] = {"taken_at": when_expr}
    if measure is not None:
        body = _observation_values(obs, measure, where, fields, issues)
    if issues or measure is None or subject is None or taken_at is None:
        raise Refused(issues)
    # No subject in the content key: readings are stored per patient, and the same reading
    # referenced once by id and once by NHS number must get the same id.
    content = (
        f"{measure.reading_type}|{taken_at.astimezone(UTC).isoformat()}|{sorted(body.items())}"
    )
    identifiers = [(i.system, i.value) for i in obs.identifier or []]
    rid, id_expr = reading_id("Observation", identifiers, key, content, where)
    fields["id"] = id_expr
    raw = {"id": rid, "type": measure.reading_type, "taken_at": taken_at, **body}
    return Mapped(validated(raw, fields, where), subject, "Observation", where, fields)


def _observation_values(
    obs: Any, measure: Measure, where: str, fields: dict[str, str], issues: list[Issue]
) -> dict[str, Any]:
    value_expr = f"{where}.value.ofType(Quantity)"
    if measure.reading_type == "blood_pressure":
        return _blood_pressure(obs, where, fields, issues)
    if obs.component:
        issues.append(
            Issue(
                "not-supported",
                "components are only read on a blood pressure panel",
                (f"{where}.component",),
                details=coding("unknown_field"),
            )
        )
    if _other_value(obs):
        issues.append(
            Issue(
                "not-supported",
                "the value must be a Quantity",
                (f"{where}.value",),
                details=coding("invalid_type"),
            )
        )
        return {}
    fields.update(value=f"{value_expr}.value", unit=f"{value_expr}.code")
    if measure.reading_type == "weight":
        got = _quantity(obs.valueQuantity, value_expr, codes.WEIGHT_UNITS, issues, "body weight")
        if got is None:
            return {}
        native_unit, factor = codes.WEIGHT_UNITS[got[1]]
        return {"value": got[0] * factor, "unit": native_unit}
    units = codes.RATE_UNITS if measure.reading_type == "heart_rate" else codes.PERCENT_UNITS
    what = "heart rate" if measure.reading_type == "heart_rate" else "SpO2"
    got = _quantity(obs.valueQuantity, value_expr, units, issues, what)
    if got is None:
        return {}
    return {"value": got[0], "unit": "/min" if measure.reading_type == "heart_rate" else "%"}


def _other_value(obs: Any) -> bool:
    others = (
        "valueCodeableConcept",
        "valueString",
        "valueBoolean",
        "valueInteger",
        "valueRange",
        "valueRatio",
        "valueSampledData",
        "valueTime",
        "valueDateTime",
        "valuePeriod",
    )
    return any(getattr(obs, name) is not None for name in others)


def _blood_pressure(
    obs: Any, where: str, fields: dict[str, str], issues: list[Issue]
) -> dict[str, Any]:
    if obs.valueQuantity is not None or _other_value(obs):
        issues.append(
            Issue(
                "not-supported",
                "a blood pressure panel carries its values in components",
                (f"{where}.value",),
                details=coding("invalid_type"),
            )
        )
    found: dict[str, int | float] = {}
    for index, component in enumerate(obs.component or []):
        expr = f"{where}.component[{index}]"
        name = component_name(_codings(component.code))
        if name is None:
            issues.append(
                Issue(
                    "code-invalid",
                    "only systolic (LOINC 8480-6) and diastolic (LOINC 8462-4) components "
                    "are accepted",
                    (f"{expr}.code",),
                    details=coding("invalid_value"),
                )
            )
            continue
        if name in found:
            issues.append(
                Issue("invalid", f"{name} is given twice", (expr,), details=coding("invalid_value"))
            )
            continue
        value_expr = f"{expr}.value.ofType(Quantity)"
        got = _quantity(component.valueQuantity, value_expr, codes.PRESSURE_UNITS, issues, name)
        if got is None:
            continue
        if not isinstance(got[0], int):
            issues.append(
                Issue(
                    "value",
                    f"{name} must be whole mmHg",
                    (f"{value_expr}.value",),
                    details=coding("invalid_value"),
                )
            )
            continue
        found[name] = got[0]
        fields[name] = f"{value_expr}.value"
    for name in ("systolic", "diastolic"):
        if name not in found and not any(name in (i.diagnostics or "") for i in issues):
            issues.append(
                Issue(
                    "required",
                    f"the {name} component is missing",
                    (f"{where}.component",),
                    details=coding("missing"),
                )
            )
    return {**found, "unit": "mmHg"} if len(found) == 2 else {}


def component_name(codings: list[tuple[str, str]]) -> str | None:
    """Which pressure a blood pressure panel's component carries, by its codings."""
    found = set(codings)
    if found & codes.SYSTOLIC:
        return "systolic"
    return "diastolic" if found & codes.DIASTOLIC else None


def validated(raw: dict[str, Any], fields: dict[str, str], where: str) -> ReadingIn:
    try:
        return _READING.validate_python(raw)
    except ValidationError as exc:
        issues = []
        for err in exc.errors():
            loc = [str(p) for p in err["loc"]]
            # The discriminated union puts the type tag first in the location.
            if loc and loc[0] == raw.get("type"):
                loc = loc[1:]
            name = ".".join(loc)
            message = err["msg"]
            if err["type"] == "missing" and name.startswith("answers."):
                message = f"question {name.split('.', 1)[1]!r} has no answer"
            expr = fields.get(name) or fields.get(loc[0] if loc else "", where)
            text = f"{name}: {message}" if name else message
            machine = coding("missing" if err["type"] == "missing" else "invalid_value")
            issues.append(Issue("invalid", text, (expr,), details=machine))
        raise Refused(issues) from exc
