"""The caseload page and API, and enrolment from the pages (clinicians of the team), on SQLite
and PostgreSQL: search, filters, sorting, paging, scoping, CSRF and the audit of the read."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from service.db import unit_of_work
from service.models import AuditEvent, Patient
from tests.support.clock import T0
from tests.support.factories import make_patient, nhs_number
from tests.support.readings import raise_red_alert
from tests.support.signin import csrf_of, signed_in
from tests.support.world import read


def weigh(client, world, who: str, days_ago: list[int], value: float = 80.0) -> None:
    readings = [
        {
            "id": str(uuid.uuid4()),
            "type": "weight",
            "taken_at": (T0 - timedelta(days=d, hours=1)).isoformat(),
            "value": value + d / 10,
        }
        for d in days_ago
    ]
    response = client.post(
        "/api/v1/me/readings", json={"readings": readings}, headers=world.auth(who)
    )
    assert response.status_code in (200, 201), response.text


def add_patients(world, team: str = "A1", count: int = 3, **extra) -> list[uuid.UUID]:
    ids = []
    with unit_of_work(world.app.state.sessions) as s:
        for i in range(count):
            ids.append(
                make_patient(s, nhs_number(100 + i), world.teams[team], name=f"Zed {i}", **extra)
            )
    return ids


def caseload_audits(world) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.detail == "caseload")
    return read(world, lambda s: list(s.scalars(query).all()))


def test_api_lists_the_teams_patients_with_their_figures(client, world):
    with unit_of_work(world.app.state.sessions) as s:
        s.get_one(Patient, world.patients["pat_A1"]).name = "Ada Lovelace"
        s.get_one(Patient, world.patients["pat_A1"]).phone = "07700 900123"
    weigh(client, world, "pat_A1", [0, 1, 2, 3, 4, 5, 6])
    raise_red_alert(client, world)
    response = client.get("/api/v1/caseload", headers=world.auth("clin_A1"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == 1 and body["page"] == 1
    item = body["items"][0]
    assert item["name"] == "Ada Lovelace" and item["phone"] == "07700 900123"
    assert item["nhs_number"] == "9434765919" and item["age"] == 76
    assert item["last_weight_kg"] == 80.0
    assert item["last_weight_at"].startswith("2026-11-20T08:00")
    # 7 days with a weight of the last 14 (enrolled 30 days ago).
    assert item["adherence_14d"] == 50.0
    assert item["open_alerts"] == 1 and item["open_red_alerts"] == 1
    assert item["next_review_due"] is None
    # Another team's patients are never listed, whatever the filter says.
    other = client.get(
        f"/api/v1/caseload?team_id={world.teams['B1']}", headers=world.auth("clin_A1")
    )
    assert other.status_code == 200 and other.json()["total"] == 0
    audits = caseload_audits(world)
    assert audits and audits[-1].patient_id == world.patients["pat_A1"]
    assert audits[-1].route == "GET /api/v1/caseload"


def test_api_search_filters_sorts_and_pages(client, world):
    ids = add_patients(world, count=3)
    with unit_of_work(world.app.state.sessions) as s:
        s.get_one(Patient, ids[2]).status = "paused"
        s.get_one(Patient, ids[1]).cohort = "palliative"
    weigh(client, world, "pat_A1", [0])
    headers = world.auth("clin_A1")

    def names(query: str) -> list[str | None]:
        response = client.get(f"/api/v1/caseload?{query}", headers=headers)
        assert response.status_code == 200, response.text
        return [i["name"] for i in response.json()["items"]]

    assert names("q=zed%201") == ["Zed 1"]
    assert names("q=ZED") == ["Zed 0", "Zed 1", "Zed 2"]
    assert names("q=943%20476") == [None]  # the fixture's patient, by the start of the number
    assert names("q=100%25") == []  # a LIKE wildcard is a character, not a pattern
    assert names("cohort=palliative") == ["Zed 1"]
    assert names("status=paused") == ["Zed 2"]
    assert names("status=active&status=paused") == ["Zed 0", "Zed 1", "Zed 2", None]
    # No reading in 2 days: everyone but the patient weighed today.
    assert names("quiet_days=2") == ["Zed 0", "Zed 1", "Zed 2"]
    assert names("sort=name&order=desc") == ["Zed 2", "Zed 1", "Zed 0", None]
    assert names("sort=last_weight&order=desc")[0] is None
    page = client.get("/api/v1/caseload?sort=name&limit=2&page=2", headers=headers).json()
    assert page["total"] == 4 and [i["name"] for i in page["items"]] == ["Zed 2", None]
    for bad in ("sort=shoe", "limit=0", "page=0", "status=gone", "quiet_days=0", "order=up"):
        assert client.get(f"/api/v1/caseload?{bad}", headers=headers).status_code == 422


def test_api_is_for_clinicians_only(client, world):
    assert client.get("/api/v1/caseload").status_code == 401
    for who in ("lead", "admin", "pat_A1"):
        assert client.get("/api/v1/caseload", headers=world.auth(who)).status_code == 403


def test_caseload_page_finds_patients_and_links_their_record(client, world):
    ids = add_patients(world, count=2, phone="07700 900123")
    signed_in(client, "clin_a1")
    page = client.get("/ui/patients")
    assert page.status_code == 200
    html = page.text
    assert 'href="/ui/patients" aria-current="page"' in html  # in the nav
    assert "Zed 0" in html and "Zed 1" in html and "943 476 5919" in html
    assert f'href="/ui/patients/{ids[0]}"' in html
    assert 'href="tel:+447700900123"' in html
    assert "3 patients" in html
    found = client.get("/ui/patients?q=zed+1")
    assert "Zed 1" in found.text and "Zed 0" not in found.text and "1 patient match" in found.text
    assert "Clear filters" in found.text
    sorted_page = client.get("/ui/patients?sort=name&order=desc")
    assert sorted_page.text.index("Zed 1") < sorted_page.text.index("Zed 0")
    assert 'aria-sort="descending"' in sorted_page.text
    assert '<option value="name" selected>' in sorted_page.text  # and the form's sort select
    # Nonsense in the address falls back to the defaults rather than failing.
    assert client.get("/ui/patients?sort=x&status=y&quiet=z&page=-3").status_code == 200
    audits = caseload_audits(world)
    assert audits[-1].route == "GET /ui/patients"


def test_caseload_page_pages_through_a_long_list(client, world):
    add_patients(world, count=30)
    signed_in(client, "clin_a1")
    first = client.get("/ui/patients?sort=name")
    assert "page 1 of 2" in first.text and 'rel="next"' in first.text
    second = client.get("/ui/patients?sort=name&page=2")
    assert "page 2 of 2" in second.text and 'rel="prev"' in second.text
    assert "Zed 9" in second.text and "Zed 9" not in first.text


def test_caseload_page_is_for_clinicians(client, world):
    signed_in(client, "lead")
    assert client.get("/ui/patients").status_code == 403
    assert client.get("/ui/patients/new").status_code == 403


def test_enrolment_from_the_page(client, world):
    signed_in(client, "clin_a1")
    form = client.get("/ui/patients/new")
    assert form.status_code == 200 and "Enrol a patient" in form.text
    token = csrf_of(form.text)
    data = {
        "csrf_token": token,
        "nhs_number": nhs_number(7),
        "name": "Grace Hopper",
        "phone": "07700 900456",
        "date_of_birth": "1941-02-03",
        "sex": "female",
        "cohort": "new_diagnosis",
        "target_weight_kg": "71.5",
        "expects_daily_weight": "yes",
    }
    response = client.post("/ui/patients/new", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    pid = uuid.UUID(response.headers["location"].split("/")[-1].split("?")[0])
    patient = read(world, lambda s: s.get_one(Patient, pid))
    assert patient.team_id == world.teams["A1"] and patient.name == "Grace Hopper"
    assert patient.thresholds == {"target_weight_kg": 71.5}
    record = client.get(response.headers["location"])
    assert "Patient enrolled" in record.text and "Grace Hopper" in record.text

    # Every problem at once, in words, and nothing enrolled.
    bad = {**data, "nhs_number": "1234567890", "date_of_birth": "", "cohort": "", "phone": "12"}
    refused = client.post("/ui/patients/new", data=bad)
    assert refused.status_code == 422
    assert "4 answers to check" in refused.text
    assert "NHS number is not a valid NHS number" in refused.text
    assert "Choose cohort from the list." in refused.text
    assert "Input should" not in refused.text
    # The same NHS number again: the API's one answer.
    again = client.post("/ui/patients/new", data=data)
    assert again.status_code == 409 and "cannot be enrolled by your team" in again.text
    # The form token is checked.
    forged = client.post("/ui/patients/new", data={**data, "csrf_token": "x"})
    assert forged.status_code == 403
