"""JSON in, FHIR resources out: the compiled subset first, ``fhir.resources`` for the rest.

``inbound_models`` accepts only a subset of what ``fhir.resources`` accepts, each element read the
same way; whatever it refuses is parsed again by ``fhir.resources``, which is the reference: it
accepts the input (the slow path) or refuses it with the issues clients have always been given.
``fast=False`` skips the subset, which is how the differential test runs the reference path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from service.fhir import inbound_models, problem_codes
from service.fhir.outcome import FhirError, Issue, nesting_exceeds, too_deep
from service.fhir.resources import Bundle, Observation, QuestionnaireResponse

REFERENCE: dict[str, Any] = {
    "Observation": Observation,
    "QuestionnaireResponse": QuestionnaireResponse,
    "Bundle": Bundle,
}
MAX_ISSUES = 50
_UNKNOWN = problem_codes.coding("unknown_type")


@dataclass
class ParsedBundle:
    """A Bundle with the entries that could not be parsed set aside, by index, with why.

    Only a batch has such entries: anything wrong in a transaction refuses it whole."""

    type: str
    entries: list[Any]
    failed: dict[int, list[Issue]] = field(default_factory=dict)


def expect(data: Any, expected: str) -> None:
    if not isinstance(data, dict) or data.get("resourceType") != expected:
        got = data.get("resourceType") if isinstance(data, dict) else type(data).__name__
        raise FhirError(
            400,
            [
                Issue(
                    "structure",
                    f"expected a {expected} resource, got {got!r}",
                    (expected,),
                    details=problem_codes.coding("invalid_type"),
                )
            ],
        )


def parse_resource(data: Any, expected: str, *, fast: bool = True) -> Any:
    """One resource; structural errors are 400 with the element's FHIRPath."""
    expect(data, expected)
    if fast:
        try:
            return inbound_models.BY_TYPE[expected].validate_python(data)
        except ValidationError:
            pass
    if nesting_exceeds(data):
        raise too_deep()
    try:
        return REFERENCE[expected].model_validate(data)
    except ValidationError as exc:
        raise FhirError(400, validation_issues(exc, expected)) from exc


def parse_bundle(data: Any, *, fast: bool = True) -> ParsedBundle:
    expect(data, "Bundle")
    if fast:
        try:
            bundle = inbound_models.BUNDLE.validate_python(data)
            return ParsedBundle(bundle.type, list(bundle.entry or []))
        except ValidationError:
            pass
    return _reference_bundle(data)


def _reference_bundle(data: dict[str, Any]) -> ParsedBundle:
    if nesting_exceeds(data):
        raise too_deep()
    entries = data.get("entry")
    failed: dict[int, list[Issue]] = {}
    if isinstance(entries, list):
        # fhir.resources raises KeyError (a 500) on a resourceType it does not know.
        for index, entry in enumerate(entries):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(resource, dict) and not _known_type(resource.get("resourceType")):
                failed[index] = [
                    Issue(
                        "not-supported",
                        f"{resource.get('resourceType')!r} is not a FHIR R4 resource type",
                        (f"Bundle.entry[{index}].resource.resourceType",),
                        details=problem_codes.coding("unknown_type"),
                    )
                ]
    try:
        bundle = _reference(_without(data, failed))
    except ValidationError as exc:
        issues = validation_issues(exc, "Bundle")
        by_entry = _by_entry(exc)
        if data.get("type") != "batch" or by_entry is None:
            raise FhirError(400, _in_order(failed, issues)) from exc
        for index, found in by_entry.items():
            failed.setdefault(index, []).extend(found)
        try:
            bundle = _reference(_without(data, failed))
        except ValidationError as again:
            raise FhirError(400, _in_order(failed, issues)) from again
    if failed and bundle.type != "batch":
        raise FhirError(400, _in_order(failed, []))
    return ParsedBundle(str(bundle.type), list(bundle.entry or []), failed)


def _reference(data: dict[str, Any]) -> Any:
    try:
        return Bundle.model_validate(data)
    except (KeyError, TypeError) as exc:
        # A resource type fhir.resources lists but has no parser for: still the client's input.
        text = f"a resource in the Bundle has a type this server does not know: {exc}"
        raise FhirError(
            400, [Issue("not-supported", text, ("Bundle.entry",), details=_UNKNOWN)]
        ) from exc


def _known_type(kind: Any) -> bool:
    if not isinstance(kind, str):
        return False  # fhir.resources raises TypeError on a resourceType that is not text
    try:
        get_fhir_model_class(kind)
    except (KeyError, ValueError):
        return False
    return True


def _without(data: dict[str, Any], failed: dict[int, list[Issue]]) -> dict[str, Any]:
    """The Bundle with each failed entry emptied, so the rest can be parsed on their own."""
    if not failed:
        return data
    entries = [{} if i in failed else e for i, e in enumerate(data.get("entry") or [])]
    return {**data, "entry": entries}


def _by_entry(exc: ValidationError) -> dict[int, list[Issue]] | None:
    """The errors by entry index, or None if any lies outside an entry."""
    out: dict[int, list[Issue]] = {}
    for err in exc.errors():
        loc = err["loc"]
        if len(loc) < 2 or loc[0] != "entry" or not isinstance(loc[1], int):
            return None
        out.setdefault(loc[1], []).append(_issue(err, "Bundle"))
    return out


def _in_order(failed: dict[int, list[Issue]], issues: list[Issue]) -> list[Issue]:
    return [i for index in sorted(failed) for i in failed[index] if i not in issues] + issues


def validation_issues(exc: ValidationError, root: str) -> list[Issue]:
    return [_issue(err, root) for err in exc.errors()[:MAX_ISSUES]]


def _issue(err: Any, root: str) -> Issue:
    path = root
    for part in err["loc"]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return Issue(
        "structure", f"{err['msg']}", (path,), details=problem_codes.coding(_code_of(err["type"]))
    )


def _code_of(error_type: str) -> problem_codes.Code:
    if error_type == "extra_forbidden":
        return "unknown_field"
    if error_type.endswith("missing"):
        return "missing"
    if error_type.endswith("_type") or error_type in ("model_type", "dict_type", "list_type"):
        return "invalid_type"
    return "invalid_value"
