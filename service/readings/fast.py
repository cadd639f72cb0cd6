"""POST /me/readings, the busiest route, served in one pass instead of FastAPI's general one.

The general handler resolves five dependencies per request (session, bearer, principal, role
guard, body) and hops to the thread pool three times (principal, endpoint, commit). This
handler does what they do in the same order, with the same answers, through public pieces
only: the body is read and parsed as JSON first (invalid JSON is a 422 before anything else),
validated with a pydantic ``TypeAdapter`` and its errors located as FastAPI locates them, the
bearer credentials read as the ``_bearer`` dependency reads them, then in one worker thread the
caller is authenticated (401: ``service.identity``), the role checked (403), the body's
validation errors raised (422), the readings ingested (``service.readings.service``) and the
transaction committed before the response, or rolled back.

``tests/service/test_readings_fast_route.py`` holds it to the general handler: for each kind
of request the two answer the same status, headers and bytes, on the installed FastAPI.
"""

from __future__ import annotations

import asyncio
import contextvars
import email.message
import json
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import lru_cache
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import TypeAdapter, ValidationError
from pydantic_core import PydanticUndefined as Undefined
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY

from service.db import unit_of_work
from service.deps import authenticate, bearer_credentials
from service.identity import devices
from service.identity.principal import device_principal
from service.problems import Forbidden
from service.readings import service
from service.readings.answers import ingest_answer
from service.readings.schemas import ReadingsBody

# The route's body, validated as FastAPI validates a single body parameter that is not
# embedded: the type adapter of its annotation, attributes read from objects too.
_BODY: TypeAdapter[Any] = TypeAdapter(ReadingsBody)


class OwnReadingsRoute(APIRoute):
    """Serves the declared route (``service.readings.api.post_my_readings``, which keeps its
    parameters, security and OpenAPI description) with the one-pass handler below."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        general = super().get_route_handler()

        async def handler(request: Request) -> Response:
            if MAX_BODY_SIZE_SCOPE_KEY in request.scope:
                # Starlette's own body limit is on (the app uses BodyLimitMiddleware instead):
                # its errors are private types only FastAPI's handler knows how to answer.
                return await general(request)
            raw = await _json_body(request)
            body, errors = validate_body(raw)
            credentials = await bearer_credentials(request)
            return await _in_worker(_post_own, request, credentials, body, errors, raw)

        return handler


def validate_body(raw: Any) -> tuple[Any, list[dict[str, Any]]]:
    """The readings (or None) and the validation errors, as FastAPI gives them for this route:
    located under ``body``, a missing body as FastAPI's own "Field required"."""
    if raw is Undefined:
        return None, [{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}]
    try:
        return _BODY.validate_python(raw, from_attributes=True), []
    except ValidationError as exc:
        return None, [
            {**error, "loc": ("body", *error["loc"])} for error in exc.errors(include_url=False)
        ]


# The route's worker threads, as many as anyio's default limiter allows the app's others.
_WORKERS = ThreadPoolExecutor(max_workers=40, thread_name_prefix="mhf-own-readings")


async def _in_worker(func: Callable[..., Response], *args: Any) -> Response:
    """``func(*args)`` in a worker thread, in a copy of this context, as run_in_threadpool
    runs it, for a fraction of the event loop's CPU: anyio's to_thread.run_sync (a capacity
    limiter acquired and released, cancel scopes, its own worker queue) cost ~2 % of a single
    reading's post (~75k of ~3.2M instructions). Cancelling the awaiting task does not stop
    the call: the unit of work still commits or rolls back in the thread, and only its
    response is not sent."""
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(_WORKERS, context.run, func, *args)


async def _json_body(request: Request) -> Any:
    """The body as FastAPI's handler reads a JSON body (strict content type): bytes unless the
    content type is JSON, nothing for an empty body, 422 for invalid JSON, 400 for a body that
    cannot be parsed at all (e.g. nested too deep)."""
    try:
        body_bytes = await request.body()
        if not body_bytes:
            return Undefined
        content_type = request.headers.get("content-type")
        if not content_type or not _is_json(content_type):
            return body_bytes
        return json.loads(body_bytes)
    except json.JSONDecodeError as e:
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body", e.pos),
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": e.msg},
                }
            ],
            body=e.doc,
        ) from e
    except HTTPException:
        raise
    except Exception as e:
        raise HTTPException(status_code=400, detail="There was an error parsing the body") from e


@lru_cache(maxsize=64)
def _is_json(content_type: str) -> bool:
    """FastAPI's test for a JSON body, kept per header value: parsing the header as a MIME
    message on every reading cost more than parsing the reading."""
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def _post_own(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None,
    body: Any,
    errors: list[dict[str, Any]],
    raw: Any,
) -> Response:
    state = request.app.state
    with unit_of_work(state.sessions) as session:
        if credentials is not None and devices.is_device_token(credentials.credentials):
            # The token's check also takes ingest's lock on its patient, the only one this
            # request can reach: one round trip instead of two.
            device = devices.authenticate(session, credentials.credentials, lock_patient=True)
            principal = device_principal(device)
            request.state.principal = principal
        else:
            device, principal = None, authenticate(request, session, credentials)
        if principal.role != "patient":
            raise Forbidden("Your role does not allow this.")
        if errors:
            raise RequestValidationError(errors, body=None if raw is Undefined else raw)
        if device is None:  # a staff role named "patient" does not exist; never a way in
            raise Forbidden("Your role does not allow this.")
        result = service.post_readings(
            session,
            principal,
            device.patient,
            body,
            now=state.clock(),
            future_skew=timedelta(seconds=state.settings.future_skew_seconds),
            device=device,
        )
        response = ingest_answer(device.patient, result)
    return response
