from __future__ import annotations

import re

from fastapi.routing import iter_route_contexts
from starlette.routing import compile_path

from service.app import ROUTERS


def test_health(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    body = client.get("/readyz").json()
    assert body["status"] == "ok"


def test_no_two_routers_answer_the_same_request():
    """service.app.ROUTERS puts the busiest router first: safe only while no request could be
    answered by routes of two routers, so that their order never decides which one answers.
    (Within a router the order is its own: the FHIR catch-all comes after the FHIR routes.)"""
    routes = [
        (index, route.path, compile_path(route.path)[0], set(route.methods or ()) - {"HEAD"})
        for index, router in enumerate(ROUTERS)
        for route in iter_route_contexts(router.routes)
        if route.path is not None
    ]
    assert len(routes) > 50
    for index, path, _, methods in routes:
        # The same sample for every parameter: two routes that differ only in a parameter's
        # name or type would both match it.
        sample = re.sub(r"{[^}]+}", "00000000-0000-0000-0000-000000000001", path)
        answering = [
            other
            for other_index, other, regex, other_methods in routes
            if other_index != index and regex.match(sample) and methods & other_methods
        ]
        assert not answering, (sample, answering)
