"""The CapabilityStatement says exactly what the FHIR router serves: every route is listed as
an interaction or operation, and each search takes exactly the parameters it lists."""

from __future__ import annotations

import re
from typing import Any

from fastapi.routing import APIRoute

from service.fhir.api import router, unsupported
from service.fhir.search import COMMON

# Operations and reads that are not "[type]" or "[type]/{id}" are named here, each once.
SYSTEM_ROUTES = {("GET", "/fhir/metadata"): "capabilities", ("POST", "/fhir"): "batch"}


def _statement(client: Any) -> dict[str, Any]:
    response = client.get("/fhir/metadata")
    assert response.status_code == 200
    return response.json()


def _interactions(route_method: str, path: str) -> tuple[str, str]:
    """(resource type, interaction or $operation) a route implements."""
    parts = path.removeprefix("/fhir/").split("/")
    if len(parts) == 1:
        return parts[0], "search-type" if route_method == "GET" else "create"
    if len(parts) == 2:
        return parts[0], "read"
    assert len(parts) == 3 and parts[2].startswith("$"), path
    return parts[0], parts[2]


def _served() -> list[tuple[str, str]]:
    served = []
    for route in router.routes:
        if not isinstance(route, APIRoute) or route.endpoint is unsupported:
            continue
        for method in route.methods or ():
            served.append((method, route.path))
    return served


def test_every_route_appears_in_the_capability_statement(client):
    rest = _statement(client)["rest"][0]
    listed = {
        (r["type"], i["code"]) for r in rest["resource"] for i in r.get("interaction", [])
    } | {(r["type"], f"${o['name']}") for r in rest["resource"] for o in r.get("operation", [])}
    system = {i["code"] for i in rest["interaction"]}
    served = _served()
    assert len(served) > 10
    for method, path in served:
        if (method, path) in SYSTEM_ROUTES:
            assert SYSTEM_ROUTES[method, path] in system | {"capabilities"}
            continue
        assert _interactions(method, path) in listed, f"{method} {path} is not in the statement"
    # And nothing is listed that no route serves.
    implemented = {_interactions(m, p) for m, p in served if (m, p) not in SYSTEM_ROUTES}
    assert listed <= implemented, sorted(listed - implemented)


def test_each_search_takes_exactly_the_parameters_listed(client, world):
    rest = _statement(client)["rest"][0]
    searched = [
        r for r in rest["resource"] if any(i["code"] == "search-type" for i in r["interaction"])
    ]
    assert {r["type"] for r in searched} >= {"Encounter", "MedicationStatement", "Observation"}
    for resource in searched:
        response = client.get(
            f"/fhir/{resource['type']}?not-a-parameter=1", headers=world.auth("clin_A1")
        )
        assert response.status_code == 400
        diagnostics = response.json()["issue"][0]["diagnostics"]
        found = re.search(r"; supported: (.*)$", diagnostics)
        assert found is not None, diagnostics
        supported = set(found.group(1).split(", "))
        listed = {p["name"] for p in resource["searchParam"]}
        assert supported - COMMON == listed, resource["type"]
