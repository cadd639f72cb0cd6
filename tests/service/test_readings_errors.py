"""What a patient app's developer sees when a body is wrong (issue 23): one problem shape, each
error with a JSON Pointer into the body as sent, a stable code and a detail; every error of a
body in one answer; the status that says what kind of wrong it is; and the device's rate limit."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from service.contract import Problem
from service.models import Reading
from service.problem_codes import body_path, pointer
from service.settings import Settings
from tests.support.clock import T0
from tests.support.world import settings_for

URL = "/api/v1/me/readings"


@pytest.fixture
def settings(db_url: str) -> Settings:
    return settings_for(db_url).model_copy(update={"device_rate_limit": 40})


def rid() -> str:
    return str(uuid.uuid4())


def reading(kind: str = "weight", hours: float = 1, **fields: Any) -> dict[str, Any]:
    base = {"id": rid(), "type": kind, "taken_at": (T0 - timedelta(hours=hours)).isoformat()}
    return base | ({"value": 80.0} if kind == "weight" else {}) | fields


def post(client: Any, world: Any, body: Any, **headers: str) -> Any:
    if isinstance(body, bytes):
        headers = {"content-type": "application/json"} | headers
        return client.post(URL, content=body, headers=world.auth("pat_A1") | headers)
    return client.post(URL, json=body, headers=world.auth("pat_A1") | headers)


def errors(response: Any) -> list[tuple[str, str]]:
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    Problem.model_validate(body)  # the shape the OpenAPI document gives
    for error in body["errors"]:
        assert error["detail"] and error["message"] == error["detail"]
        assert error["field"] and error["type"]
    return [(e["pointer"], e["code"]) for e in body["errors"]]


def stored(world: Any) -> int:
    with world.app.state.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Reading)) or 0)


def test_a_batch_answers_every_bad_reading_at_once_and_stores_none(client: Any, world: Any) -> None:
    readings = [reading(hours=3 + i) for i in range(3)]
    readings.append(reading("spo2", value=30))  # impossible, and valid JSON for the schema
    readings.append(reading(taken_at="2026-12-01T08:00:00"))  # no offset: fails the schema
    readings.append(reading("glucose", value=5))
    readings.append(reading(value=80, unit="pounds"))
    readings.append(reading(hours=-3))  # in the future
    readings.append(reading(note="hello"))
    readings.append(reading("blood_pressure", systolic=120))
    readings.append(reading("heart_rate", value="fast"))
    readings.append({**readings[0], "value": 81.0})  # an id used twice
    response = post(client, world, {"readings": readings})
    assert response.status_code == 422
    assert errors(response) == [
        ("/readings/3/value", "out_of_range"),
        ("/readings/4/taken_at", "naive_time"),
        ("/readings/5/type", "unknown_type"),
        ("/readings/6/unit", "unknown_unit"),
        ("/readings/7/taken_at", "future_time"),
        ("/readings/8/note", "unknown_field"),
        ("/readings/9/diastolic", "missing"),
        ("/readings/10/value", "invalid_type"),
        ("/readings/11/id", "duplicate_id"),
    ]
    assert stored(world) == 0


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (reading("spo2", value=101), [("/value", "out_of_range")]),
        (reading("blood_pressure", systolic=90, diastolic=95), [("/diastolic", "invalid_value")]),
        (reading("potassium", value=4.1, unit="mmol/L"), [("/type", "not_allowed")]),
        (reading(hours=24 * 400), [("/taken_at", "too_old")]),
        ({"type": "weight", "value": 80}, [("/id", "missing"), ("/taken_at", "missing")]),
        ({"id": rid(), "taken_at": T0.isoformat(), "value": 80}, [("/type", "missing")]),
        ({"readings": []}, [("/readings", "invalid_value")]),
        ({"readings": [reading()], "device": "x"}, [("/device", "unknown_field")]),
        ([reading()], [("", "invalid_type")]),
        (b"null", [("", "invalid_type")]),
        (b"42", [("", "invalid_type")]),
    ],
)
def test_each_error_points_into_the_body_as_sent(
    client: Any, world: Any, body: Any, expected: list[tuple[str, str]]
) -> None:
    response = post(client, world, body)
    assert response.status_code == 422, response.text
    assert errors(response) == expected


def test_an_empty_body_says_what_to_send(client: Any, world: Any) -> None:
    response = post(client, world, b"", **{"content-type": "application/json"})
    assert response.status_code == 422
    assert errors(response) == [("", "missing")]
    assert "discriminator" not in response.text
    assert '{"readings": [...]}' in response.json()["detail"]


def test_malformed_json_is_located_by_line_and_column(client: Any, world: Any) -> None:
    body = b'{"readings": [\n  {"id": "a",\n   "value": }\n]}'
    response = post(client, world, body, **{"content-type": "application/json"})
    assert response.status_code == 422
    assert errors(response) == [("", "malformed_json")]
    error = response.json()["errors"][0]
    assert (error["line"], error["column"]) == (3, 13)
    assert "line 3, column 13" in error["detail"]


@pytest.mark.parametrize("content_type", ["text/plain", None, "application/xml"])
def test_a_body_not_declared_json_is_415(client: Any, world: Any, content_type: str | None) -> None:
    headers = world.auth("pat_A1") | ({"content-type": content_type} if content_type else {})
    response = client.post(URL, content=json.dumps(reading()).encode(), headers=headers)
    assert response.status_code == 415
    assert errors(response) == [("", "unsupported_media_type")]
    assert stored(world) == 0


def test_the_clinicians_route_answers_the_same_shape(client: Any, world: Any) -> None:
    url = f"/api/v1/patients/{world.patients['pat_A1']}/readings"
    body = {"readings": [reading("spo2", value=30), reading(taken_at="2026-12-01T08:00")]}
    response = client.post(url, json=body, headers=world.auth("clin_A1"))
    assert response.status_code == 422
    assert errors(response) == [
        ("/readings/0/value", "out_of_range"),
        ("/readings/1/taken_at", "naive_time"),
    ]
    plain = client.post(
        url, content=b"x", headers=world.auth("clin_A1") | {"content-type": "text/plain"}
    )
    assert plain.status_code == 415


def test_an_id_reused_for_other_content_is_409_pointing_at_it(client: Any, world: Any) -> None:
    first = reading()
    assert post(client, world, first).status_code == 201
    response = post(client, world, {"readings": [reading(), {**first, "value": 70.0}]})
    assert response.status_code == 409
    assert errors(response) == [("/readings/1/id", "duplicate_id")]


def test_too_large_is_413_with_its_code(client: Any, world: Any) -> None:
    response = post(client, world, b" " * (1024 * 1024 + 1), **{"content-type": "application/json"})
    assert response.status_code == 413
    assert errors(response) == [("", "too_large")]


def test_other_routes_locate_their_errors_too(client: Any, world: Any) -> None:
    response = client.get(URL, params={"limit": 0}, headers=world.auth("pat_A1"))
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert (error["parameter"], error["code"]) == ("limit", "invalid_value")
    # A form's fields are pointed at as a JSON body's (the fuzz once found a 500 here).
    form = {"content-type": "application/x-www-form-urlencoded"}
    login = client.post("/api/v1/auth/token", content=b"username=&password=", headers=form)
    assert login.status_code == 422
    assert errors(login) == [("/username", "missing"), ("/password", "missing")]


def test_an_error_built_by_hand_has_its_code_and_detail_too(client: Any, world: Any) -> None:
    response = client.get(URL, params={"cursor": "nonsense"}, headers=world.auth("pat_A1"))
    assert response.status_code == 400
    Problem.model_validate(response.json())
    (error,) = response.json()["errors"]
    assert (error["code"], error["field"]) == ("invalid_value", "cursor")
    assert error["detail"] == error["message"]


def test_a_device_over_its_limit_is_told_when_to_retry(client: Any, world: Any, clock: Any) -> None:
    """The limit counts every request of the device, on either route, refused ones too."""
    for i in range(38):
        assert post(client, world, reading(hours=1 + i / 10)).status_code == 201
    assert post(client, world, reading("spo2", value=30)).status_code == 422  # counted
    assert client.get(URL, headers=world.auth("pat_A1")).status_code == 200
    clock.advance(seconds=20)
    over = post(client, world, reading())
    assert over.status_code == 429
    assert over.headers["retry-after"] == "40"
    assert errors(over) == [("", "rate_limited")]
    assert client.get(URL, headers=world.auth("pat_A1")).status_code == 429
    assert client.get(URL, headers=world.auth("pat_A2")).status_code == 200  # another device
    clock.advance(seconds=40)
    assert post(client, world, reading()).status_code == 201


def test_fhir_tells_a_device_over_its_limit_when_to_retry(
    client: Any, world: Any, clock: Any
) -> None:
    """The same limit on the FHIR routes, as an OperationOutcome with the same Retry-After."""
    for _ in range(40):
        assert client.get(URL, headers=world.auth("pat_A1")).status_code == 200
    over = client.get("/fhir/QuestionnaireResponse", headers=world.auth("pat_A1"))
    assert over.status_code == 429
    assert over.headers["retry-after"] == "60"
    assert over.json()["resourceType"] == "OperationOutcome"
    clock.advance(seconds=60)
    again = client.get("/fhir/QuestionnaireResponse", headers=world.auth("pat_A1"))
    assert again.status_code == 200


def test_pointers_escape_as_rfc_6901_says() -> None:
    assert pointer(["readings", 3, "value"]) == "/readings/3/value"
    assert pointer(["a/b", "m~n"]) == "/a~1b/m~0n"
    assert pointer([]) == ""
    body = {"readings": [{"type": "weight", "weight": 1}]}
    # A union's tag is not a step of the body, even where a member has the tag's name.
    assert body_path(("batch", "readings", 0, "weight", "value"), body) == ["readings", 0, "value"]
