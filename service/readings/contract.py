"""The readings routes' request body and answers as the OpenAPI document describes them.

The routes read their body themselves (``intake``: every error at once), so FastAPI has no body
parameter to describe: the body's schema is given here, from the same ``ReadingsBody`` the
service validates with, with an example of each reading type and of a batch.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from service.contract import RATE_LIMITED, codes_with_status, problem_content
from service.problem_codes import Code
from service.readings.schemas import EXAMPLES, IngestOut, ReadingsBody

_SCHEMA = TypeAdapter(ReadingsBody).json_schema(ref_template="#/components/schemas/{model}")
# The reading models, for the document's components (``service.contract`` adds them).
COMPONENTS: dict[str, Any] = _SCHEMA.pop("$defs")


def _examples() -> dict[str, Any]:
    one = {kind: {"summary": f"One {kind} reading", "value": v} for kind, v in EXAMPLES.items()}
    backlog = [
        EXAMPLES["weight"] | {"id": f"0b6a7d58-4c1e-4f55-9a0e-6c5f0e3d2a0{day}", "taken_at": at}
        for day, at in ((1, "2026-11-18T07:40:00+00:00"), (2, "2026-11-19T07:52:00+00:00"))
    ]
    batch = {"summary": "A batch, as after days offline", "value": {"readings": backlog}}
    return one | {"batch": batch}


REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _SCHEMA, "examples": _examples()}},
    }
}

INGEST_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Every reading had been stored before: answered as the first time",
        "model": IngestOut,
    },
    409: {
        "description": "A reading id was already used for a different reading",
        "content": problem_content(Code.DUPLICATE_ID),
    },
    413: {
        "description": "The body is over the size limit",
        "content": problem_content(Code.TOO_LARGE),
    },
    415: {
        "description": "The body is not declared application/json",
        "content": problem_content(Code.UNSUPPORTED_MEDIA_TYPE),
    },
    422: {
        "description": "The body is invalid: every error in it, each with its JSON Pointer; "
        "nothing of a batch was stored",
        "content": problem_content(*codes_with_status(422)),
    },
    429: RATE_LIMITED,
}
