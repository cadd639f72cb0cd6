"""The one-pass POST /fhir (service/fhir/bundle_route.py) answers as FastAPI's own handler.

The same requests go to the one-pass route and to a plain FastAPI route for the same declared
endpoint (``service.fhir.api.post_bundle``, calling the same ``answer``), each for a patient of
its own set up alike (twins in one site, each with its team's clinician): status, the headers a
client acts on and the body's bytes must be equal, once the twin's id is read as the other's
(the response names each resource by its patient). Run against the installed FastAPI, this is
also what fails on an upgrade that changes how FastAPI reads or refuses a request.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.routing import APIRoute

from service.fhir import bundle_route
from service.fhir.api import post_bundle, router
from service.fhir.bundle_route import BundleRoute
from service.fhir.outcome import FhirRoute
from tests.fhir.helpers import FHIR_JSON, bundle, entry, quantity_obs, symptoms
from tests.support.one_pass import assert_same_answer, count_passes, refused_callers

URL = "/fhir"
ME, TWIN = "pat_A1", "pat_A2"
CLINICIAN = {ME: "clin_A1", TWIN: "clin_A2"}
FHIR = {"content-type": FHIR_JSON}


def _bundle_route() -> APIRoute:
    for route in router.routes:
        if isinstance(route, APIRoute) and route.path == URL and route.methods == {"POST"}:
            return route
    raise AssertionError("POST /fhir is not served")


@contextmanager
def _plain(app: Any) -> Iterator[None]:
    """The same declared route, served by FastAPI's general handler (as an FhirRoute, so its
    errors are OperationOutcomes), tried before the app's routers."""
    own = _bundle_route()
    plain = FhirRoute(
        own.path, post_bundle, methods=["POST"], responses=own.responses, summary=own.summary
    )
    assert not isinstance(plain, BundleRoute)
    app.router.routes.insert(0, plain)
    try:
        yield
    finally:
        app.router.routes.remove(plain)


Body = Callable[[uuid.UUID], bytes]


def _json(make: Callable[[uuid.UUID], Any]) -> Body:
    return lambda pid: json.dumps(make(pid)).encode()


def _weights(pid: uuid.UUID, kind: str = "transaction", value: float = 80.0) -> dict[str, Any]:
    resources = [
        quantity_obs("29463-7", value, "kg", pid, hours=30, identifier="w-1"),
        quantity_obs("59408-5", 88, "%", pid, hours=2, identifier="s-1"),
        symptoms(pid, hours=3),
    ]
    return bundle(resources, kind)


# (name, who: ME for the twins as patients, CLINICIAN for their clinicians, or a fixed caller,
# the body for a patient, extra headers)
CASES: list[tuple[str, str, Body, dict[str, str]]] = []


def case(name: str, who: str, body: Body, headers: dict[str, str] | None = None) -> None:
    CASES.append((name, who, body, {**FHIR, **(headers or {})}))


case("a transaction", ME, _json(_weights))
case("the same transaction again", ME, _json(_weights))
case("a batch", ME, _json(lambda p: _weights(p, "batch")))
case("an identity reused for other content", ME, _json(lambda p: _weights(p, value=70.0)))
case("the same, as a batch", ME, _json(lambda p: _weights(p, "batch", value=70.0)))
case("a value out of range", ME, _json(lambda p: bundle([quantity_obs("29463-7", 900, "kg", p)])))
case(
    "a batch with a bad entry",
    ME,
    _json(
        lambda p: {
            **bundle([quantity_obs("8867-4", 71, "/min", p, hours=5)], "batch"),
            "entry": [
                entry(quantity_obs("8867-4", 71, "/min", p, hours=5)),
                entry({**quantity_obs("8867-4", 72, "/min", p), "status": "preliminary"}),
                {"request": {"method": "POST", "url": "Observation"}},
            ],
        }
    ),
)
case("a transaction with a bad entry", ME, _json(lambda p: bundle([{"resourceType": "Basic"}])))
case("a collection", ME, _json(lambda p: _weights(p, "collection")))
case("too many entries", ME, _json(lambda p: bundle([symptoms(p, hours=i) for i in range(501)])))
case("another patient's reading", ME, _json(lambda p: bundle([symptoms(uuid.uuid4())])))
case("return=representation", ME, _json(_weights), {"prefer": "return=representation"})
case("return=OperationOutcome", ME, _json(_weights), {"prefer": "return=OperationOutcome"})
case("not JSON", ME, lambda p: b'{"resourceType": ')
case("nested too deep", ME, lambda p: b"[" * 100_000)
case("no body", ME, lambda p: b"")
case("a text body", ME, _json(_weights), {"content-type": "text/plain"})
case("a body over the limit", ME, lambda p: b" " * (1024 * 1024 + 1))
case("a clinician's transaction", "clinician", _json(lambda p: _weights(p, value=81.0)))
case("a clinician's batch", "clinician", _json(lambda p: _weights(p, "batch", value=81.0)))
for who in ("anonymous", "bad device token", "basic", "revoked", "discharged", "bad jwt"):
    case(f"{who}, a transaction", who, _json(_weights))
    case(f"{who}, not JSON", who, lambda p: b"{")
case("admin", "admin", _json(_weights))
case("programme lead", "lead", _json(_weights))


@pytest.fixture
def callers(world: Any, app: Any) -> Callable[[str, bool], dict[str, str]]:
    fixed = refused_callers(world, app)

    def headers(who: str, plain: bool) -> dict[str, str]:
        patient = TWIN if plain else ME
        if who == ME:
            return world.auth(patient)
        if who == "clinician":
            return world.auth(CLINICIAN[patient])
        return fixed[who] if who in fixed else world.auth(who)

    return headers


def test_the_one_pass_route_answers_as_fastapis_own_handler(
    client: Any, app: Any, world: Any, callers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(_bundle_route(), BundleRoute)
    me, twin = world.patients[ME], world.patients[TWIN]
    passes = count_passes(monkeypatch, bundle_route, "_post")
    statuses = set()
    for name, who, body, extra in CASES:
        one_pass = client.post(URL, content=body(me), headers={**callers(who, False), **extra})
        reached = len(passes)
        with _plain(app):
            plain = client.post(URL, content=body(twin), headers={**callers(who, True), **extra})
        assert len(passes) == reached, "the plain route must not be the one-pass one"
        as_mine = plain.content.replace(twin.hex.encode(), me.hex.encode())
        assert_same_answer(
            one_pass, plain, name, as_mine.replace(str(twin).encode(), str(me).encode())
        )
        statuses.add(one_pass.status_code)
    # The cases reach every kind of answer, and the route's own worker for most of them.
    assert statuses == {200, 400, 401, 403, 404, 409, 413, 415, 422}
    assert len(passes) > len(CASES) // 2
