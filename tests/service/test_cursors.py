"""Issue 18 finding 6: a cursor the service did not issue is a 400, on every paged route.

Before, base64 of ``["not-a-uuid"]`` on the patient list, and readings cursors with a bad date,
a bad UUID or a naive time, answered 500. Every cursor is now decoded by
``service.pagination.decode``; these properties send arbitrary bytes, arbitrary base64 and
near-misses of real cursors to every paged route and accept only a page or a 400.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.hypothesis_profiles import scaled
from tests.support.clock import T0

# (path, caller, cursor parameter); {pat} and {clin} are filled from the world.
PAGED = [
    ("/api/v1/patients", "clin_A1", "cursor"),
    ("/api/v1/me/readings", "pat_A1", "cursor"),
    ("/api/v1/patients/{pat}/readings", "clin_A1", "cursor"),
    ("/api/v1/alerts", "clin_A1", "cursor"),
    ("/api/v1/patients/{pat}/events", "clin_A1", "cursor"),
    ("/api/v1/patients/{pat}/medications", "clin_A1", "cursor"),
    ("/api/v1/patients/{pat}/kccq", "clin_A1", "cursor"),
    ("/api/v1/patients/{pat}/contacts", "clin_A1", "cursor"),
    ("/fhir/Observation?subject=Patient/{pat}", "clin_A1", "_cursor"),
    ("/fhir/QuestionnaireResponse?subject=Patient/{pat}", "clin_A1", "_cursor"),
    ("/fhir/Patient/{pat}/$everything", "clin_A1", "_cursor"),
]
# The audit trail pages by sequence number, an integer FastAPI validates (422), not a cursor.
AUDIT = [
    ("/api/v1/audit/patients/{pat}", "admin", "before_seq"),
    ("/api/v1/audit/users/{clin}", "admin", "before_seq"),
]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor(*parts: str) -> str:
    return _b64(json.dumps(list(parts), separators=(",", ":")).encode())


# What a value in a cursor could be: the kinds the routes expect, and their near misses.
_values = st.one_of(
    st.uuids().map(str),
    st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
    st.datetimes().map(datetime.isoformat),  # naive
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["not-a-uuid", "2026-13-45", "0001-01-01T00:00:00+01:00", "", "\x00"]),
    st.text(max_size=40),
)
cursors = st.one_of(
    # Arbitrary bytes, percent-encoded as they arrive.
    st.binary(max_size=200).map(lambda b: ("raw", b)),
    # Arbitrary base64: gets past the alphabet, fails at JSON or after.
    st.binary(max_size=200).map(lambda b: ("text", _b64(b))),
    # Arbitrary JSON in base64: a list, an object, a number.
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
        max_leaves=8,
    ).map(lambda v: ("text", _b64(json.dumps(v).encode()))),
    # The shape of a real cursor, one to three values of any kind.
    st.lists(_values, min_size=1, max_size=3).map(lambda parts: ("text", _cursor(*parts))),
)


def _query(kind: str, value: bytes | str) -> str:
    if kind == "raw":
        assert isinstance(value, bytes)
        return urllib.parse.quote_from_bytes(value, safe="")
    assert isinstance(value, str)
    return urllib.parse.quote(value, safe="")


def _url(world, path: str, name: str, kind: str, value: bytes | str) -> str:
    path = path.format(pat=world.patients["pat_A1"], clin=world.users["clin_A1"])
    return f"{path}{'&' if '?' in path else '?'}{name}={_query(kind, value)}"


def _refused_properly(response, path: str) -> None:
    assert response.status_code in (200, 400), (response.status_code, response.text)
    if response.status_code == 400:
        if path.startswith("/fhir"):
            body = response.json()
            assert body["resourceType"] == "OperationOutcome", body
        else:
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["status"] == 400


FUZZ = settings(
    max_examples=scaled(25),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    deadline=None,
)


@pytest.mark.parametrize(("path", "who", "name"), PAGED, ids=[p[0] for p in PAGED])
@FUZZ
@given(cursor=cursors)
@example(cursor=("text", _cursor("not-a-uuid")))
@example(cursor=("text", _cursor("2026-13-45T00:00:00+00:00", "not-a-uuid")))
@example(cursor=("text", _cursor("2026-11-20T09:00:00", "3c0ba0fe-5ac7-4e5f-a6ae-000000000000")))
@example(cursor=("text", _cursor("2026-11-20T09:00:00+00:00", "not-a-uuid")))
@example(cursor=("text", _cursor("2026-11-20", "not-a-uuid")))
@example(cursor=("text", _cursor("0001-01-01T00:00:00+01:00", "3c0ba0fe-5ac7-4e5f-a6ae-1")))
@example(cursor=("text", _b64(b"[" * 3000 + b"]" * 3000)))
@example(cursor=("text", _b64(b"[" * 150 + b"]" * 150)))
@example(cursor=("raw", b"\x00\xff"))
def test_any_cursor_is_a_page_or_a_400(client, world, path, who, name, cursor) -> None:
    kind, value = cursor
    response = client.get(_url(world, path, name, kind, value), headers=world.auth(who))
    _refused_properly(response, path)


@pytest.mark.parametrize(("path", "who", "name"), AUDIT, ids=[p[0] for p in AUDIT])
@FUZZ
@given(cursor=cursors)
def test_the_audit_trails_page_key_is_validated(client, world, path, who, name, cursor) -> None:
    kind, value = cursor
    response = client.get(_url(world, path, name, kind, value), headers=world.auth(who))
    assert response.status_code in (200, 422), (response.status_code, response.text)


@pytest.mark.parametrize(("path", "who", "name"), PAGED, ids=[p[0] for p in PAGED])
def test_every_paged_route_answers_one_problem_for_a_bad_cursor(
    client, world, path, who, name
) -> None:
    """One decoder: the same 400, naming the parameter, from every route."""
    response = client.get(
        _url(world, path, name, "text", _cursor("not-a-uuid")), headers=world.auth(who)
    )
    assert response.status_code == 400, response.text
    if not path.startswith("/fhir"):
        body = response.json()
        assert body["type"].endswith("/bad-cursor")
        assert body["errors"][0]["field"] == name


def test_a_real_cursor_still_pages(client, world) -> None:
    """The decoder reads what the encoder wrote: a patient's readings page through in order."""
    for hours in range(3):
        reading = {
            "id": f"00000000-0000-4000-8000-00000000000{hours}",
            "type": "weight",
            "taken_at": (T0 - timedelta(hours=hours + 1)).isoformat(),
            "value": 80,
        }
        client.post("/api/v1/me/readings", json=reading, headers=world.auth("pat_A1"))
    seen, cursor = [], None
    for _ in range(5):
        params = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/me/readings", params=params, headers=world.auth("pat_A1"))
        assert page.status_code == 200, page.text
        seen += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 3
