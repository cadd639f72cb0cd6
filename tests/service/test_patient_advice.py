"""Patient advice through the real ingest path on a frozen clock: 999 now for extreme readings,
and a red answer that names when the team will call, by the alert's own due time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.readings import spo2_arriving_at

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
    world.clock.now = MONDAY_0205
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


FRIDAY_1900 = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)  # GMT: London time too


def test_a_red_reading_on_friday_evening_names_monday_and_nhs_111(client, world):
    answer = spo2_arriving_at(client, world, 91, FRIDAY_1900)
    text = answer["advice"]["text"]
    assert answer["advice"]["code"] == "red_same_day"
    assert "on Monday 30 November, by 12:00" in text and "NHS 111" in text
    assert "today" not in text
    (alert,) = client.get("/api/v1/alerts", headers=world.auth("clin_A1")).json()["items"]
    assert alert["due_at"].startswith("2026-11-30T12:00")  # the same policy set both


def test_the_sites_own_out_of_hours_number(client, world):
    site = {"response_policy": {"out_of_hours_contact": "the Derby urgent care line"}}
    response = client.patch(
        f"/api/v1/sites/{world.sites['A']}", json=site, headers=world.auth("admin")
    )
    assert response.status_code == 200, response.text
    answer = spo2_arriving_at(client, world, 91, FRIDAY_1900)
    assert "call the Derby urgent care line now" in answer["advice"]["text"]


def test_a_red_reading_in_hours_is_called_back_today(client, world):
    answer = spo2_arriving_at(client, world, 91, datetime(2026, 11, 27, 10, 0, tzinfo=UTC))
    assert "today, by 14:00" in answer["advice"]["text"]
    assert "NHS 111" not in answer["advice"]["text"]
