"""The one-pass POST /me/readings (service/readings/fast.py) answers as FastAPI's own handler.

The same requests go to the fast route and to a plain FastAPI route for the same declared
endpoint (``service.readings.api.post_my_readings``, calling the same use case), each for a
patient of its own set up alike: status, the headers a client acts on and the body's bytes must
be equal. Run against the installed FastAPI, this is also what fails on an upgrade that changes
how FastAPI reads, validates or refuses a body.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute

from service.readings import fast
from service.readings.api import post_my_readings, router
from service.readings.fast import OwnReadingsRoute
from tests.support.clock import T0
from tests.support.one_pass import assert_same_answer, count_passes, refused_callers

URL = "/api/v1/me/readings"
# Who the request comes from: the fast route's patient and the plain route's are twins.
ME, TWIN = "pat_A1", "pat_A2"


def _own_route() -> APIRoute:
    for route in router.routes:
        if isinstance(route, APIRoute) and route.path == URL and route.methods == {"POST"}:
            return route
    raise AssertionError("POST /me/readings is not served")


@contextmanager
def _plain(app: Any) -> Iterator[None]:
    """The same declared route, served by FastAPI's general handler, tried before the app's
    routers."""
    own = _own_route()
    plain = APIRoute(
        own.path,
        post_my_readings,
        methods=["POST"],
        response_model=own.response_model,
        status_code=own.status_code,
        responses=own.responses,
        summary=own.summary,
    )
    assert not isinstance(plain, OwnReadingsRoute)
    app.router.routes.insert(0, plain)
    try:
        yield
    finally:
        app.router.routes.remove(plain)


def rid() -> str:
    return str(uuid.uuid4())


READING_IDS = [rid() for _ in range(6)]


def weight(value: float = 80.0, hours: float = 1, id_: str | None = None) -> dict[str, Any]:
    taken = (T0 - timedelta(hours=hours)).isoformat()
    return {"id": id_ or rid(), "type": "weight", "taken_at": taken, "value": value}


JSON = {"content-type": "application/json"}


def _json(body: Any) -> tuple[bytes, dict[str, str]]:
    return json.dumps(body).encode(), JSON


# (name, who sends it: ME for the patients, or a fixed caller, the body, extra headers)
CASES: list[tuple[str, str, bytes, dict[str, str]]] = []


def case(name: str, who: str, body: bytes, headers: dict[str, str] | None = None) -> None:
    CASES.append((name, who, body, dict(headers or {})))


_batch = {
    "readings": [
        weight(81.0, hours=30, id_=READING_IDS[0]),
        {
            "id": READING_IDS[1],
            "type": "spo2",
            "taken_at": (T0 - timedelta(hours=2)).isoformat(),
            "value": 88,
        },
        {
            "id": READING_IDS[2],
            "type": "blood_pressure",
            "taken_at": (T0 - timedelta(hours=2)).isoformat(),
            "systolic": 118,
            "diastolic": 71,
        },
    ]
}
case("valid single", ME, *_json(weight(80.4, id_=READING_IDS[3])))
case("valid batch with a finding", ME, *_json(_batch))
case("re-sent batch", ME, *_json(_batch))
case("re-sent single", ME, *_json(weight(80.4, id_=READING_IDS[3])))
case("an id reused for other content", ME, *_json(weight(70.0, id_=READING_IDS[3])))
case("a value out of range", ME, *_json(weight(900.0)))
case("a reading in the future", ME, *_json(weight(80.0, hours=-2)))
case("a lab result from a patient", ME, *_json({**weight(), "type": "potassium", "unit": "mmol/L"}))
case("no value", ME, *_json({k: v for k, v in weight().items() if k != "value"}))
case("an unknown type", ME, *_json({**weight(), "type": "glucose"}))
case("an unknown field", ME, *_json({**weight(), "note": "x"}))
case("a naive time", ME, *_json({**weight(), "taken_at": "2026-12-01T08:00:00"}))
case("a batch too large", ME, *_json({"readings": [weight(hours=1 + i / 60) for i in range(501)]}))
case("an empty batch", ME, *_json({"readings": []}))
case("a list", ME, *_json([weight()]))
case("a number", ME, *_json(42))
case("null", ME, *_json(None))
case("invalid JSON", ME, b'{"id": ', JSON)
case("JSON nested too deep", ME, b"[" * 100_000, JSON)
case("an empty body", ME, b"", JSON)
case("no content type", ME, _json(weight())[0])
case("a text content type", ME, _json(weight())[0], {"content-type": "text/plain"})
case("a +json content type", ME, *_json(weight(79.0)))
CASES[-1][3]["content-type"] = "application/vnd.mhf+json; charset=utf-8"
case("a body over the limit", ME, b" " * (1024 * 1024 + 1), JSON)
for who in ("anonymous", "bad device token", "basic", "revoked", "discharged", "bad jwt"):
    case(f"{who}, valid body", who, *_json(weight()))
    case(f"{who}, invalid body", who, *_json({"id": "x"}))
    case(f"{who}, invalid JSON", who, b"{", JSON)
case("clinician, valid body", "clin_A1", *_json(weight()))
case("clinician, invalid body", "clin_A1", *_json({"id": "x"}))
case("admin, no body", "admin", b"")


@pytest.fixture
def callers(world: Any, app: Any) -> Callable[[str, bool], dict[str, str]]:
    """Headers for each caller; the two patients are twins (same plan, same default site)."""
    fixed = refused_callers(world, app)

    def headers(who: str, plain: bool) -> dict[str, str]:
        if who == ME:
            return world.auth(TWIN if plain else ME)
        return fixed[who] if who in fixed else world.auth(who)

    return headers


def test_the_fast_route_answers_as_fastapis_own_handler(
    client: Any, app: Any, callers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(_own_route(), OwnReadingsRoute)
    passes = count_passes(monkeypatch, fast, "_post_own")
    statuses = set()
    for name, who, body, extra in CASES:
        fast_answer = client.post(URL, content=body, headers={**callers(who, False), **extra})
        reached = len(passes)
        with _plain(app):
            plain_answer = client.post(URL, content=body, headers={**callers(who, True), **extra})
        assert len(passes) == reached, "the plain route must not be the fast one"
        assert_same_answer(fast_answer, plain_answer, name, plain_answer.content)
        statuses.add(fast_answer.status_code)
    # The cases reach every kind of answer, and the fast route's own worker for most of them.
    assert statuses == {200, 201, 400, 401, 403, 409, 413, 415, 422}
    assert len(passes) > len(CASES) // 2
