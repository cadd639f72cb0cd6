"""Request-scoped dependencies: the unit of work, the clock and the caller's identity.

Who may call what is declared on each route with ``require(...)``; row-level scoping (a
clinician's teams, a patient's own record) is checked by the service functions, which answer 404
for anything outside the caller's reach so that ids cannot be probed.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

import anyio.to_thread
from anyio import CancelScope, CapacityLimiter
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from service import audit
from service.db import finish
from service.models import DeviceToken, Patient, User, UserTeam
from service.problems import Forbidden, Unauthorized
from service.security import (
    DEVICE_TOKEN_PREFIX,
    InvalidToken,
    decode_access_token,
    hash_device_token,
    token_settings,
)
from service.settings import Settings

# ``admin`` is the network-wide administrator; a ``site_admin`` manages one site's teams, users
# and webhooks (``Principal.site_id``).
ROLES = ("patient", "clinician", "programme_lead", "admin", "site_admin")


@dataclass(frozen=True, slots=True)
class Principal:
    role: str
    user_id: uuid.UUID | None = None
    patient_id: uuid.UUID | None = None
    team_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    # The one site a site admin manages; None for everyone else.
    site_id: uuid.UUID | None = None

    @property
    def is_staff(self) -> bool:
        return self.role != "patient"


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
    token = credentials.credentials
    if token.startswith(DEVICE_TOKEN_PREFIX):
        principal = _device_principal(session, token)
    else:
        principal = _staff_principal(session, request, token)
    request.state.principal = principal
    return principal


# Built once: constructing the statement on every request cost more than running it.
_DEVICE_PATIENT = (
    select(Patient)
    .join(DeviceToken, DeviceToken.patient_id == Patient.id)
    .where(
        DeviceToken.token_hash == bindparam("token_hash"),
        DeviceToken.revoked_at.is_(None),
        Patient.status != "discharged",
    )
)


def _device_principal(session: Session, token: str) -> Principal:
    # Loading the patient here (not just its id) puts it in the session, so the handler's
    # own look-up of the patient costs no second query on the hottest path, posting readings.
    patient = session.scalars(_DEVICE_PATIENT, {"token_hash": hash_device_token(token)}).first()
    if patient is None:
        raise Unauthorized("The device token is not valid.")
    # The identity map holds objects weakly: without a reference the patient is collected
    # before the handler asks for it, and loaded a second time.
    session.info["device_patient"] = patient
    return Principal(role="patient", patient_id=patient.id)


def _staff_principal(session: Session, request: Request, token: str) -> Principal:
    settings: Settings = request.app.state.settings
    try:
        claims = decode_access_token(token_settings(settings), token, request.app.state.clock())
        user_id = uuid.UUID(str(claims["sub"]))
        issued_at = float(claims["iat"])  # type: ignore[arg-type]
    except (InvalidToken, ValueError, TypeError) as exc:
        raise Unauthorized("The access token is not valid.") from exc
    # The user and their teams in one round trip: this runs before every staff request.
    rows = session.execute(
        select(User.role, User.is_active, User.site_id, User.sessions_valid_after, UserTeam.team_id)
        .outerjoin(UserTeam, UserTeam.user_id == User.id)
        .where(User.id == user_id)
    ).all()
    if not rows or not rows[0].is_active or revoked(rows[0].sessions_valid_after, issued_at):
        raise Unauthorized("The access token is not valid.")
    team_ids = frozenset(row.team_id for row in rows if row.team_id is not None)
    return Principal(role=rows[0].role, user_id=user_id, team_ids=team_ids, site_id=rows[0].site_id)


def revoked(valid_after: datetime | None, issued_at: float) -> bool:
    """A token or page session issued before the user signed out (or was deactivated) is dead.

    A token's ``iat`` is whole seconds, rounded down: a token issued in the same second as, but
    after, a sign-out is refused too. Refusing a fresh token (sign in again) is the safe error;
    accepting an old one is not.
    """
    return valid_after is not None and issued_at < valid_after.timestamp()


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
