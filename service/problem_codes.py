"""The machine codes of the patient API's errors, and where in a body each error points.

Each entry of a problem's ``errors`` list carries a ``pointer`` (RFC 6901, into the body as
sent), one of these ``code`` values and a ``detail`` for people. The codes are a contract: apps
branch on them, and FHIR's OperationOutcome uses the same ones, so a code is added, never renamed
or given a new meaning (README "Errors", OpenAPI ``components.schemas.ErrorCode``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    OUT_OF_RANGE = "out_of_range"
    UNKNOWN_UNIT = "unknown_unit"
    FUTURE_TIME = "future_time"
    TOO_OLD = "too_old"
    NAIVE_TIME = "naive_time"
    DUPLICATE_ID = "duplicate_id"
    MISSING = "missing"
    INVALID_TYPE = "invalid_type"
    UNKNOWN_FIELD = "unknown_field"
    UNKNOWN_TYPE = "unknown_type"
    NOT_ALLOWED = "not_allowed"
    INVALID_VALUE = "invalid_value"
    MALFORMED_JSON = "malformed_json"
    TOO_LARGE = "too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    RATE_LIMITED = "rate_limited"


Code = ErrorCode  # the short name the service's modules use


MEANING: dict[Code, str] = {
    Code.OUT_OF_RANGE: "a number outside its plausible range (a typo or a device fault)",
    Code.UNKNOWN_UNIT: "a unit this field does not take",
    Code.FUTURE_TIME: "a time later than now (beyond the allowed clock skew)",
    Code.TOO_OLD: "a reading taken more than a year ago",
    Code.NAIVE_TIME: "a time with no UTC offset",
    Code.DUPLICATE_ID: "an id used twice in one body, or already stored with other content",
    Code.MISSING: "a required member (or the whole body) is absent",
    Code.INVALID_TYPE: "a JSON value of the wrong type (a string for a number, say)",
    Code.UNKNOWN_FIELD: "a member the schema does not define",
    Code.UNKNOWN_TYPE: "a reading type the API does not know",
    Code.NOT_ALLOWED: "a value this caller may not send (lab results from a patient's app)",
    Code.INVALID_VALUE: "a value of the right type that the field does not accept",
    Code.MALFORMED_JSON: "the body is not JSON; the detail gives the line and column",
    Code.TOO_LARGE: "the body is over the size limit",
    Code.UNSUPPORTED_MEDIA_TYPE: "a content type the route does not take (send application/json)",
    Code.RATE_LIMITED: "the device sent too many requests; wait Retry-After seconds",
}

# Pydantic's error types (https://docs.pydantic.dev/latest/errors/validation_errors/) that
# name a code of their own; other ``*_type`` and ``*_parsing`` errors are a wrong JSON type.
_BY_PYDANTIC = {
    "missing": Code.MISSING,
    "extra_forbidden": Code.UNKNOWN_FIELD,
    "timezone_aware": Code.NAIVE_TIME,
    "union_tag_invalid": Code.UNKNOWN_TYPE,
    "union_tag_not_found": Code.MISSING,
    "json_invalid": Code.MALFORMED_JSON,
    "uuid_parsing": Code.INVALID_VALUE,
    "uuid_version": Code.INVALID_VALUE,
    "datetime_parsing": Code.INVALID_VALUE,
    "datetime_from_date_parsing": Code.INVALID_VALUE,
    "int_from_float": Code.INVALID_VALUE,
}
_NUMBER_PARSING = ("int_parsing", "float_parsing", "bool_parsing", "int_parsing_size")


def code_of(error_type: str, path: Sequence[str | int]) -> Code:
    """The code for a pydantic error of ``error_type`` at ``path`` (as located in the body)."""
    if error_type in _BY_PYDANTIC:
        return _BY_PYDANTIC[error_type]
    if error_type in {"literal_error", "enum"}:
        return Code.UNKNOWN_UNIT if path and path[-1] == "unit" else Code.INVALID_VALUE
    if error_type.endswith("_type") or error_type in _NUMBER_PARSING:
        return Code.INVALID_TYPE
    return Code.INVALID_VALUE


def body_path(loc: Sequence[Any], body: Any) -> list[str | int]:
    """``loc`` as a path into ``body`` as sent: the union tags pydantic inserts into a location
    (``single``, ``batch``, a reading's ``weight``) are steps the body does not have, so a step
    that is not a member of the object it is applied to is dropped, unless it is the last (a
    missing member is named though absent). A tag that is also a member is told by equalling
    the object's ``type``. A form's fields are members as a JSON object's are."""
    path: list[str | int] = []
    node = body
    for i, step in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, Mapping) and isinstance(step, str):
            tag = step == node.get("type") and not last
            if step in node and not tag:
                path.append(step)
                node = node[step]
            elif last:
                path.append(step)
            continue
        if isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            path.append(step)
            node = node[step]
            continue
        if isinstance(step, str):
            continue  # a union tag after a value that is no object: the error is the value's
        if last or isinstance(step, int):
            path.append(step)
        node = None
    return path


def pointer(path: Sequence[str | int]) -> str:
    """RFC 6901: ``~`` and ``/`` escaped in each step; the whole document is the empty string."""
    return "".join("/" + str(step).replace("~", "~0").replace("/", "~1") for step in path)


def dotted(path: Sequence[str | int]) -> str:
    """The older ``field`` member: the same path joined with dots (``readings.3.value``)."""
    return ".".join(str(step) for step in path) or "body"


def entry(path: Sequence[str | int], code: Code, detail: str, type_: str) -> dict[str, str]:
    """One member of ``errors``: ``pointer``, ``code`` and ``detail``, and the older ``field``,
    ``message`` and ``type`` that clients written before them read."""
    return {
        "pointer": pointer(path),
        "code": code.value,
        "detail": detail,
        "field": dotted(path),
        "message": detail,
        "type": type_,
    }
