"""The machine codes a refusal's OperationOutcome issues carry in ``details.coding``.

The FHIR IssueType in ``issue.code`` is coarse (``invalid``, ``value``, ``structure``); a client
that wants to act on a refusal (ask again for a unit, fix a clock) reads these instead. The same
vocabulary names problems on the native readings API, under the problems TYPE_BASE: it is
``service.problem_codes.ErrorCode``, and the ``Code`` literal below (which lets mypy check each
call) is held to it by ``tests/fhir/test_fhir_bundles.py``.
"""

from __future__ import annotations

from typing import Any, Literal

from service.problems import TYPE_BASE

SYSTEM = f"{TYPE_BASE}codes"

Code = Literal[
    "out_of_range",
    "unknown_unit",
    "future_time",
    "naive_time",
    "duplicate_id",
    "missing",
    "invalid_type",
    "unknown_field",
    "unknown_type",
    "invalid_value",
    "malformed_json",
    "too_large",
    "unsupported_media_type",
    "rate_limited",
]


def coding(code: Code) -> dict[str, Any]:
    """An issue's ``details``: one Coding from this vocabulary."""
    return {"coding": [{"system": SYSTEM, "code": code}]}
