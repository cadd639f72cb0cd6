"""The caller behind a bearer token: a staff access token or a patient's device token.

Who may call what is declared on each route (``service.deps.require``); row-level scoping (a
clinician's teams, a patient's own record) is checked by the use cases.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.identity import device_limit, devices
from service.identity.security import InvalidToken, decode_access_token, token_settings
from service.models import User, UserTeam
from service.problems import Unauthorized
from service.settings import Settings

# ``admin`` is the network-wide administrator; a ``site_admin`` manages one site's teams, users
# and webhooks (``Principal.site_id``); a ``site_lead`` stewards one site: its aggregate reports,
# the network's, its value frameworks and unit costs, never a patient's data.
ROLES = ("patient", "clinician", "programme_lead", "admin", "site_admin", "site_lead")


@dataclass(frozen=True, slots=True)
class Principal:
    role: str
    user_id: uuid.UUID | None = None
    patient_id: uuid.UUID | None = None
    team_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    # The one site a site admin manages or a site lead stewards; None for everyone else.
    site_id: uuid.UUID | None = None

    @property
    def is_staff(self) -> bool:
        return self.role != "patient"


def principal_for(
    session: Session, token: str, settings: Settings, clock: Callable[[], datetime]
) -> Principal:
    """The caller behind a bearer ``token``, or 401."""
    if devices.is_device_token(token):
        principal = device_principal(devices.authenticate(session, token))
        device_limit.count_request(session, token, settings, clock())
        return principal
    return staff_principal(session, token, settings, clock())


def device_principal(device: devices.DevicePatient) -> Principal:
    return Principal(role="patient", patient_id=device.patient.id)


def staff_principal(session: Session, token: str, settings: Settings, now: datetime) -> Principal:
    """The staff user behind an access token, with their teams; 401 for a token that is
    invalid, expired, issued before the user signed out, or of a deactivated user."""
    try:
        claims = decode_access_token(token_settings(settings), token, now)
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
