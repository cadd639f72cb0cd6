"""RFC 9457 problem details: every error the API gives is ``application/problem+json``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.problem_codes import Code, body_path, code_of, entry

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://mhf-home.example/problems/"
log = logging.getLogger("mhf.errors")


class Problem(Exception):
    """An expected failure that the API reports with its own status."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Forbidden"


class Unauthorized(Problem):
    status, slug, title = 401, "unauthorized", "Not authenticated"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflict"


class Unprocessable(Problem):
    status, slug, title = 422, "validation-error", "Invalid request"


def field_error(field: str, message: str, code: Code = Code.INVALID_VALUE) -> Unprocessable:
    """A 422 naming the one field at fault (``a.0.b``, as the body nests it), as request
    validation names it."""
    path = [int(step) if step.isdigit() else step for step in field.split(".")]
    return Unprocessable(
        f"{field}: {message}", extra={"errors": [entry(path, code, message, "value_error")]}
    )


class TooManyRequests(Problem):
    status, slug, title = 429, "too-many-requests", "Too many requests"


class UnsupportedMediaType(Problem):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"

    def __init__(self, content_type: str | None) -> None:
        sent = f"'{content_type}'" if content_type else "no content type"
        detail = f"This route takes application/json; the request sent {sent}."
        errors = [entry([], Code.UNSUPPORTED_MEDIA_TYPE, detail, "unsupported_media_type")]
        super().__init__(detail, extra={"errors": errors})


def malformed_json(doc: str, position: int, reason: str) -> Unprocessable:
    """422 for a body that is not JSON, located by line and column (1-based) as an editor
    shows them, rather than a character index."""
    line = doc.count("\n", 0, position) + 1
    column = position - (doc.rfind("\n", 0, position) + 1) + 1
    detail = f"The body is not valid JSON: {reason} at line {line}, column {column}."
    error = entry([], Code.MALFORMED_JSON, detail, "json_invalid")
    return Unprocessable(detail, extra={"errors": [error | {"line": line, "column": column}]})


def is_json(content_type: str | None) -> bool:
    """``application/json`` or any ``application/*+json``, parameters ignored."""
    if not content_type:
        return False
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind == "application/json" or (
        kind.startswith("application/") and kind.endswith("+json")
    )


def problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    # Extension members never overwrite the standard ones.
    body.update({k: v for k, v in extra.items() if k not in body})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_PARAMETERS = ("query", "path", "header", "cookie")
_TAG_DETAIL = {"union_tag_not_found": "Field required"}


def field_errors(errors: Any, body: Any = None) -> list[dict[str, Any]]:
    """Pydantic's errors as entries of ``errors``: a body error with its JSON Pointer into
    ``body`` (the body as sent), a query, path or header error naming its ``parameter``."""
    out = []
    for err in errors:
        loc = tuple(err.get("loc", ()))
        kind = str(err.get("type", "invalid"))
        detail = str(err.get("msg", "invalid"))
        if loc and loc[0] in _PARAMETERS:
            path: list[str | int] = [str(step) for step in loc[1:]]
            item = entry(path, code_of(kind, path), detail, kind)
            item["parameter"] = ".".join(str(step) for step in loc[1:])
            item["field"] = ".".join(str(step) for step in loc)  # as before: "query.limit"
            del item["pointer"]
        else:
            steps = loc[1:] if loc[:1] == ("body",) else loc
            tag = str(err.get("ctx", {}).get("discriminator", "")).strip("'")
            if kind.startswith("union_tag_") and tag.isidentifier():
                if isinstance(err.get("input"), dict):
                    # Located at the union: the member that chooses is the one at fault.
                    steps, detail = (*steps, tag), _TAG_DETAIL.get(kind, detail)
                else:
                    kind, detail = "model_type", "Input should be an object"
            path = body_path(steps, body)
            item = entry(path, code_of(kind, path), detail, kind)
        out.append(item)
    return out


def completed(error: Any) -> Any:
    """An ``errors`` entry built by hand as ``field``, ``message`` and ``type`` (the form
    before issue 23, still raised by many use cases) with the ``code`` and ``detail`` every
    entry has. No ``pointer`` is made up: such a ``field`` may name a body member or a query
    parameter, and a pointer must be exact."""
    if not isinstance(error, dict) or "code" in error:
        return error
    field, kind = str(error.get("field", "")), str(error.get("type", ""))
    code = code_of(kind, field.rsplit(".", 1)[-1:])
    return {"code": code.value, "detail": str(error.get("message", "")), **error}


def summary(errors: list[dict[str, Any]]) -> str:
    """The problem's ``detail``: the first few errors, each where it is and what is wrong."""
    parts = [
        f"{e.get('pointer', e.get('parameter')) or '(body)'}: {e['detail']}" for e in errors[:5]
    ]
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "; ".join(parts) + more


def problem_headers(exc: Problem) -> dict[str, str] | None:
    """The headers a problem answers with, on the API and on FHIR alike."""
    if "retry_after_seconds" in exc.extra:
        # The header is what clients and proxies act on; the member is for people.
        return {"Retry-After": str(int(exc.extra["retry_after_seconds"]))}
    return {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        headers = problem_headers(exc)
        extra = exc.extra
        if isinstance(extra.get("errors"), list):
            extra = {**extra, "errors": [completed(e) for e in extra["errors"]]}
        return problem_response(
            exc.status,
            exc.slug,
            exc.title,
            exc.detail,
            instance=request.url.path,
            headers=headers,
            **extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        raised = exc.errors()
        if raised and raised[0].get("type") == "json_invalid" and isinstance(exc.body, str):
            # FastAPI located a JSON syntax error by its character index.
            position = raised[0]["loc"][-1]
            reason = str(raised[0].get("ctx", {}).get("error", "invalid JSON"))
            return await _problem(request, malformed_json(exc.body, int(position), reason))
        content_type = request.headers.get("content-type")
        on_body = any(tuple(e.get("loc", ()))[:1] == ("body",) for e in raised)
        # FastAPI hands a JSON body's route the raw bytes when the content type is not JSON
        # (a form's route gets its form data): that is a body of a type the route does not take.
        # Never read the body here: a form's stream has been consumed.
        raw = isinstance(exc.body, bytes | bytearray) and bool(exc.body)
        if on_body and raw and not is_json(content_type):
            return await _problem(request, UnsupportedMediaType(content_type))
        errors = field_errors(raised, exc.body)
        return problem_response(
            422,
            "validation-error",
            "Invalid request",
            summary(errors) or "The request did not validate.",
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug = {404: "not-found", 405: "method-not-allowed", 413: "payload-too-large"}.get(
            exc.status_code, "http-error"
        )
        return problem_response(
            exc.status_code,
            slug,
            str(exc.detail) if exc.status_code != 404 else "Not found",
            str(exc.detail),
            instance=request.url.path,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeoutError)
    async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning(
            "database unavailable", extra={"error": type(exc).__name__, "reason": str(exc)[:200]}
        )
        return problem_response(
            503,
            "service-unavailable",
            "Service unavailable",
            "The database is not reachable. Nothing from this request was stored; retry later.",
            instance=request.url.path,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(DBAPIError)
    async def _database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return await _database_unavailable(request, exc)
        log.exception("database error")
        return problem_response(
            500, "internal", "Internal error", "Unexpected error.", instance=request.url.path
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return problem_response(
            500, "internal", "Internal error", "Unexpected error.", instance=request.url.path
        )
