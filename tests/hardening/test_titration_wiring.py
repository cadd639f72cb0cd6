"""Hazard H-06 (stale thresholds after a dose change): the titration rules need the patient's
medicine changes, and the service must hand them to the pathway.

The pathway's own spec (tests/pathway/test_spec_titration.py) proves the rules given the changes;
this proves the wiring end to end: a clinician records a beta-blocker start, the patient then
sends a slow pulse with worse breathlessness, and the finding `amber.beta_blocker_pulse` ("halve
the dose", domain.md) must come back. Found by reading service/clinical.py: patient_context()
builds PatientContext without medication_changes, so the rule can never fire in the service and
creatinine rises are measured from the earliest result instead of the pre-change one.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from service.db import unit_of_work
from tests.support.clock import T0
from tests.support.factories import make_device_token, make_patient, nhs_number


def test_beta_blocker_start_then_slow_pulse_with_worse_breathlessness(client, world, app) -> None:
    with unit_of_work(app.state.sessions) as s:
        patient = make_patient(
            s, nhs_number(901), world.teams["A1"], cohort="medication_optimisation"
        )
        token = make_device_token(s, patient)
    clinician = world.auth("clin_A1")
    change = {
        "pillar": "beta_blocker",
        "status": "started",
        "changed_on": (T0 - timedelta(days=2)).date().isoformat(),
        "drug": "bisoprolol 2.5 mg",
    }
    resp = client.post(f"/api/v1/patients/{patient}/medications", json=change, headers=clinician)
    assert resp.status_code == 201, resp.text

    taken = (T0 - timedelta(hours=1)).isoformat()
    batch = {
        "readings": [
            {"id": str(uuid.uuid4()), "type": "heart_rate", "taken_at": taken, "value": 48},
            {
                "id": str(uuid.uuid4()),
                "type": "symptoms",
                "taken_at": taken,
                "answers": {
                    "breathlessness": "worse",
                    "orthopnoea": False,
                    "ankle_swelling": "none",
                    "dizziness": False,
                    "chest_pain": False,
                    "fatigue": "usual",
                },
            },
        ]
    }
    resp = client.post(
        "/api/v1/me/readings", json=batch, headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status_code == 201, resp.text
    rules = {f["rule_id"] for f in resp.json()["findings"]}
    assert "amber.beta_blocker_pulse" in rules, rules
