"""Readings sent the way the patient's app sends them, for the tests that need an alert."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.support.clock import T0, FakeClock
from tests.support.world import World

RED_SPO2 = 90  # at or below 92 %: red.spo2


def send_spo2(
    client: TestClient, world: World, value: float, taken_at: datetime, who: str = "pat_A1"
) -> dict[str, Any]:
    """An SpO2 reading from ``who``'s app; the API's answer (the reading and any advice)."""
    reading = {
        "id": str(uuid.uuid4()),
        "type": "spo2",
        "taken_at": taken_at.isoformat(),
        "value": value,
    }
    response = client.post("/api/v1/me/readings", json=reading, headers=world.auth(who))
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def spo2_arriving_at(
    client: TestClient, world: World, value: float, at: datetime, who: str = "pat_A1"
) -> dict[str, Any]:
    """An SpO2 reading that arrives at ``at`` (the clock moves there), taken 2 minutes before."""
    assert world.clock is not None, "the world needs the test clock"
    world.clock.now = at
    return send_spo2(client, world, value, at - timedelta(minutes=2), who)


def spo2(
    client: TestClient, world: World, value: float, minutes_ago: int = 5, who: str = "pat_A1"
) -> dict[str, Any]:
    """An SpO2 reading taken ``minutes_ago`` by the app's clock."""
    clock: FakeClock = client.app.state.clock  # type: ignore[attr-defined]
    return send_spo2(client, world, value, clock() - timedelta(minutes=minutes_ago), who)


def amber_spo2(
    client: TestClient, world: World, clock: FakeClock, who: str = "pat_A1"
) -> dict[str, Any]:
    """A borderline SpO2 needs a confirming re-measure before it becomes an amber finding."""
    first = spo2(client, world, 93, who=who)
    assert first["findings"] == [] and first["advice"]["level"] != "red"
    clock.advance(minutes=30)
    second = spo2(client, world, 94, who=who)
    assert [f["rule_id"] for f in second["findings"]] == ["amber.spo2"]
    return second


def red_alert(client: TestClient, world: World, clock: FakeClock, who: str = "pat_A1") -> None:
    """A low SpO2 reading taken now: the pathway raises a red alert for ``who``."""
    send_spo2(client, world, RED_SPO2, clock.now, who)


def raise_red_alert(client: TestClient, world: World, patient: str = "pat_A1") -> str:
    """A red alert for the patient, raised by the real pathway from a low SpO2 reading; its id."""
    send_spo2(client, world, RED_SPO2, T0 - timedelta(minutes=5), patient)
    team = patient.removeprefix("pat_")
    alerts = client.get("/api/v1/alerts", headers=world.auth(f"clin_{team}")).json()["items"]
    assert alerts and alerts[0]["severity"] == "red"
    return str(alerts[0]["id"])
