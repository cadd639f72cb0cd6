"""The OpenAPI document as a client generator reads it (issue 23): stable operation ids, the
plausible range and unit of every numeric reading field from the limits the service checks, an
example of every reading type and every error code, and deprecation as the policy states it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from service.deprecation import deprecated
from service.problem_codes import MEANING, Code
from service.readings.units import LIMITS

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = json.loads((ROOT / "openapi" / "openapi.json").read_text())
SCHEMAS = DOCUMENT["components"]["schemas"]
READING_MODELS = ("WeightIn", "BloodPressureIn", "HeartRateIn", "Spo2In", "LabIn")


def test_operation_ids_are_kept() -> None:
    """Changing or removing an operation id renames or drops a function in every generated
    client: that is a new API version, not an edit (README, "Versioning"). New operations may
    be added to the list; none listed may go."""
    committed = (ROOT / "openapi" / "operation-ids.txt").read_text().splitlines()
    listed = {line for line in committed if line and not line.startswith("#")}
    served = {
        f"{op['operationId']} {method.upper()} {path}"
        for path, operations in DOCUMENT["paths"].items()
        for method, op in operations.items()
    }
    assert listed - served == set(), "operation ids changed or removed"
    assert len(listed) > 90


def test_every_numeric_reading_field_has_its_range_and_unit() -> None:
    for name in READING_MODELS:
        for field, spec in SCHEMAS[name]["properties"].items():
            if spec.get("type") in ("number", "integer"):
                assert {"minimum", "maximum", "x-unit"} <= spec.keys(), (name, field)
                assert spec["minimum"] < spec["maximum"]


def test_the_ranges_are_the_limits_the_service_checks() -> None:
    spo2 = SCHEMAS["Spo2In"]["properties"]["value"]
    assert (spo2["minimum"], spo2["maximum"], spo2["x-unit"]) == (*LIMITS["spo2"], "%")
    systolic = SCHEMAS["BloodPressureIn"]["properties"]["systolic"]
    assert (systolic["minimum"], systolic["maximum"]) == LIMITS["systolic"]
    by_unit = SCHEMAS["WeightIn"]["properties"]["value"]["x-plausible-by"]
    assert (by_unit["kg"]["minimum"], by_unit["kg"]["maximum"]) == LIMITS["weight"]
    assert by_unit["lb"]["maximum"] >= LIMITS["weight"][1] / 0.45359237
    creatinine = SCHEMAS["LabIn"]["properties"]["value"]["x-plausible-by"]["creatinine"]
    assert (creatinine["minimum"], creatinine["maximum"]) == LIMITS["creatinine"]


def test_every_reading_type_and_a_batch_have_an_example() -> None:
    body = DOCUMENT["paths"]["/api/v1/me/readings"]["post"]["requestBody"]["content"]
    examples = body["application/json"]["examples"]
    kinds = {"weight", "blood_pressure", "heart_rate", "spo2", "symptoms", "potassium"}
    assert kinds | {"batch"} <= examples.keys()
    assert {ex["value"]["type"] for k, ex in examples.items() if k != "batch"} == kinds


def test_every_error_code_is_documented_with_an_example() -> None:
    assert set(SCHEMAS["ErrorCode"]["enum"]) == {c.value for c in Code} == set(MEANING)
    examples = DOCUMENT["components"]["examples"]
    for code in Code:
        error = examples[code.value]["value"]["errors"][0]
        assert error["code"] == code.value and "pointer" in error
    responses = DOCUMENT["paths"]["/api/v1/me/readings"]["post"]["responses"]
    assert {"409", "413", "415", "422", "429"} <= responses.keys()
    assert "Retry-After" in responses["429"]["headers"]
    assert "HTTPValidationError" not in SCHEMAS


def test_the_readme_lists_every_error_code() -> None:
    readme = (ROOT / "README.md").read_text()
    assert [c.value for c in Code if f"| `{c.value}` |" not in readme] == []


def test_a_deprecated_operation_says_so_in_headers_and_document(app: FastAPI, client: Any) -> None:
    since, sunset = datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 6, 1, tzinfo=UTC)

    @app.get("/api/v1/old", **deprecated(since=since, sunset=sunset, successor="/api/v2/new"))
    def old() -> dict[str, str]:
        return {"still": "here"}

    app.openapi_schema = None
    answer = client.get("/api/v1/old")
    assert answer.status_code == 200
    assert answer.headers["deprecation"] == f"@{int(since.timestamp())}"
    assert answer.headers["sunset"] == "Tue, 01 Jun 2027 00:00:00 GMT"
    assert answer.headers["link"] == '</api/v2/new>; rel="successor-version"'
    operation = app.openapi()["paths"]["/api/v1/old"]["get"]
    assert operation["deprecated"] is True and operation["x-sunset"] == sunset.isoformat()
    assert "deprecation" not in client.get("/healthz").headers
    assert not [
        (path, method)
        for path, operations in DOCUMENT["paths"].items()
        for method, op in operations.items()
        if op.get("deprecated") and "x-sunset" not in op
    ], "a deprecated operation must state its sunset (service.deprecation)"
