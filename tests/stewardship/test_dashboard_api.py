"""The dashboard through the API and the page: its contract, its scoping, the version in force,
and the CSV as the JSON."""

from __future__ import annotations

import csv
import io

from tests.support.signin import signed_in
from tests.support.stewardship import framework_body

URL = "/api/v1/value-frameworks"
RESOURCE_KEYS = {
    "bed_days",
    "bed_day_cost_gbp",
    "admissions",
    "admission_cost_gbp",
    "ae_attendances",
    "ae_cost_gbp",
    "nurse_hours",
    "nurse_cost_gbp",
    "cost_per_patient_month_gbp",
}


def _framework(client, world, *sites):
    body = framework_body(world, *sites)
    made = client.post(URL, json=body, headers=world.auth("lead"))
    assert made.status_code == 201, made.text
    return made.json()["id"]


def test_the_dashboard_answers_the_contract(client, world):
    fid = _framework(client, world, "A")
    got = client.get(f"{URL}/{fid}/dashboard?month=2026-10", headers=world.auth("lead"))
    assert got.status_code == 200, got.text
    board = got.json()
    assert board["month"] == "2026-10"
    assert [o["domain"] for o in board["outcomes"]] == [
        "population_health",
        "quality",
        "resources",
        "inequalities",
    ]
    for outcome in board["outcomes"]:
        assert {"domain", "metric", "value", "target", "direction", "status"} <= set(outcome)
        assert len(outcome["trend"]) == 12
    assert set(board["resources"]) >= RESOURCE_KEYS
    assert board["before_after"]["window_months"] == 6
    assert board["disclosure"]["applied"] is True
    meta = board["meta"]
    assert meta["version"] == 1 and meta["scope"] == "Site A"
    assert [s["site"]["code"] for s in meta["unit_costs"]] == ["SITEA"]
    assert {c["key"] for c in meta["unit_costs"][0]["unit_costs"]} >= {"bed_day_gbp"}


def test_the_csv_is_the_dashboard(client, world):
    fid = _framework(client, world, "A")
    lead = world.auth("lead")
    board = client.get(f"{URL}/{fid}/dashboard?month=2026-10", headers=lead).json()
    by_accept = client.get(
        f"{URL}/{fid}/dashboard?month=2026-10", headers={**lead, "Accept": "text/csv"}
    )
    by_format = client.get(f"{URL}/{fid}/dashboard?month=2026-10&format=csv", headers=lead)
    assert by_accept.headers["content-type"].startswith("text/csv")
    assert by_accept.text == by_format.text
    rows = list(csv.DictReader(io.StringIO(by_accept.text)))
    outcomes = [r for r in rows if r["section"] == "outcome"]
    assert [r["measure"] for r in outcomes] == [o["metric"] for o in board["outcomes"]]
    assert [r["status"] for r in outcomes] == [o["status"] for o in board["outcomes"]]
    resources = {r["measure"] for r in rows if r["section"] == "resources"}
    assert resources >= RESOURCE_KEYS


def test_who_may_read_a_dashboard(client, world):
    fid = _framework(client, world, "A")
    path = f"{URL}/{fid}/dashboard?month=2026-10"
    assert client.get(path, headers=world.auth("clin_A1")).status_code == 200
    assert client.get(path, headers=world.auth("admin")).status_code == 200
    assert client.get(path, headers=world.auth("clin_B1")).status_code == 404
    patient = {"Authorization": f"Bearer {world.device_tokens['pat_A1']}"}
    assert client.get(path, headers=patient).status_code == 403
    assert client.get(path).status_code == 401
    unknown = client.get(
        f"{URL}/00000000-0000-4000-8000-000000000000/dashboard", headers=world.auth("lead")
    )
    assert unknown.status_code == 404


