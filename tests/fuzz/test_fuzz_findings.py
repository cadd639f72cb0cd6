"""Every failure Schemathesis has found (tests/fuzz/test_schemathesis.py), pinned as an ordinary
fast test on both backends, so CI keeps trying each one on every run whatever the fuzzer draws
next. All are fixed (5b9383d, 4c81f39); a new finding gets its minimal reproduction here.
"""

from __future__ import annotations

import pytest

PATCH_NULLS = (
    "PATCH /patients/{id} with explicit nulls writes NULL into NOT NULL columns -> IntegrityError "
    "-> 500; fix in service/patients/schemas.py PatientPatch (refuse null) or service/patients/service.py "
    "patch_patient (exclude_none=True)"
)
MONTH_ZERO = (
    "month=0000-01 matches the API's MONTH pattern but date(0, 1, 1) / parse_month raise "
    "ValueError -> 500; fix in service/reports/period.py report_month (ValueError -> 422, year floor)"
)


@pytest.mark.parametrize(
    "body",
    [
        {
            "cohort": None,
            "expects_daily_weight": 0,
            "status": None,
            "thresholds": None,
            "version": None,
        },
        {"cohort": None},
        {"status": None},
        {"expects_daily_weight": None},
    ],
)
def test_patch_patient_with_nulls_is_not_a_server_error(client, world, body) -> None:
    patient = world.patients["pat_A1"]
    resp = client.patch(f"/api/v1/patients/{patient}", json=body, headers=world.auth("clin_A1"))
    assert resp.status_code in (200, 422), resp.text
    after = client.get(f"/api/v1/patients/{patient}", headers=world.auth("clin_A1")).json()
    assert after["cohort"] and after["status"] in ("active", "paused")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/reports/network?month=0000-01&format=json",
        "/api/v1/reports/sites/{site}?month=0000-01&format=json",
        "/api/v1/reports/sites/{site}/equity?by=sex&month=0000-01",
    ],
)
def test_report_for_year_zero_is_a_validation_error(client, world, path) -> None:
    resp = client.get(path.format(site=world.sites["A"]), headers=world.auth("lead"))
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("owner", ["patients", "users"])
@pytest.mark.parametrize("before_seq", [2**63, 2**70])
def test_audit_cursor_beyond_bigint_is_a_validation_error(client, world, owner, before_seq) -> None:
    # Found as admin (4c81f39): a before_seq PostgreSQL cannot bind as bigint was a 500. Both
    # audit routes take the cursor; 2**63 is the first value past the column's range.
    subject = world.patients["pat_A1"] if owner == "patients" else world.users["clin_A1"]
    resp = client.get(
        f"/api/v1/audit/{owner}/{subject}?before_seq={before_seq}", headers=world.auth("admin")
    )
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
