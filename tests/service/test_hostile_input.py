"""Hostile input gets a 4xx problem, never a 500, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from tests.support.clock import T0


def reading(**extra):
    body = {
        "id": str(uuid.uuid4()),
        "type": "weight",
        "taken_at": (T0 - timedelta(hours=1)).isoformat(),
        "value": 80,
    }
    body.update(extra)
    return body


def test_bodies_over_the_limit_are_413_before_parsing(client, world):
    big = b'{"readings": [' + b" " * (world.settings.max_body_bytes + 10) + b"]}"
    response = client.post(
        "/api/v1/me/readings",
        content=big,
        headers={**world.auth("pat_A1"), "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


def test_chunked_bodies_over_the_limit_are_413(client, world):
    def chunks():
        for _ in range(40):
            yield b" " * 32_768

    response = client.post(
        "/api/v1/me/readings",
        content=chunks(),
        headers={**world.auth("pat_A1"), "content-type": "application/json"},
    )
    assert response.status_code == 413


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_json_is_4xx(client, world, depth):
    body = "[" * depth + "]" * depth
    response = client.post(
        "/api/v1/me/readings",
        content=body,
        headers={**world.auth("pat_A1"), "content-type": "application/json"},
    )
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_422(client, world, literal):
    body = json.dumps(reading(value=0)).replace('"value": 0', f'"value": {literal}')
    response = client.post(
        "/api/v1/me/readings",
        content=body,
        headers={**world.auth("pat_A1"), "content-type": "application/json"},
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("path", "who", "body"),
    [
        ("/api/v1/sites", "admin", {"name": "Evil\u0000site", "code": "EVIL"}),
        (
            "/api/v1/users",
            "admin",
            {"username": "x", "password": "long-enough\u0000pw", "role": "clinician"},
        ),
        (
            "/api/v1/patients/{pid}/readings",
            "clin_A1",
            reading(type="potassium", unit="mmol/L\u0000", value=4),
        ),
    ],
)
def test_nul_bytes_in_strings_are_422(client, world, path, who, body):
    response = client.post(
        path.format(pid=world.patients["pat_A1"]), json=body, headers=world.auth(who)
    )
    assert response.status_code == 422, response.text


def test_nul_bytes_in_alert_notes_are_422(client, world):
    spo2 = reading(type="spo2", value=90)
    client.post("/api/v1/me/readings", json=spo2, headers=world.auth("pat_A1"))
    alert = client.get("/api/v1/alerts", headers=world.auth("clin_A1")).json()["items"][0]
    response = client.post(
        f"/api/v1/alerts/{alert['id']}/notes",
        json={"text": "rang\u0000"},
        headers=world.auth("clin_A1"),
    )
    assert response.status_code == 422


def test_nul_bytes_in_login_are_refused_not_500(client, world):
    response = client.post("/api/v1/auth/token", data={"username": "clin\u0000a1", "password": "x"})
    assert response.status_code in (401, 422)


def test_nul_bytes_in_query_parameters(client, world):
    response = client.get("/api/v1/me/readings?cursor=%00", headers=world.auth("pat_A1"))
    assert response.status_code == 400
    response = client.get("/api/v1/patients?status=%00", headers=world.auth("clin_A1"))
    assert response.status_code == 422


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xml", "multipart/form-data; boundary=x"]
)
def test_wrong_content_types_are_4xx(client, world, content_type):
    response = client.post(
        "/api/v1/me/readings",
        content=json.dumps(reading()),
        headers={**world.auth("pat_A1"), "content-type": content_type},
    )
    assert 400 <= response.status_code < 500


def test_huge_batch_is_rejected_without_storing(client, world):
    batch = {"readings": [reading() for _ in range(2_000)]}
    response = client.post("/api/v1/me/readings", json=batch, headers=world.auth("pat_A1"))
    assert response.status_code in (413, 422)


def test_malformed_json_is_400_or_422(client, world):
    response = client.post(
        "/api/v1/me/readings",
        content=b'{"id": ',
        headers={**world.auth("pat_A1"), "content-type": "application/json"},
    )
    assert response.status_code in (400, 422)
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("value", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_bad_and_unknown_ids_in_paths(client, world, value):
    response = client.get(f"/api/v1/patients/{value}", headers=world.auth("clin_A1"))
    assert response.status_code in (404, 422)


def test_overlong_strings_are_422(client, world):
    response = client.post(
        "/api/v1/sites", json={"name": "x" * 5000, "code": "LONG"}, headers=world.auth("admin")
    )
    assert response.status_code == 422


def test_integers_beyond_bigint_are_422_not_500(client, world):
    patient = world.patients["pat_A1"]
    response = client.get(
        f"/api/v1/audit/patients/{patient}?before_seq={2**70}", headers=world.auth("admin")
    )
    assert response.status_code == 422