def test_a_bad_month_is_a_422_that_names_it(client, world):
    fid = _framework(client, world, "A")
    for month in ("2026-13", "garbage", "2027-01"):
        got = client.get(f"{URL}/{fid}/dashboard?month={month}", headers=world.auth("lead"))
        assert got.status_code == 422, month
        assert "month" in got.text


def test_each_month_names_the_version_in_force(client, world, clock):
    fid = _framework(client, world, "A")
    clock.advance(days=45)  # 4 January 2027
    patched = client.patch(
        f"{URL}/{fid}", json={"aim": "A second aim", "version": 1}, headers=world.auth("lead")
    )
    assert patched.status_code == 200, patched.text
    lead = world.auth("lead")
    october = client.get(f"{URL}/{fid}/dashboard?month=2026-10", headers=lead).json()
    december = client.get(f"{URL}/{fid}/dashboard?month=2026-12", headers=lead).json()
    january = client.get(f"{URL}/{fid}/dashboard?month=2027-01", headers=lead).json()
    assert (october["meta"]["version"], october["framework"]["aim"]) == (
        1,
        "Fewer heart-failure admissions, better lives at home",
    )
    # Changed in January: December's dashboard keeps the version agreed then; January's, still
    # running, shows the new one.
    assert december["meta"]["version"] == 1
    assert (january["meta"]["version"], january["framework"]["aim"]) == (2, "A second aim")


def test_the_page_and_its_csv(client, world):
    fid = _framework(client, world, "A")
    page = signed_in(client, "lead").get(f"/ui/value-frameworks/{fid}?month=2026-10")
    assert page.status_code == 200, page.text
    assert "Heart failure value framework" in page.text
    assert "Better quality of services" in page.text and "Read with caution" in page.text
    wrong = client.get(f"/ui/value-frameworks/{fid}?month=garbage")
    assert wrong.status_code == 200 and "There is no dashboard for" in wrong.text
    got = client.get(f"/ui/value-frameworks/{fid}/dashboard.csv?month=2026-10")
    api = client.get(f"{URL}/{fid}/dashboard?month=2026-10&format=csv", headers=world.auth("lead"))
    assert got.status_code == 200 and got.text == api.text
    assert client.get("/ui/value-frameworks/not-a-uuid").status_code == 404
    client.cookies.clear()
    other = signed_in(client, "clin_b1").get(f"/ui/value-frameworks/{fid}")
    assert other.status_code == 404


def test_the_page_shows_the_kept_scenarios(client, world):
    fid = _framework(client, world, "A")
    lead = world.auth("lead")
    nurse = {
        "name": "Specialist nurse visits",
        "yearly_activity": 2000,
        "activity_unit": "visits",
        "unit_cost_gbp": 60,
        "people_per_year": 400,
        "qaly_per_person": 0.05,
        "qaly_source": "entered, illustrative",
        "sourcing": "entered",
    }
    made = client.post(f"{URL}/{fid}/interventions", json=nurse, headers=lead).json()
    body = {
        "name": "More nurse visits",
        "changes": [{"intervention_id": made["id"], "action": "increase", "by": 500}],
    }
    assert client.post(f"{URL}/{fid}/scenarios", json=body, headers=lead).status_code == 201
    board = client.get(f"{URL}/{fid}/dashboard?month=2026-10", headers=lead).json()
    (kept,) = board["scenarios"]
    (move,) = kept["result"]["moves"]
    # 500 visits x GBP 60; 500 / 2,000 of 400 people x 0.05 QALYs = 5 QALYs; GBP 6,000 per QALY.
    assert (move["delta_cost_gbp"], move["delta_qalys"], move["cost_per_qaly_gbp"]) == (
        30_000.0,
        5.0,
        6_000,
    )
    page = signed_in(client, "lead").get(f"/ui/value-frameworks/{fid}?month=2026-10")
    assert page.status_code == 200
    assert "More nurse visits" in page.text and "Specialist nurse visits" in page.text
    assert "6,000" in page.text and "cost-effective" in page.text
