"""The alert queue as a clinician reads it through the API."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support.world import World


def queue(client: TestClient, world: World, who: str = "clin_A1", **params: Any) -> Any:
    """``GET /api/v1/alerts`` as ``who``: the page's JSON."""
    response = client.get("/api/v1/alerts", params=params, headers=world.auth(who))
    assert response.status_code == 200, response.text
    return response.json()


def only_alert(client: TestClient, world: World, who: str = "clin_A1") -> Any:
    """The one alert in ``who``'s queue."""
    items = queue(client, world, who)["items"]
    assert len(items) == 1, items
    return items[0]
