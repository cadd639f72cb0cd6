"""Enrolment, the NHS number check, thresholds and scoping of patient records."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.models import AuditEvent, DeviceToken, Patient
from service.nhs_number import check_digit, format_nhs_number, is_valid_nhs_number


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("9434765919", True),  # NHS Digital's published test number
        ("9434765918", False),  # wrong check digit
        ("943476591", False),  # nine digits
        ("94347659190", False),  # eleven digits
        ("943476591a", False),
        ("１２３４５６７８９０", False),  # full-width digits are not ASCII
        ("0000000000", True),
        ("1000000010", False),  # remainder gives check digit 10: never issued
    ],
)
def test_nhs_number_modulus_11(number, valid):
    assert is_valid_nhs_number(number) is valid


def test_check_digit_10_means_no_valid_number():
    # 1*10 + 0... : total 10 -> 11 - 10 = 1; pick digits whose remainder is 1 -> check 10
    assert check_digit("000000001") == 9
    assert check_digit("100000001") is None
    assert format_nhs_number("9434765919") == "943 476 5919"


def enrol(client, world, who="clin_A1", team="A1", **extra):
    body = {
        "nhs_number": "943 476 5900",
        "date_of_birth": "1948-02-29",
        "sex": "male",
        "team_id": str(world.teams[team]),
        "cohort": "new_diagnosis",
        "ethnicity": "M",
        "imd_quintile": 1,
        "thresholds": {"target_weight_kg": 72.5},
    }
    body.update(extra)
    return client.post("/api/v1/patients", json=body, headers=world.auth(who))


def test_clinician_enrols_a_patient_in_own_team(client, world):
    response = enrol(
        client,
        world,
        nhs_number="9434765900" if is_valid_nhs_number("9434765900") else "4010232137",
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "active" and body["thresholds"] == {"target_weight_kg": 72.5}
    assert body["enrolled_on"] == "2026-11-20"


def test_enrolment_rejects_invalid_nhs_number_naming_the_field(client, world):
    response = enrol(client, world, nhs_number="9434765918")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "nhs_number"


def test_enrolling_an_active_number_again_is_409_but_after_discharge_is_allowed(
    client, world, session
):
    number = "4010232137"
    assert enrol(client, world, nhs_number=number).status_code == 201
    again = enrol(client, world, nhs_number=number, team="A2", who="clin_A2")
    assert again.status_code == 409

    patient = session.scalar(select(Patient).where(Patient.nhs_number == number))
    patient.status = "discharged"
    session.commit()
    assert enrol(client, world, nhs_number=number).status_code == 201


def test_clinician_cannot_enrol_into_another_team(client, world):
    assert enrol(client, world, team="B1").status_code == 404


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cohort", "vip"),
        ("sex", "x"),
        ("ethnicity", "Q"),
        ("imd_quintile", 6),
        ("date_of_birth", "2030-01-01"),
        ("status", "discharged"),  # not settable at enrolment
        ("thresholds", {"spo2_red_at_or_below": 80}),
    ],
)
def test_enrolment_validation(client, world, field, value):
    response = enrol(client, world, nhs_number="4010232137", **{field: value})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_get_patient_is_scoped_and_audited(client, world, session):
    own = world.patients["pat_A1"]
    assert client.get(f"/api/v1/patients/{own}", headers=world.auth("clin_A1")).status_code == 200
    for other in ("pat_A2", "pat_B1"):
        assert (
            client.get(
                f"/api/v1/patients/{world.patients[other]}", headers=world.auth("clin_A1")
            ).status_code
            == 404
        )
    assert client.get(f"/api/v1/patients/{own}", headers=world.auth("lead")).status_code == 403
    assert client.get(f"/api/v1/patients/{own}", headers=world.auth("admin")).status_code == 403
    rows = session.scalars(select(AuditEvent).where(AuditEvent.patient_id == own)).all()
    session.commit()
    assert [(r.actor_id, r.action, r.route) for r in rows] == [
        (world.users["clin_A1"], "R", "GET /api/v1/patients/{patient_id}")
    ]


def test_patch_thresholds_with_version_check(client, world):
    pid = world.patients["pat_A1"]
    headers = world.auth("clin_A1")
    first = client.patch(
        f"/api/v1/patients/{pid}",
        json={"thresholds": {"target_weight_kg": 79}, "version": 1},
        headers=headers,
    )
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = client.patch(
        f"/api/v1/patients/{pid}",
        json={"thresholds": {"target_weight_kg": 78}, "version": 1},
        headers=headers,
    )
    assert stale.status_code == 409
    unsafe = client.patch(
        f"/api/v1/patients/{pid}",
        json={"thresholds": {"spo2_red_at_or_below": 84}},
        headers=headers,
    )
    assert unsafe.status_code == 422
    mass = client.patch(
        f"/api/v1/patients/{pid}", json={"team_id": str(world.teams["B1"])}, headers=headers
    )
    assert mass.status_code == 422


def test_list_patients_only_own_teams(client, world):
    response = client.get("/api/v1/patients", headers=world.auth("clin_A1"))
    assert response.status_code == 200
    assert [p["id"] for p in response.json()["items"]] == [str(world.patients["pat_A1"])]
    other_team = client.get(
        f"/api/v1/patients?team_id={world.teams['B1']}", headers=world.auth("clin_A1")
    )
    assert other_team.json()["items"] == []


def test_device_token_is_shown_once_and_stored_hashed(client, world, session):
    pid = world.patients["pat_A1"]
    response = client.post(f"/api/v1/patients/{pid}/device-token", headers=world.auth("clin_A1"))
    assert response.status_code == 201
    token = response.json()["token"]
    stored = [row.token_hash for row in session.scalars(select(DeviceToken)).all()]
    session.commit()  # release SQLite's write lock before the app needs it
    assert token not in stored and len(stored) == 4
    me = client.get("/api/v1/me/readings", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
