"""What the admin page tests share: the audited changes an admin made, forms refused without
the session's CSRF token."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from service.models import AuditEvent
from tests.support.world import World, read


def admin_changes(world: World, actor: str) -> list[str]:
    """The details of ``actor``'s audited changes, in order (a change without one reads "")."""
    details = read(
        world,
        lambda s: s.scalars(
            select(AuditEvent.detail)
            .where(AuditEvent.actor_id == world.users[actor], AuditEvent.action != "R")
            .order_by(AuditEvent.seq)
        ).all(),
    )
    return [detail or "" for detail in details]


def refused_without_the_session_token(client: TestClient, posts: dict[str, dict[str, Any]]) -> None:
    """Each form, sent with no session token and with a forged one, is refused as expired."""
    for path, data in posts.items():
        for token in (None, "forged"):
            sent = dict(data) if token is None else {**data, "csrf_token": token}
            response = client.post(path, data=sent)
            assert response.status_code == 403, path
            assert "This form has expired" in response.text
