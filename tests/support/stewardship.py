"""What the stewardship tests share: a site admin and a site lead in the standard world, and a
valid framework body to vary."""

from __future__ import annotations

from typing import Any

from tests.support.factories import make_user
from tests.support.world import World


def site_admin(world: World, site: str = "A") -> str:
    """A site admin of ``site`` in ``world``; returns the name ``world.auth`` takes."""
    name = f"site_admin_{site}"
    if name not in world.users:
        with world.app.state.sessions() as s:
            world.users[name] = make_user(
                s, name.lower(), "site_admin", [], site_id=world.sites[site]
            )
            s.commit()
    return name


def site_lead(world: World, site: str = "A") -> str:
    """A site lead of ``site`` in ``world``; returns the name ``world.auth`` takes."""
    name = f"site_lead_{site}"
    if name not in world.users:
        with world.app.state.sessions() as s:
            world.users[name] = make_user(
                s, name.lower(), "site_lead", [], site_id=world.sites[site]
            )
            s.commit()
    return name


def framework_body(world: World, *sites: str, **changes: Any) -> dict[str, Any]:
    """A framework with an outcome in each Triple Aim domain, for ``sites`` (none: network)."""
    body: dict[str, Any] = {
        "name": "Heart failure value framework",
        "site_ids": [str(world.sites[s]) for s in sites],
        "aim": "Fewer heart-failure admissions, better lives at home",
        "objectives": ["Act on red alerts the same day", "Optimise the four pillars"],
        "population": {"cohorts": ["post_discharge"], "description": "Adults after an admission"},
        "resources": {"team_wte": 4.5, "budget_gbp": 250_000},
        "outcomes": [
            {
                "domain": "population_health",
                "metric": "caseload",
                "target": 100,
                "direction": "higher",
            },
            {
                "domain": "quality",
                "metric": "weight_adherence",
                "target": 80,
                "direction": "higher",
            },
            {
                "domain": "resources",
                "metric": "caseload_per_wte",
                "target": 40,
                "direction": "higher",
            },
            {
                "domain": "inequalities",
                "metric": "weight_adherence",
                "target": 5,
                "direction": "lower",
                "equity_split": "imd_quintile",
            },
        ],
    }
    body.update(changes)
    return body
