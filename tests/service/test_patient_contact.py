"""A patient's name and telephone number: recorded by the team, shown to it, kept out of logs."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from service.logs import JsonFormatter, scrub
from service.models import AuditEvent, Patient


def _enrol(client, world, **extra):
    body = {
        "nhs_number": "4010232137",
        "date_of_birth": "1948-02-29",
        "sex": "female",
        "team_id": str(world.teams["A1"]),
        "cohort": "new_diagnosis",
    } | extra
    return client.post("/api/v1/patients", json=body, headers=world.auth("clin_A1"))


def test_enrolment_records_name_and_phone_tidied(client, world):
    response = _enrol(client, world, name="  Ann   Smith ", phone="07700 900123")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["name"], body["phone"]) == ("Ann Smith", "07700 900123")
    again = client.get(f"/api/v1/patients/{body['id']}", headers=world.auth("clin_A1")).json()
    assert (again["name"], again["phone"]) == ("Ann Smith", "07700 900123")


def test_both_are_optional(client, world):
    body = _enrol(client, world).json()
    assert body["name"] is None and body["phone"] is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "ring Sue"),
        ("phone", "12345"),
        ("phone", "+1 202 555 0143"),  # not a UK number: the team could not dial it as shown
        ("name", "   "),
        ("name", "Ann\x07Smith"),  # a control character
        ("name", "x" * 201),
    ],
)
def test_a_bad_name_or_phone_is_422_naming_the_field(client, world, field, value):
    response = _enrol(client, world, **{field: value})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_patch_changes_and_clears_contact_details_and_audits_the_fields_not_values(
    client, world, session
):
    pid = world.patients["pat_A1"]
    url = f"/api/v1/patients/{pid}"
    changed = client.patch(
        url, json={"name": "Bob Jones", "phone": "+44 1332 123456"}, headers=world.auth("clin_A1")
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["phone"] == "+44 1332 123456"
    cleared = client.patch(url, json={"phone": None}, headers=world.auth("clin_A1")).json()
    assert cleared["phone"] is None and cleared["name"] == "Bob Jones"
    details = session.scalars(
        select(AuditEvent.detail).where(AuditEvent.patient_id == pid, AuditEvent.action == "U")
    ).all()
    assert "name,phone" in details and "phone" in details
    assert not any("Bob" in (d or "") or "1332" in (d or "") for d in details)


def test_another_teams_clinician_cannot_set_them(client, world):
    pid = world.patients["pat_A1"]
    response = client.patch(
        f"/api/v1/patients/{pid}", json={"name": "Eve"}, headers=world.auth("clin_B1")
    )
    assert response.status_code == 404


def test_fhir_patient_carries_name_and_telecom(client, world):
    pid = world.patients["pat_A1"]
    client.patch(
        f"/api/v1/patients/{pid}",
        json={"name": "Ann Smith", "phone": "07700 900123"},
        headers=world.auth("clin_A1"),
    )
    resource = client.get(f"/fhir/Patient/{pid}", headers=world.auth("clin_A1")).json()
    assert resource["name"] == [{"use": "usual", "text": "Ann Smith"}]
    assert resource["telecom"] == [{"system": "phone", "value": "07700 900123", "use": "home"}]


@pytest.mark.parametrize(
    "number", ["07700 900123", "07700900123", "+44 7700 900123", "(01332) 123456", "01332-123456"]
)
def test_log_lines_mask_telephone_numbers(number):
    assert scrub(f"could not reach {number} today") == "could not reach [phone] today"


@pytest.mark.parametrize(
    "text", ["2026-12-07T12:00:00+00:00 took 1234 ms", "port 5432", "v1.2.3", "count 1234567"]
)
def test_log_lines_keep_times_and_counts(text):
    assert scrub(text) == text


def test_a_database_error_in_the_logs_carries_no_patient_values(app, world, session):
    patient = session.get(Patient, world.patients["pat_A1"])
    clash = Patient(
        **{
            c.key: getattr(patient, c.key)
            for c in Patient.__table__.columns
            if c.key not in ("id", "name", "phone")
        },
        name="Zebedee Quill",
        phone="07700 900999",
    )
    session.add(clash)
    with pytest.raises(IntegrityError) as raised:
        session.flush()
    session.rollback()
    record = logging.makeLogRecord(
        {"msg": "failed", "exc_info": (IntegrityError, raised.value, None)}
    )
    line = JsonFormatter().format(record)
    assert "Zebedee" not in line and "900999" not in line
