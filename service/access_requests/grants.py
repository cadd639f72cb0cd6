"""The grants an approved access request gives, as the read paths check them: one user, one
report or framework, until the grant's expiry if it has one."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from service.deps import Principal
from service.models import AccessGrant


def granted_targets(principal: Principal, kind: str, now: datetime) -> Select[Any]:
    """The ids of the reports or frameworks of ``kind`` the caller holds a live grant for, as
    one SQL query (empty for a caller with no user, a patient or the CLI)."""
    return select(AccessGrant.target_id).where(
        AccessGrant.user_id == principal.user_id,
        AccessGrant.kind == kind,
        or_(AccessGrant.expires_at.is_(None), AccessGrant.expires_at > now),
    )


def holds_grant(
    session: Session, principal: Principal, kind: str, target_id: uuid.UUID, now: datetime
) -> bool:
    if principal.user_id is None:
        return False
    query = granted_targets(principal, kind, now).where(AccessGrant.target_id == target_id)
    return bool(session.scalar(select(exists(query))))
