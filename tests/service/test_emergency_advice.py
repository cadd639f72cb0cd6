"""Extreme readings through the real ingest path at night: 999 now, and a red alert for the team."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

MONDAY_0205 = datetime(2026, 11, 23, 2, 5, tzinfo=UTC)  # GMT: London time too


@pytest.mark.parametrize(
    ("reading", "rule_id"),
    [
        ({"type": "spo2", "value": 82}, "emergency.spo2"),
        ({"type": "heart_rate", "value": 34}, "emergency.pulse"),
        ({"type": "blood_pressure", "systolic": 72, "diastolic": 40}, "emergency.systolic"),
    ],
)
def test_an_extreme_reading_at_night_is_told_to_call_999_now(client, world, reading, rule_id):
    world.clock.now = MONDAY_0205  # type: ignore[union-attr]
    body = {
        "id": str(uuid.uuid4()),
        "taken_at": (MONDAY_0205 - timedelta(minutes=2)).isoformat(),
        **reading,
    }
    response = client.post("/api/v1/me/readings", json=body, headers=world.auth("pat_A1"))
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["advice"]["code"] == "emergency"
    assert answer["advice"]["text"].startswith("Call 999 now")
    assert "team will call" not in answer["advice"]["text"].lower()
    assert [f["rule_id"] for f in answer["findings"]] == [rule_id]
    queue = client.get("/api/v1/alerts", headers=world.auth("clin_A1")).json()
    (alert,) = queue["items"]
    assert alert["severity"] == "red"
    assert alert["rule_id"] == rule_id
