"""Fixtures of the page tests."""

from __future__ import annotations

import pytest

from tests.support.factories import make_user
from tests.support.world import World


@pytest.fixture
def site_admin(world: World) -> None:
    """A site admin of site A, ``world.users["site_admin_A"]`` (username ``site_admin_a``)."""
    with world.app.state.sessions() as s:
        world.users["site_admin_A"] = make_user(
            s, "site_admin_a", "site_admin", [], site_id=world.sites["A"]
        )
        s.commit()
