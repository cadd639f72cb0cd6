"""What the OpenAPI document says beyond what FastAPI derives from the routes.

- The error shape: ``Problem`` (RFC 9457) with its ``errors`` (``ProblemError``: ``pointer``,
  ``code``, ``detail``) and the codes (``ErrorCode``), an example body for every code, and every
  422 FastAPI would describe as its own ``HTTPValidationError`` described as the problem the
  service actually answers.
- The versioning policy, in the document's description.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field, TypeAdapter

from service.problem_codes import MEANING, Code, entry
from service.problems import PROBLEM_JSON, TYPE_BASE

VERSIONING = (
    "\n\n**Versioning.** Everything under `/api/v1` keeps working as documented: members, "
    "codes and operations are added, never removed, renamed or given a new meaning. A change "
    "that would break a client is made under `/api/v2`, with `/api/v1` served beside it. An "
    "operation to be withdrawn is marked deprecated here and answers `Deprecation` (RFC 9745) "
    "and `Sunset` (RFC 8594) headers, with a `Link` to its successor, until it is withdrawn."
)


class ProblemError(BaseModel):
    """One thing wrong with the request."""

    pointer: str | None = Field(
        default=None,
        description="RFC 6901 JSON Pointer into the body as sent (`/readings/3/value`); the "
        "empty string is the whole body. Absent for a query or path parameter.",
    )
    parameter: str | None = Field(default=None, description="The query or path parameter.")
    code: Code
    detail: str = Field(description="For people; may change. Branch on `code`.")
    field: str = Field(description="Older form of the location, dotted: `readings.3.value`.")
    message: str = Field(description="Older name of `detail`.")
    type: str = Field(description="Older, finer machine type (pydantic's, say).")


class Problem(BaseModel):
    """RFC 9457 problem details (`application/problem+json`)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[ProblemError] | None = Field(
        default=None, description="Every error found, in the order of the body."
    )


# (status, where, detail) of each code's example.
_EXAMPLES: dict[Code, tuple[int, list[str | int], str]] = {
    Code.OUT_OF_RANGE: (422, ["readings", 3, "value"], "30 is outside the plausible range 50-100"),
    Code.UNKNOWN_UNIT: (422, ["unit"], "Input should be 'kg', 'lb' or 'st'"),
    Code.FUTURE_TIME: (422, ["taken_at"], "reading time is in the future"),
    Code.TOO_OLD: (422, ["taken_at"], "reading is more than a year old"),
    Code.NAIVE_TIME: (422, ["readings", 4, "taken_at"], "Input should have timezone info"),
    Code.DUPLICATE_ID: (409, ["id"], "this id was already stored with different content"),
    Code.MISSING: (422, ["value"], "Field required"),
    Code.INVALID_TYPE: (422, ["value"], "Input should be a valid number"),
    Code.UNKNOWN_FIELD: (422, ["note"], "Extra inputs are not permitted"),
    Code.UNKNOWN_TYPE: (422, ["type"], "Input tag 'glucose' found using 'type' does not match"),
    Code.NOT_ALLOWED: (422, ["type"], "lab results are entered by clinicians"),
    Code.INVALID_VALUE: (422, ["diastolic"], "diastolic must be below systolic"),
    Code.MALFORMED_JSON: (
        422,
        [],
        "The body is not valid JSON: Expecting value at line 3, column 12.",
    ),
    Code.TOO_LARGE: (413, [], "Request bodies are limited to 1048576 bytes."),
    Code.UNSUPPORTED_MEDIA_TYPE: (
        415,
        [],
        "This route takes application/json; the request sent 'text/plain'.",
    ),
    Code.RATE_LIMITED: (429, [], "This device sent too many requests: retry after 42 seconds."),
}
_SLUG = {
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-error", "Invalid request"),
    429: ("too-many-requests", "Too many requests"),
}


def example(code: Code) -> dict[str, Any]:
    """An example body of a problem with an error of ``code``."""
    status, path, detail = _EXAMPLES[code]
    slug, title = _SLUG[status]
    error = entry(path, code, detail, code.value)
    where = error["pointer"] or "(body)"
    body = {"type": TYPE_BASE + slug, "title": title, "status": status}
    return body | {"detail": f"{where}: {detail}", "errors": [error]}


def problem_content(*codes: Code) -> dict[str, Any]:
    """A response's content: the problem schema and the example of each of ``codes`` (each
    once in ``components.examples``)."""
    content: dict[str, Any] = {"schema": {"$ref": "#/components/schemas/Problem"}}
    if codes:
        content["examples"] = {c.value: {"$ref": f"#/components/examples/{c.value}"} for c in codes}
    return {PROBLEM_JSON: content}


# What every route a patient's app may call can answer once the device is over its limit
# (``service.identity.device_limit``): the token is counted before the route's own work.
RATE_LIMITED: dict[str, Any] = {
    "description": "This device is over its request limit: retry after `Retry-After` seconds",
    "content": problem_content(Code.RATE_LIMITED),
    "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds"}},
}


def codes_with_status(status: int) -> list[Code]:
    return [code for code, (s, _, _) in _EXAMPLES.items() if s == status]


def install(app: FastAPI, components: dict[str, Any]) -> None:
    """Adds the error shape, the versioning policy and ``components`` (schemas that routes
    reading their own body refer to) to the app's OpenAPI document."""
    derive = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = derive()
            _add(document, components)
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add(document: dict[str, Any], components: dict[str, Any]) -> None:
    document["info"]["description"] += VERSIONING
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    generated = TypeAdapter(Problem).json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(generated.pop("$defs"))
    schemas.update(components)
    schemas["Problem"] = generated
    schemas["ErrorCode"]["description"] = "\n".join(f"- `{c.value}`: {MEANING[c]}" for c in Code)
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    document["components"]["examples"] = {
        c.value: {"summary": MEANING[c], "value": example(c)} for c in Code
    }
    invalid = problem_content()
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            answer = operation.get("responses", {}).get("422")
            if answer is not None and "content" in answer:
                refs = answer["content"].get("application/json", {}).get("schema", {})
                if refs.get("$ref", "").endswith("/HTTPValidationError"):
                    answer["content"] = invalid
