"""Request-scoped dependencies: the unit of work, the clock and the caller's identity.

Who may call what is declared on each route with ``require(...)``; row-level scoping (a
clinician's teams, a patient's own record) is checked by the service functions, which answer 404
for anything outside the caller's reach so that ids cannot be probed. Who the caller is, is
``service.identity``'s to say; this module wires it into FastAPI.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Annotated

import anyio.to_thread
from anyio import CancelScope, CapacityLimiter
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from service import audit
from service.db import finish
from service.identity.principal import ROLES, Principal, principal_for
from service.problems import Forbidden, Unauthorized
from service.settings import Settings

# ``Principal`` is identity's; the routes and use cases have always imported it from here.
__all__ = [
    "NowDep",
    "Principal",
    "PrincipalDep",
    "SessionDep",
    "SettingsDep",
    "authenticate",
    "bearer_credentials",
    "get_clock",
    "get_now",
    "get_principal",
    "get_session",
    "get_settings_dep",
    "require",
]


# The trivial dependencies are ``async def`` so that FastAPI calls them on the event loop:
# a plain ``def`` dependency costs a hop to the thread pool and back on every request.
async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_clock(request: Request) -> Callable[[], datetime]:
    clock: Callable[[], datetime] = request.app.state.clock
    return clock


async def get_now(clock: Annotated[Callable[[], datetime], Depends(get_clock)]) -> datetime:
    return clock()


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's unit of work: committed when the handler returns, before the response.

    ``scope="function"`` below makes FastAPI run this exit code before the response is sent, so
    a 2xx always means the transaction is durable.

    An async generator so that opening the session (no I/O until first use) costs no hop to
    the thread pool; the commit or rollback and the close run in a worker thread, shielded from
    cancellation and with a limiter of their own, as FastAPI runs a plain generator's exit.
    """
    session: Session = request.app.state.sessions()
    matched = request.scope.get("route")
    route = f"{request.method} {getattr(matched, 'path', request.url.path)}"
    audit.bind_request(session, route, request.app.state.clock)
    try:
        yield session
    except BaseException:
        with CancelScope(shield=True):
            await anyio.to_thread.run_sync(_end, session, False, limiter=CapacityLimiter(1))
        raise
    with CancelScope(shield=True):
        await anyio.to_thread.run_sync(_end, session, True, limiter=CapacityLimiter(1))


def _end(session: Session, commit: bool) -> None:
    finish(session, commit)


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
NowDep = Annotated[datetime, Depends(get_now)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]

_bearer = HTTPBearer(auto_error=False, description="Staff access token or patient device token")


def get_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    return authenticate(request, session, credentials)


async def bearer_credentials(request: Request) -> HTTPAuthorizationCredentials | None:
    """The bearer credentials exactly as the ``_bearer`` dependency reads them."""
    return await _bearer(request)


def authenticate(
    request: Request, session: Session, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    """The caller behind ``credentials`` (401 otherwise); what ``get_principal`` resolves."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("A bearer token is required.")
    state = request.app.state
    principal = principal_for(session, credentials.credentials, state.settings, state.clock)
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """Route guard: the caller must hold one of ``roles`` (403 otherwise)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    async def guard(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise Forbidden("Your role does not allow this.")
        return principal

    guard.allowed_roles = roles  # type: ignore[attr-defined]
    return guard
