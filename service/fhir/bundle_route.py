"""POST /fhir, a batch or transaction Bundle: its answer, and the route that serves it in one pass.

The general handler resolves its dependencies (body, session, bearer, principal, role guard,
clock) and hops to the thread pool for the principal, the endpoint and the commit. This
handler does what they do in the same order, with the same answers, through public pieces
only, as ``service.readings.fast`` does for the native readings: the body is read and the
bearer credentials with it, then in one worker thread the caller is authenticated (401), the
role checked (403), the Bundle answered (``answer``) and the transaction committed before the
response, or rolled back. Its errors are OperationOutcomes, as every FHIR route's (``FhirRoute``).

``tests/fhir/test_bundle_route.py`` holds it to the general handler: for each kind of request
the two answer the same status, headers and bytes, on the installed FastAPI.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from fastapi import Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy.orm import Session

from service import audit
from service.access import route_of
from service.db import unit_of_work
from service.deps import Principal, authenticate
from service.fhir import batch, exchange, inbound_fast, parse
from service.fhir.outcome import FhirRoute
from service.fhir.resources import FHIR_JSON
from service.problems import Forbidden
from service.settings import Settings
from service.workers import one_pass_handler

POSTERS = ("patient", "clinician")


def answer(
    request: Request,
    raw: bytes,
    session: Session,
    settings: Settings,
    principal: Principal,
    now: datetime,
) -> Response:
    """Store a Bundle's readings and answer the batch-response or transaction-response."""
    exchange.media_type(request)
    # The common Bundle in one pass; anything else (and every refusal) the general way.
    fast = inbound_fast.bundle(raw, settings.max_batch_readings)
    if fast is not None:
        bundle = batch.Translated.of(*fast)
    else:
        bundle = batch.translate(settings, parse.parse_bundle(exchange.body(request, raw)))
    results = batch.ingest_bundle(session, principal, settings, bundle, now)
    stored = [r.patient_id for r in results if not isinstance(r, batch.Failed)]
    exchange.audit(session, request, principal, stored, "C", now, "fhir Bundle")
    body = batch.response_body(
        bundle.type, results, exchange.prefer(request, "minimal"), exchange.base(request), now
    )
    return Response(body, media_type=FHIR_JSON)


class BundleRoute(FhirRoute):
    """Serves the declared route (``service.fhir.api.post_bundle``, which keeps its parameters,
    security and OpenAPI description) with the one-pass handler below."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        # _post looked up per request (not bound here), so a test can count what it serves.
        work = lambda *args: _post(*args)  # noqa: E731, PLW0108
        return one_pass_handler(super().get_route_handler(), exchange.raw_body, work)


def _post(
    request: Request, credentials: HTTPAuthorizationCredentials | None, raw: bytes
) -> Response:
    state = request.app.state
    with unit_of_work(state.sessions) as session:
        audit.bind_request(session, route_of(request), state.clock)  # as deps.get_session does
        principal = authenticate(request, session, credentials)
        if principal.role not in POSTERS:
            raise Forbidden("Your role does not allow this.")
        return answer(request, raw, session, state.settings, principal, state.clock())
