"""Errors as OperationOutcome, and the route class that gives every /fhir route FHIR errors.

The app's handlers answer ``application/problem+json``. FHIR clients expect an OperationOutcome,
so ``FhirRoute`` swaps in its own handler table for its requests. The handlers run in Starlette's
``wrap_app_handling_exceptions``, which sits *outside* FastAPI's dependency exit stacks: the
exception has already passed through the unit of work, so it has rolled back. Converting the
exception inside the endpoint (or in ``get_route_handler``) would let the unit of work commit
a half-done request.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from service.fhir.problem_codes import Code, coding
from service.fhir.resources import FHIR_JSON, OperationOutcome
from service.problems import Problem, problem_headers

log = logging.getLogger("mhf.fhir")

# OperationOutcome issue type (http://hl7.org/fhir/issue-type) for each status we answer with.
ISSUE_CODE = {
    400: "structure",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    413: "too-costly",
    422: "invalid",
    429: "throttled",
    500: "exception",
    503: "transient",
}
# The machine code (service.fhir.problem_codes) for statuses that have one whatever the route.
MACHINE_CODE: dict[int, Code] = {
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


@dataclass(frozen=True, slots=True)
class Issue:
    code: str
    diagnostics: str
    expression: tuple[str, ...] = ()
    severity: str = "error"
    details: Mapping[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"severity": self.severity, "code": self.code}
        if self.details:
            out["details"] = dict(self.details)
        out["diagnostics"] = self.diagnostics
        if self.expression:
            out["expression"] = list(self.expression)
        return out


@dataclass
class FhirError(Exception):
    """A request the FHIR front door refuses, with every issue found."""

    status: int
    issues: Sequence[Issue] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(i.diagnostics for i in self.issues[:5])


def outcome(issues: Sequence[Issue]) -> OperationOutcome:
    return OperationOutcome.model_validate(
        {"resourceType": "OperationOutcome", "issue": [i.as_dict() for i in issues]}
    )


def fhir_response(
    resource: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    body = resource.model_dump_json().encode()
    return Response(body, status_code=status, media_type=FHIR_JSON, headers=dict(headers or {}))


def outcome_response(
    status: int, issues: Sequence[Issue], headers: Mapping[str, str] | None = None
) -> Response:
    return fhir_response(outcome(issues), status, headers)


def _machine(status: int) -> dict[str, Any] | None:
    return coding(MACHINE_CODE[status]) if status in MACHINE_CODE else None


def _problem_issues(exc: Problem) -> list[Issue]:
    code = ISSUE_CODE.get(exc.status, "processing")
    errors = exc.extra.get("errors")
    if isinstance(errors, list) and errors:
        return [
            Issue(code, f"{e.get('field', '')}: {e.get('message', '')}".strip(": "))
            for e in errors
            if isinstance(e, dict)
        ]
    return [Issue(code, exc.detail, details=_machine(exc.status))]


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return outcome_response(exc.status, _problem_issues(exc), problem_headers(exc))


async def _on_fhir_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FhirError)
    return outcome_response(exc.status, exc.issues)


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    issues = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        text = f"{where}: {err.get('msg', 'invalid')}".strip(": ")
        issues.append(Issue("invalid", text, details=coding("invalid_value")))
    return outcome_response(400, issues or [Issue("invalid", "The request did not validate.")])


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = ISSUE_CODE.get(exc.status_code, "processing")
    issue = Issue(code, str(exc.detail), details=_machine(exc.status_code))
    return outcome_response(exc.status_code, [issue], exc.headers)


async def _on_database(request: Request, exc: Exception) -> Response:
    if (
        isinstance(exc, DBAPIError)
        and not isinstance(exc, OperationalError)
        and not exc.connection_invalidated
    ):
        return await _on_unexpected(request, exc)
    log.warning("database unavailable", extra={"error": type(exc).__name__})
    text = "The database is not reachable. Nothing from this request was stored; retry later."
    return outcome_response(503, [Issue("transient", text)], {"Retry-After": "5"})


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error in the FHIR API", exc_info=exc)
    return outcome_response(500, [Issue("exception", "Unexpected error.")])


Handler = Callable[[Request, Exception], Any]
HANDLERS: dict[Any, Handler] = {
    FhirError: _on_fhir_error,
    Problem: _on_problem,
    RequestValidationError: _on_validation,
    StarletteHTTPException: _on_http,
    OperationalError: _on_database,
    PoolTimeoutError: _on_database,
    DBAPIError: _on_database,
    Exception: _on_unexpected,
}


class FhirRoute(APIRoute):
    """An APIRoute whose errors are OperationOutcomes (see the module docstring for why here)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Read by Starlette's wrap_app_handling_exceptions inside request_response, which FastAPI
        # builds per inclusion of the router; handle() is the hook every inclusion goes through.
        scope["starlette.exception_handlers"] = (HANDLERS, {})
        await super().handle(scope, receive, send)


# Deeper than any FHIR resource this service reads (a Bundle of QuestionnaireResponses is about
# 10 levels), and far below where the reference parser's recursion runs out of stack.
MAX_JSON_DEPTH = 64


def too_deep() -> FhirError:
    text = f"The body nests arrays and objects more than {MAX_JSON_DEPTH} deep."
    return FhirError(400, [Issue("structure", text, details=coding("too_large"))])


def nesting_exceeds(data: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether parsed JSON nests arrays and objects more than ``limit`` deep.

    Checked only before ``fhir.resources`` reads a body (it recurses, and a body 100,000 deep
    was a RecursionError, a 500): the compiled inbound models never look deeper than the
    elements they declare, and json.loads' own recursion limit is answered below. Counting on
    every body cost a Bundle of 500 readings as much as parsing it."""
    level = [data]
    for _ in range(limit):
        level = [
            child
            for node in level
            if isinstance(node, dict | list)
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True


def parse_json(raw: bytes) -> Any:
    """The request body as JSON; malformed JSON is a 400 ``structure`` issue."""
    malformed = coding("malformed_json")
    if not raw:
        raise FhirError(400, [Issue("structure", "The request has no body.", details=malformed)])
    try:
        return json.loads(raw)
    except RecursionError as exc:
        raise too_deep() from exc
    except (ValueError, UnicodeDecodeError) as exc:
        text = f"The body is not valid JSON: {exc}"
        raise FhirError(400, [Issue("structure", text, details=malformed)]) from exc
