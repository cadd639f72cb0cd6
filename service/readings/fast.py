"""POST /me/readings, the busiest route, served in one pass instead of FastAPI's general one.

The general handler resolves five dependencies per request (session, bearer, principal, role
guard, body) and hops to the thread pool three times (principal, endpoint, commit). This
handler does what they do in the same order, with the same answers, through public pieces
only: the body is read and parsed as JSON first (``intake.json_body``: a body not declared JSON
is a 415 and invalid JSON a 422 before anything else), the bearer credentials read as the
``_bearer`` dependency reads them, then in one worker thread the caller is authenticated (401:
``service.identity``), the role checked (403), the body checked whole and the readings ingested
(``service.readings.service``: 422 with every error) and the transaction committed before the
response, or rolled back.

``tests/service/test_readings_fast_route.py`` holds it to the general handler: for each kind
of request the two answer the same status, headers and bytes, on the installed FastAPI.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials

from service.db import unit_of_work
from service.deps import authenticate
from service.identity import device_limit, devices
from service.identity.principal import device_principal
from service.problems import Forbidden
from service.readings import intake, service
from service.readings.answers import ingest_answer
from service.workers import one_pass_handler


class OwnReadingsRoute(APIRoute):
    """Serves the declared route (``service.readings.api.post_my_readings``, which keeps its
    parameters, security and OpenAPI description) with the one-pass handler below."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        # _post_own looked up per request (not bound here), so a test can count what it serves.
        work = lambda *args: _post_own(*args)  # noqa: E731, PLW0108
        return one_pass_handler(super().get_route_handler(), intake.json_body, work)


def _post_own(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None,
    body: Any,
) -> Response:
    state = request.app.state
    now = state.clock()
    with unit_of_work(state.sessions) as session:
        if credentials is not None and devices.is_device_token(credentials.credentials):
            # The token's check also takes ingest's lock on its patient, the only one this
            # request can reach: one round trip instead of two.
            device = devices.authenticate(session, credentials.credentials, lock_patient=True)
            principal = device_principal(device)
            request.state.principal = principal
            device_limit.count_request(session, credentials.credentials, state.settings, now)
        else:
            device, principal = None, authenticate(request, session, credentials)
        if principal.role != "patient":
            raise Forbidden("Your role does not allow this.")
        if device is None:  # a staff role named "patient" does not exist; never a way in
            raise Forbidden("Your role does not allow this.")
        result = service.post_readings(
            session,
            principal,
            device.patient,
            body,
            now=now,
            future_skew=timedelta(seconds=state.settings.future_skew_seconds),
            device=device,
        )
        response = ingest_answer(device.patient, result)
    return response
