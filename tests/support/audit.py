"""The audit trail's tests: records to chain, and the power to tamper with them."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.support.world import World


def tamper_as_superuser(session: Session) -> None:
    """What only a superuser can do on PostgreSQL (the trail refuses UPDATE and DELETE for
    every role): turn the triggers off for this session, as an attacker with that power would."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET session_replication_role = replica"))


def three_views(client: TestClient, world: World) -> None:
    """Three audited reads: clin_A1 opens pat_A1 twice, clin_A2 opens pat_A2 once."""
    for who, patient in (("clin_A1", "pat_A1"), ("clin_A1", "pat_A1"), ("clin_A2", "pat_A2")):
        url = f"/api/v1/patients/{world.patients[patient]}"
        assert client.get(url, headers=world.auth(who)).status_code == 200
