"""The adapter over FastAPI's private pieces (service/api/fastapi_internals.py) still fits.

On a FastAPI upgrade the first test fails: read ``fastapi/_body_limit.py``,
``fastapi.dependencies.utils.request_body_to_args`` and ``APIRoute._embed_body_fields`` in the
new release against the adapter, run the readings tests, then move ``WRITTEN_FOR`` (and the
lower bound in pyproject.toml) to it.
"""

from __future__ import annotations

import asyncio

import fastapi
import pytest
from starlette.middleware.body_limit import _RequestBodyTooLarge

from service.api import fastapi_internals, readings


def _own_readings_route() -> fastapi.routing.APIRoute:
    for route in readings.router.routes:
        if isinstance(route, fastapi.routing.APIRoute) and route.path.endswith("/me/readings"):
            return route
    raise AssertionError("POST /me/readings is not on the readings router")


def test_fastapi_is_the_release_the_adapter_was_written_for():
    assert fastapi.__version__ == fastapi_internals.WRITTEN_FOR, (
        f"FastAPI {fastapi.__version__}: check service/api/fastapi_internals.py against it "
        "(see this module's docstring), then update WRITTEN_FOR"
    )


def test_a_too_large_body_is_the_limiters_error_and_nothing_else_is():
    too_large = _RequestBodyTooLarge()
    assert fastapi_internals.body_limit_error(too_large) is too_large
    assert fastapi_internals.body_limit_error(ExceptionGroup("g", [too_large])) is too_large
    assert fastapi_internals.body_limit_error(ValueError("other")) is None


READING = {
    "id": "6a1b2c3d-0000-4000-8000-000000000001",
    "type": "spo2",
    "taken_at": "2026-12-01T08:00:00Z",
    "value": 95,
}


@pytest.mark.parametrize(
    ("body", "first_error"),
    [
        (READING, None),
        ({**READING, "id": None}, ("body", "single", "spo2", "id")),
        ({}, ("body", "single")),
    ],
)
def test_the_readings_body_validates_as_fastapi_would(body, first_error):
    """Not embedded (the body is the reading or the batch itself), errors located under
    ``body`` as FastAPI's handler locates them, the value under the parameter's name."""
    route = _own_readings_route()
    assert fastapi_internals.embeds_body_fields(route) is False
    values, errors = asyncio.run(fastapi_internals.validate_body(route, body))
    if first_error is None:
        assert errors == []
        assert str(values["body"].id) == READING["id"]
    else:
        assert errors[0]["loc"] == first_error
        assert values["body"] is None
