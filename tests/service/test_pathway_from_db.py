"""`mhf pathway evaluate --from-db` replays what the service stored, with recorded admissions."""

from __future__ import annotations

import uuid
from datetime import timedelta

from click.testing import CliRunner

from service.cli import main
from tests.conftest import T0


def test_replay_of_stored_readings_and_admissions(client, world, settings):
    readings = [
        {
            "id": str(uuid.uuid4()),
            "type": "weight",
            "taken_at": (T0 - timedelta(days=20 - day)).isoformat(),
            "value": 80 + (0.6 * max(0, day - 14)),
        }
        for day in range(20)
    ]
    response = client.post(
        "/api/v1/me/readings", json={"readings": readings}, headers=world.auth("pat_A1")
    )
    assert response.status_code == 201
    admission = {"kind": "admission", "admitted_on": "2026-11-20", "hf_related": True}
    patient = world.patients["pat_A1"]
    assert (
        client.post(
            f"/api/v1/patients/{patient}/events", json=admission, headers=world.auth("clin_A1")
        ).status_code
        == 201
    )
    result = CliRunner().invoke(main, ["pathway", "evaluate", "--from-db", settings.database_url])
    assert result.exit_code == 0, result.output
    assert "default pathway" in result.output
    assert "1 patients" in result.output and "events" in result.output
