"""Recording outcomes and reading reports through the API: validation, scoping and roles."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from service.models import AuditEvent, Patient
from service.reports.snapshot import snapshot_month

OCT = "month=2026-10&trend=2"


def post(client, world, who, patient, path, body):
    url = f"/api/v1/patients/{world.patients[patient]}/{path}"
    return client.post(url, json=body, headers=world.auth(who))


def test_admission_recorded_listed_and_audited(client, world, session):
    body = {"kind": "admission", "admitted_on": "2026-11-02", "hf_related": True}
    response = post(client, world, "clin_A1", "pat_A1", "events", body)
    assert response.status_code == 201, response.text
    event = response.json()
    assert event["kind"] == "admission" and event["occurred_on"] == "2026-11-02"
    assert event["emergency"] is True and event["discharged_on"] is None
    url = f"/api/v1/patients/{world.patients['pat_A1']}/events/{event['id']}"
    patched = client.patch(url, json={"discharged_on": "2026-11-06"}, headers=world.auth("clin_A1"))
    assert patched.status_code == 200 and patched.json()["discharged_on"] == "2026-11-06"
    before = client.patch(url, json={"discharged_on": "2026-11-01"}, headers=world.auth("clin_A1"))
    assert before.status_code == 422
    listed = client.get(
        f"/api/v1/patients/{world.patients['pat_A1']}/events", headers=world.auth("clin_A1")
    )
    assert [e["id"] for e in listed.json()["items"]] == [event["id"]]
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.patient_id == world.patients["pat_A1"])
    ).all()
    assert {"C", "U", "R"} <= set(actions)


@pytest.mark.parametrize(
    "body",
    [
        {
            "kind": "admission",
            "admitted_on": "2026-11-10",
            "discharged_on": "2026-11-09",
            "hf_related": True,
        },
        {"kind": "admission", "admitted_on": "2026-11-21", "hf_related": True},  # tomorrow
        {"kind": "admission", "admitted_on": "2026-11-10"},  # hf_related missing
        {"kind": "death", "died_on": "2026-11-10", "hf_related": True},  # unknown field
        {"kind": "ae_attendance", "attended_on": "2026-11-21"},
        {"kind": "birthday", "on": "2026-11-10"},
    ],
)
def test_invalid_events_are_422_problems(client, world, body):
    response = post(client, world, "clin_A1", "pat_A1", "events", body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"]


def test_a_second_death_conflicts(client, world):
    body = {"kind": "death", "died_on": "2026-11-19"}
    assert post(client, world, "clin_A1", "pat_A1", "events", body).status_code == 201
    assert post(client, world, "clin_A1", "pat_A1", "events", body).status_code == 409


@pytest.mark.parametrize("path", ["events", "medications", "kccq"])
def test_recording_is_for_the_patients_own_team(client, world, path):
    pid = world.patients["pat_A1"]
    assert (
        client.get(f"/api/v1/patients/{pid}/{path}", headers=world.auth("clin_B1")).status_code
        == 404
    )
    assert (
        client.get(f"/api/v1/patients/{pid}/{path}", headers=world.auth("lead")).status_code == 403
    )
    assert (
        client.get(f"/api/v1/patients/{pid}/{path}", headers=world.auth("admin")).status_code == 403
    )
    assert (
        client.get(f"/api/v1/patients/{pid}/{path}", headers=world.auth("pat_A1")).status_code
        == 403
    )
    assert client.get(f"/api/v1/patients/{pid}/{path}").status_code == 401


def test_medicines_and_kccq(client, world):
    med = {
        "pillar": "mra",
        "status": "started",
        "at_target_or_max_tolerated": True,
        "changed_on": "2026-11-01",
        "drug": "spironolactone",
    }
    assert post(client, world, "clin_A1", "pat_A1", "medications", med).status_code == 201
    bad = {**med, "status": "stopped"}  # at target only means something while taking it
    assert post(client, world, "clin_A1", "pat_A1", "medications", bad).status_code == 422
    assert (
        post(
            client, world, "clin_A1", "pat_A1", "medications", {**med, "pillar": "statin"}
        ).status_code
        == 422
    )
    kccq = {"score": 62.5, "timepoint": "start", "assessed_on": "2026-10-22"}
    assert post(client, world, "clin_A1", "pat_A1", "kccq", kccq).status_code == 201
    assert (
        post(client, world, "clin_A1", "pat_A1", "kccq", {**kccq, "score": 100.5}).status_code
        == 422
    )
    assert (
        post(
            client, world, "clin_A1", "pat_A1", "kccq", {**kccq, "assessed_on": "2026-11-21"}
        ).status_code
        == 422
    )
    pid = world.patients["pat_A1"]
    meds = client.get(
        f"/api/v1/patients/{pid}/medications?limit=1", headers=world.auth("clin_A1")
    ).json()
    assert meds["items"][0]["drug"] == "spironolactone" and meds["next_cursor"] is None
    scores = client.get(f"/api/v1/patients/{pid}/kccq", headers=world.auth("clin_A1")).json()
    assert [s["score"] for s in scores["items"]] == [62.5]


def test_discharge_from_monitoring(client, world, session):
    body = {"date": "2026-11-19", "reason": "stable_optimised"}
    assert (
        post(
            client, world, "clin_A1", "pat_A1", "discharge", {**body, "date": "2026-11-21"}
        ).status_code
        == 422
    )
    assert (
        post(
            client, world, "clin_A1", "pat_A1", "discharge", {**body, "reason": "bored"}
        ).status_code
        == 422
    )
    assert (
        post(
            client, world, "clin_A1", "pat_A1", "discharge", {**body, "date": "2026-01-01"}
        ).status_code
        == 422
    )
    response = post(client, world, "clin_A1", "pat_A1", "discharge", body)
    assert response.status_code == 200, response.text
    assert (
        response.json()["status"] == "discharged"
        and response.json()["discharged_on"] == "2026-11-19"
    )
    assert post(client, world, "clin_A1", "pat_A1", "discharge", body).status_code == 409
    assert post(client, world, "clin_B1", "pat_A2", "discharge", body).status_code == 404
    patient = session.get(Patient, world.patients["pat_A1"])
    assert patient is not None and patient.discharge_reason == "stable_optimised"


# --- reports ----------------------------------------------------------------------------------


REPORT_URLS = [
    f"/api/v1/reports/network?{OCT}",
    "/api/v1/reports/sites/{site}?" + OCT,
    "/api/v1/reports/sites/{site}/equity?month=2026-10&by=ethnicity",
    "/api/v1/reports/network/funnel?month=2026-10&metric=weight_adherence",
    "/api/v1/reports/network/funnel.svg?month=2026-10&metric=weight_adherence",
    "/api/v1/reports/network/trend.svg?metric=caseload&" + OCT,
]


def test_report_roles(client, world):
    for template in REPORT_URLS:
        url = template.format(site=world.sites["A"])
        assert client.get(url, headers=world.auth("lead")).status_code == 200, url
        for who in ("clin_A1", "admin", "pat_A1"):
            assert client.get(url, headers=world.auth(who)).status_code == 403, (url, who)
        assert client.get(url).status_code == 401


def test_network_report_is_disclosure_controlled(client, world):
    # world: patients enrolled 21 October, two at site A and one at site B
    body = client.get(f"/api/v1/reports/network?{OCT}", headers=world.auth("lead")).json()
    onboarded = next(m for m in body["metrics"] if m["id"] == "onboarded")
    assert {s["code"]: s["value"] for s in onboarded["sites"]} == {"SITEA": "*", "SITEB": "*"}
    assert onboarded["network"]["value"] == "*"
    assert onboarded["network_median"] is None  # nothing published to take a median of
    assert body["disclosure"]["rounding_base"] == 5
    assert body["meta"]["site_count"] == 2 and body["source"] == "live"
    assert [t["month"] for t in onboarded["trend"]] == ["2026-09", "2026-10"]


def test_network_csv_is_tidy(client, world):
    headers = {**world.auth("lead"), "Accept": "text/csv"}
    response = client.get(f"/api/v1/reports/network?{OCT}", headers=headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    # 2 months x 55 metrics x (2 sites + network)
    assert len(rows) == 2 * 55 * 3
    keys = {(r["month"], r["scope"], r["site_code"], r["metric_id"]) for r in rows}
    assert len(keys) == len(rows)
    same = client.get(f"/api/v1/reports/network?{OCT}&format=csv", headers=world.auth("lead"))
    assert same.text == response.text


def test_site_and_equity_reports(client, world):
    site = world.sites["A"]
    body = client.get(f"/api/v1/reports/sites/{site}?{OCT}", headers=world.auth("lead")).json()
    caseload = next(m for m in body["metrics"] if m["id"] == "caseload")
    assert caseload["site"]["value"] == "*"
    assert {t["name"] for t in caseload["teams"]} == {"Team A1", "Team A2"}
    equity = client.get(
        f"/api/v1/reports/sites/{site}/equity?month=2026-10&by=age_band", headers=world.auth("lead")
    ).json()
    assert equity["groups"] == ["<65", "65-74", "75-84", "85+"]
    metric = next(m for m in equity["metrics"] if m["id"] == "caseload")
    # the site's caseload is hidden, so its split is not published (not even its zeros)
    assert [g["value"] for g in metric["groups"]] == [None, None, None, None]
    assert metric["total"] == caseload["site"]
    assert [t["value"] for t in caseload["teams"]] == [None, None]
    bad = client.get(
        f"/api/v1/reports/sites/{site}/equity?month=2026-10&by=shoe_size",
        headers=world.auth("lead"),
    )
    assert bad.status_code == 422
    missing = client.get(
        "/api/v1/reports/sites/00000000-0000-0000-0000-000000000000?month=2026-10",
        headers=world.auth("lead"),
    )
    assert missing.status_code == 404


@pytest.mark.parametrize("query", ["month=2026-13", "month=2026-12", "month=26-10", "trend=0"])
def test_bad_months_are_422(client, world, query):
    response = client.get(f"/api/v1/reports/network?{query}", headers=world.auth("lead"))
    assert response.status_code == 422


def test_funnel_and_charts(client, world):
    funnel = client.get(
        "/api/v1/reports/network/funnel?month=2026-10&metric=weight_adherence",
        headers=world.auth("lead"),
    ).json()
    assert funnel["suppressed_sites"] == ["SITEA", "SITEB"]
    not_proportion = client.get(
        "/api/v1/reports/network/funnel.svg?month=2026-10&metric=caseload",
        headers=world.auth("lead"),
    )
    assert not_proportion.status_code == 422
    svg = client.get(
        "/api/v1/reports/network/trend.svg?metric=caseload&" + OCT, headers=world.auth("lead")
    )
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<svg") and "SITEA" in svg.text


def test_team_report_for_the_teams_own_clinicians_unsuppressed(client, world):
    own = client.get(
        f"/api/v1/reports/teams/{world.teams['A1']}?{OCT}", headers=world.auth("clin_A1")
    )
    assert own.status_code == 200
    body = own.json()
    onboarded = next(m for m in body["metrics"] if m["id"] == "onboarded")
    assert onboarded["team"]["value"] == 1 and body["disclosure"]["applied"] is False
    other = client.get(
        f"/api/v1/reports/teams/{world.teams['B1']}?{OCT}", headers=world.auth("clin_A1")
    )
    assert other.status_code == 404
    assert (
        client.get(
            f"/api/v1/reports/teams/{world.teams['A1']}?{OCT}", headers=world.auth("lead")
        ).status_code
        == 403
    )


def test_metric_definitions_are_published(client, world):
    body = client.get("/api/v1/reports/metrics", headers=world.auth("lead")).json()
    adherence = next(m for m in body["metrics"] if m["id"] == "weight_adherence")
    assert adherence["denominator"] == "Expected reading-days"
    # The month's bounds are named parameters of the published SQL (London days, from the stored
    # readings.local_date).
    for bound in ("period_first_day", "period_last_day"):
        assert f":{bound}" in adherence["sql"] or f"%({bound})s" in adherence["sql"]
    assert client.get("/api/v1/reports/metrics", headers=world.auth("pat_A1")).status_code == 403


def test_snapshot_freezes_the_month_and_is_idempotent(client, world, session, clock):
    rows = snapshot_month(session, "2026-10", clock())
    assert rows == snapshot_month(session, "2026-10", clock())  # replaced, not added
    with pytest.raises(ValueError, match="not ended"):
        snapshot_month(session, "2026-11", clock())
    session.commit()
    frozen = client.get(
        f"/api/v1/reports/teams/{world.teams['A1']}?{OCT}", headers=world.auth("clin_A1")
    ).json()
    assert frozen["source"] == "snapshot"
    # a late enrolment dated October does not change the published month until it is re-run
    late = {
        "nhs_number": "9434765838",
        "date_of_birth": "1950-01-01",
        "sex": "male",
        "team_id": str(world.teams["A1"]),
        "cohort": "new_diagnosis",
        "enrolled_on": "2026-10-30",
    }
    assert (
        client.post("/api/v1/patients", json=late, headers=world.auth("clin_A1")).status_code == 201
    )
    again = client.get(
        f"/api/v1/reports/teams/{world.teams['A1']}?{OCT}", headers=world.auth("clin_A1")
    ).json()
    assert again["metrics"] == frozen["metrics"]
    snapshot_month(session, "2026-10", clock())
    session.commit()
    after = client.get(
        f"/api/v1/reports/teams/{world.teams['A1']}?{OCT}", headers=world.auth("clin_A1")
    ).json()
    onboarded = next(m for m in after["metrics"] if m["id"] == "onboarded")
    assert onboarded["team"]["value"] == 2
