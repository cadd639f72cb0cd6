"""The organisation use cases shared by the API and the CLI: staff users."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.models import Team, User, UserTeam
from service.problems import Conflict, Unprocessable
from service.schemas import UserIn, UserOut
from service.security import hash_password


def add_user(session: Session, body: UserIn, now: datetime) -> UserOut:
    """A new active staff user in the given teams; 409 for a taken username, 422 for unknown
    teams."""
    username = body.username.lower()
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict("That username is taken.")
    team_ids = list(dict.fromkeys(body.team_ids))
    found = set(session.scalars(select(Team.id).where(Team.id.in_(team_ids))).all())
    missing = [str(t) for t in team_ids if t not in found]
    if missing:
        raise Unprocessable(
            "Unknown team ids.",
            extra={
                "errors": [
                    {"field": "team_ids", "message": f"unknown team {m}", "type": "unknown"}
                    for m in missing
                ]
            },
        )
    user = User(
        id=uuid.uuid4(),
        username=username,
        display_name=body.display_name,
        password_hash=hash_password(body.password),
        role=body.role,
        is_active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    session.add_all(UserTeam(user_id=user.id, team_id=t) for t in team_ids)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict("That username is taken.") from exc
    return UserOut(
        id=user.id,
        username=user.username,
        role=user.role,
        display_name=user.display_name,
        team_ids=team_ids,
    )
