"""The whole record out: $everything and the type searches page through every part of it, each
resource valid FHIR (built with fhir.resources), SNOMED CT beside the local codes, staff reads
team-scoped and audited. On every database engine."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from service.coding.snomed import SNOMED
from service.fhir import codes
from service.models import AuditEvent
from tests.fhir.helpers import at, parse
from tests.support.fhir_record import DMD, seed_record, validated


def _get(client: Any, url: str, headers: dict[str, str]) -> Any:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    parse(response)  # the Bundle as a whole validates
    return response.json()


def _all_pages(client: Any, url: str, headers: dict[str, str]) -> tuple[list[dict[str, Any]], int]:
    resources: list[dict[str, Any]] = []
    pages = 0
    while url:
        body = _get(client, url, headers)
        pages += 1
        resources += [e["resource"] for e in body.get("entry", [])]
        url = next((link["url"] for link in body.get("link", []) if link["relation"] == "next"), "")
    return resources, pages


@pytest.fixture
def record(client, world):
    pid = world.patients["pat_A1"]
    counts = seed_record(client, world.auth("clin_A1"), pid)
    return pid, counts


def test_everything_pages_through_the_whole_record(client, world, record):
    pid, counts = record
    headers = world.auth("clin_A1")
    whole, pages = _all_pages(client, f"/fhir/Patient/{pid}/$everything?_count=1000", headers)
    paged, many = _all_pages(client, f"/fhir/Patient/{pid}/$everything?_count=2", headers)
    assert pages == 1 and many > 5
    key = [(r["resourceType"], r["id"]) for r in whole]
    assert [(r["resourceType"], r["id"]) for r in paged] == key and len(set(key)) == len(key)
    by_type = Counter(r["resourceType"] for r in whole)
    flags = by_type.pop("Flag", 0)
    assert flags >= 0 and dict(by_type) == counts
    for resource in whole:
        validated(resource)


def test_each_part_carries_its_codes(client, world, record):
    pid, _ = record
    resources, _ = _all_pages(client, f"/fhir/Patient/{pid}/$everything", world.auth("clin_A1"))
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    assert patient["deceasedDateTime"] == "2026-11-19"
    encounters = {r["id"]: r for r in resources if r["resourceType"] == "Encounter"}
    episode = encounters.pop(f"episode-{pid}")
    assert episode["class"]["code"] == "HH" and episode["period"]["end"] == "2026-11-19"
    reason = episode["hospitalization"]["dischargeDisposition"]["coding"]
    assert {"system": SNOMED, "code": "419620001", "display": "Death"} in reason
    assert {c["code"] for c in reason} >= {"died"}
    types = {
        r["class"]["code"]: [(c["system"], c["code"]) for c in r["type"][0]["coding"]]
        for r in encounters.values()
    }
    assert (SNOMED, "183452005") in types["IMP"] and (SNOMED, "4525004") in types["EMER"]
    admission = next(r for r in encounters.values() if r["class"]["code"] == "IMP")
    assert admission["period"] == {"start": "2026-10-05", "end": "2026-10-09"}
    medicines = [r for r in resources if r["resourceType"] == "MedicationStatement"]
    coded = next(m for m in medicines if "coding" in m["medicationCodeableConcept"])
    assert coded["medicationCodeableConcept"]["coding"] == [{"system": SNOMED, "code": DMD}]
    dose = coded["dosage"][0]["doseAndRate"][0]["doseQuantity"]
    assert dose == {"value": 2.5, "unit": "milligram", "system": codes.UCUM, "code": "mg"}
    free = next(m for m in medicines if m is not coded)
    assert free["status"] == "stopped" and "dosage" not in free
    kccq = [r for r in resources if r["resourceType"] == "Observation" and "survey" in str(r)]
    assert sorted(k["valueQuantity"]["value"] for k in kccq) == [41.5, 63.0]
    assert all(k["code"]["coding"][0]["code"] == "86924-8" for k in kccq)
    potassium = [r for r in resources if "2823-3" in str(r.get("code"))]
    assert len(potassium) == 1


def test_type_searches_page_with_total_and_links(client, world, record):
    pid, counts = record
    headers = world.auth("clin_A1")
    for kind in ("Encounter", "MedicationStatement", "Observation", "QuestionnaireResponse"):
        first = _get(client, f"/fhir/{kind}?subject=Patient/{pid}&_count=1", headers)
        assert first["total"] == counts[kind]
        assert first["link"][0]["relation"] == "self"
        found, pages = _all_pages(client, f"/fhir/{kind}?subject=Patient/{pid}&_count=1", headers)
        assert pages == counts[kind] and {r["resourceType"] for r in found} == {kind}
        assert len({r["id"] for r in found}) == counts[kind]


def test_observation_code_search_selects_kccq_or_readings(client, world, record):
    pid, _ = record
    headers = world.auth("clin_A1")
    kccq = _get(
        client, f"/fhir/Observation?subject=Patient/{pid}&code=http://loinc.org|86924-8", headers
    )
    assert kccq["total"] == 2
    weights = _get(client, f"/fhir/Observation?subject=Patient/{pid}&code=29463-7", headers)
    assert weights["total"] == 4
    assert {e["resource"]["code"]["coding"][0]["code"] for e in weights["entry"]} == {"29463-7"}


def test_dated_searches_bound_the_days(client, world, record):
    pid, _ = record
    headers = world.auth("clin_A1")
    october = _get(
        client,
        f"/fhir/Encounter?subject=Patient/{pid}&date=ge2026-10-05&date=lt2026-10-06",
        headers,
    )
    assert [e["resource"]["class"]["code"] for e in october["entry"]] == ["IMP"]
    later = _get(
        client, f"/fhir/MedicationStatement?subject=Patient/{pid}&effective=gt2026-10-02", headers
    )
    assert later["total"] == 1


def test_reads_answer_what_the_searches_list(client, world, record):
    pid, _ = record
    headers = world.auth("clin_A1")
    resources, _ = _all_pages(client, f"/fhir/Patient/{pid}/$everything", headers)
    for resource in resources:
        if resource["resourceType"] in ("Encounter", "MedicationStatement", "Observation"):
            read = client.get(f"/fhir/{resource['resourceType']}/{resource['id']}", headers=headers)
            assert read.status_code == 200, read.text
            assert parse(read).id == resource["id"]


def test_other_teams_and_devices_are_refused_and_reads_audited(client, world, record):
    pid, _ = record
    own = world.auth("clin_A1")
    medicine = _get(client, f"/fhir/MedicationStatement?subject=Patient/{pid}", own)["entry"][0]
    path = f"/fhir/MedicationStatement/{medicine['resource']['id']}"
    assert client.get(path, headers=world.auth("clin_B1")).status_code == 404
    assert (
        client.get(f"/fhir/Encounter/episode-{pid}", headers=world.auth("clin_B1")).status_code
        == 404
    )
    assert (
        client.get(
            f"/fhir/Encounter?subject=Patient/{pid}", headers=world.auth("pat_A2")
        ).status_code
        == 403
    )
    assert client.get(f"/fhir/Encounter/{uuid.uuid4()}", headers=own).status_code == 404
    assert client.get("/fhir/Encounter/not-an-id", headers=own).status_code == 404
    with world.app.state.sessions() as s:
        before = len(s.scalars(select(AuditEvent).where(AuditEvent.patient_id == pid)).all())
    assert client.get(path, headers=own).status_code == 200
    with world.app.state.sessions() as s:
        after = s.scalars(select(AuditEvent).where(AuditEvent.patient_id == pid)).all()
    assert len(after) == before + 1


def test_a_patient_token_reads_its_own_kccq_scores_only(client, world, record):
    pid, _ = record
    own = client.get("/fhir/Observation?code=86924-8", headers=world.auth("pat_A2"))
    assert own.status_code == 200 and parse(own).total == 0
    other = client.get(f"/fhir/Observation?subject=Patient/{pid}", headers=world.auth("pat_A2"))
    assert other.status_code in (403, 404)


def test_a_bad_cursor_is_a_400_outcome(client, world, record):
    pid, _ = record
    response = client.get(
        f"/fhir/Patient/{pid}/$everything?_cursor=bm9wZQ", headers=world.auth("clin_A1")
    )
    assert response.status_code == 400


def test_a_resolved_alerts_outcome_rides_on_its_flag(client, world):
    pid, headers = world.patients["pat_A2"], world.auth("clin_A2")
    low = {"id": str(uuid.uuid4()), "type": "spo2", "value": 86, "taken_at": at(1)}
    posted = client.post(f"/api/v1/patients/{pid}/readings", json=low, headers=headers)
    assert posted.status_code == 201, posted.text
    alert = client.get("/api/v1/alerts", headers=headers).json()["items"][0]
    resolved = client.post(
        f"/api/v1/alerts/{alert['id']}/resolve", json={"outcome": "referred"}, headers=headers
    )
    assert resolved.status_code == 200, resolved.text
    flags = _get(client, f"/fhir/Flag?subject=Patient/{pid}", headers)["entry"]
    flag = next(e["resource"] for e in flags if e["resource"]["id"] == alert["id"])
    assert flag["status"] == "inactive"
    outcome = next(x for x in flag["extension"] if x["url"] == codes.ALERT_OUTCOME_EXTENSION)
    coded = [(c["system"], c["code"]) for c in outcome["valueCodeableConcept"]["coding"]]
    assert coded == [(SNOMED, "3457005"), (codes.ALERT_OUTCOME_SYSTEM, "referred")]


def test_a_page_that_ends_the_record_has_no_next_link(client, world, record):
    pid, _ = record
    headers = world.auth("clin_A1")
    whole, _ = _all_pages(client, f"/fhir/Patient/{pid}/$everything", headers)
    exact = _get(client, f"/fhir/Patient/{pid}/$everything?_count={len(whole) - 1}", headers)
    assert len(exact["entry"]) == len(whole)
    assert [link["relation"] for link in exact["link"]] == ["self"]
    short = _get(client, f"/fhir/Patient/{pid}/$everything?_count={len(whole) - 2}", headers)
    assert [link["relation"] for link in short["link"]] == ["self", "next"]


def test_descending_pages_hold_the_same_record_newest_first(client, world, record):
    pid, _ = record
    headers = world.auth("clin_A1")
    up, _ = _all_pages(client, f"/fhir/Patient/{pid}/$everything?_count=3", headers)
    down, _ = _all_pages(client, f"/fhir/Patient/{pid}/$everything?_count=3&_sort=-date", headers)
    key = sorted((r["resourceType"], r["id"]) for r in up)
    assert sorted((r["resourceType"], r["id"]) for r in down) == key
    weights = [r["effectiveDateTime"] for r in down if "29463-7" in str(r.get("code"))]
    assert weights == sorted(weights, reverse=True) and len(weights) == 4
