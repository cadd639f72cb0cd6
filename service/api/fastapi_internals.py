"""The private FastAPI pieces the fast readings route needs, behind one door.

``service/api/readings.py`` serves ``POST /me/readings`` in one pass instead of FastAPI's
general handler, so it must read the body, validate it and map a too-large body exactly as
FastAPI does. Those pieces are not public API and may change in any release: no other module
may import a private ``fastapi._*`` or ``starlette._*`` module (tests/service/test_project.py),
and tests/service/test_fastapi_internals.py fails on a FastAPI other than ``WRITTEN_FOR`` until
someone re-reads these pieces against it.
"""

from __future__ import annotations

from typing import Any

from fastapi._body_limit import get_body_limit_error
from fastapi.dependencies.utils import request_body_to_args
from fastapi.routing import APIRoute

# The FastAPI release these pieces were read against (pyproject.toml's lower bound).
WRITTEN_FOR = "0.165.0"


def body_limit_error(exc: Exception) -> Exception | None:
    """The body limiter's own error inside ``exc`` (the 413 to raise), or None if it is not
    one (``fastapi._body_limit``)."""
    return get_body_limit_error(exc)


def embeds_body_fields(route: APIRoute) -> bool:
    """Whether the route's body is read as ``{"<name>": ...}`` (FastAPI decides per route)."""
    embed: bool = route._embed_body_fields
    return embed


async def validate_body(route: APIRoute, body: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The route's body parameters validated as FastAPI validates them: values and errors."""
    return await request_body_to_args(route.dependant.body_params, body, embeds_body_fields(route))
