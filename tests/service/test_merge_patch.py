"""Every PATCH route merges (RFC 7396): what a request leaves out is kept, null clears it, and
the merged result is validated as a whole. Changes of thresholds and site settings are kept."""

from __future__ import annotations

from typing import Any

import pytest

from service.changes import merge_patch
from tests.support.signin import page_login
from tests.support.stewardship import framework_body

# RFC 7396 Appendix A: target, patch, result.
RFC_EXAMPLES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("target", "patch", "result"), RFC_EXAMPLES)
def test_merge_patch_follows_the_rfc_examples(target: Any, patch: Any, result: Any) -> None:
    assert merge_patch(target, patch) == result


def _patch_patient(client, world, body):
    url = f"/api/v1/patients/{world.patients['pat_A1']}"
    return client.patch(url, json=body, headers=world.auth("clin_A1"))


def test_patient_patch_keeps_what_it_does_not_mention(client, world):
    # The defect: new thresholds replaced the set, dropping a target weight and a systolic limit.
    first = _patch_patient(
        client, world, {"thresholds": {"target_weight_kg": 67.8, "systolic_red_below": 77}}
    )
    assert first.status_code == 200, first.text
    later = _patch_patient(client, world, {"thresholds": {"pulse_low_red": 40}})
    assert later.json()["thresholds"] == {
        "target_weight_kg": 67.8,
        "systolic_red_below": 77,
        "pulse_low_red": 40,
    }
    assert (
        _patch_patient(client, world, {"cohort": "palliative"}).json()["thresholds"]
        == (later.json()["thresholds"])
    )
    cleared = _patch_patient(client, world, {"thresholds": {"systolic_red_below": None}})
    assert cleared.json()["thresholds"] == {"target_weight_kg": 67.8, "pulse_low_red": 40}
    assert cleared.json()["cohort"] == "palliative"
    everything = _patch_patient(client, world, {"thresholds": None})
    assert everything.json()["thresholds"] == {}
    unchanged = _patch_patient(client, world, {})
    assert (
        unchanged.status_code == 200 and unchanged.json()["version"] == everything.json()["version"]
    )


@pytest.mark.parametrize("name", ["cohort", "status", "expects_daily_weight"])
def test_a_field_that_cannot_be_empty_refuses_null_naming_it(client, world, name):
    response = _patch_patient(client, world, {name: None})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == name


def test_thresholds_are_checked_after_merging_and_the_error_names_the_field(client, world):
    assert _patch_patient(client, world, {"thresholds": {"systolic_amber_below": 90}}).status_code
    # On its own 95 is a valid red limit; merged with the stored amber limit of 90 it is not.
    response = _patch_patient(client, world, {"thresholds": {"systolic_red_below": 95}})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "thresholds.systolic_amber_below"
    kept = client.get(
        f"/api/v1/patients/{world.patients['pat_A1']}", headers=world.auth("clin_A1")
    ).json()["thresholds"]
    assert kept == {"target_weight_kg": 80.0, "systolic_amber_below": 90}


def test_threshold_changes_are_kept_with_who_when_before_and_after(client, world):
    _patch_patient(client, world, {"thresholds": {"target_weight_kg": 67.8}})
    _patch_patient(client, world, {"status": "paused"})  # not a threshold: no entry
    _patch_patient(client, world, {"thresholds": {"target_weight_kg": None}})
    url = f"/api/v1/patients/{world.patients['pat_A1']}/threshold-history"
    history = client.get(url, headers=world.auth("clin_A1")).json()
    assert [(h["before"], h["after"]) for h in history] == [
        ({"target_weight_kg": 67.8}, {}),
        ({"target_weight_kg": 80.0}, {"target_weight_kg": 67.8}),
    ]
    assert {h["changed_by"] for h in history} == {str(world.users["clin_A1"])}
    assert client.get(url, headers=world.auth("clin_B1")).status_code == 404


def test_the_patient_page_shows_the_threshold_history(client, world):
    _patch_patient(client, world, {"thresholds": {"target_weight_kg": 67.8}})
    page_login(client, "clin_a1")
    page = client.get(f"/ui/patients/{world.patients['pat_A1']}")
    assert page.status_code == 200
    # Each threshold by the label the form gives it, not its API name.
    assert "Changes to thresholds" in page.text and "Target (dry) weight 67.8" in page.text


def _patch_site(client, world, body):
    return client.patch(f"/api/v1/sites/{world.sites['A']}", json=body, headers=world.auth("admin"))


def test_site_patch_merges_each_setting_and_keeps_the_history(client, world):
    overrides = {"macd": {"threshold_kg": 1.3}, "confirm": {"amber.spo2": 1}}
    assert _patch_site(client, world, {"pathway_overrides": overrides}).status_code == 200
    policy = {"red_within_minutes": 120, "amber_working_days": 2}
    site = _patch_site(client, world, {"response_policy": policy}).json()
    assert site["pathway_overrides"] == overrides and site["response_policy"] == policy
    site = _patch_site(client, world, {"response_policy": {"red_within_minutes": None}}).json()
    assert site["response_policy"] == {"amber_working_days": 2}
    site = _patch_site(client, world, {"pathway_overrides": {"confirm": None}}).json()
    assert site["pathway_overrides"] == {"macd": {"threshold_kg": 1.3}}
    site = _patch_site(client, world, {"pathway_overrides": None}).json()
    assert site["pathway_overrides"] is None and site["response_policy"] == {
        "amber_working_days": 2
    }
    detail = client.get(f"/api/v1/sites/{world.sites['A']}", headers=world.auth("lead")).json()
    assert [h["setting"] for h in detail["history"]] == [
        "pathway_overrides",
        "pathway_overrides",
        "response_policy",
        "response_policy",
        "pathway_overrides",
    ]
    assert detail["history"][0]["before"] == {"macd": {"threshold_kg": 1.3}}
    assert detail["history"][0]["after"] is None
    assert detail["history"][-1]["changed_by"] == str(world.users["admin"])


def test_site_settings_are_validated_after_merging_naming_the_field(client, world):
    assert _patch_site(client, world, {"response_policy": {"opens_at": "08:00"}}).status_code == 200
    bad = _patch_site(client, world, {"response_policy": {"red_within_minutes": 5}})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"].endswith("red_within_minutes")
    unsafe = _patch_site(client, world, {"pathway_overrides": {"macd": {"threshold_kg": 99}}})
    assert unsafe.status_code == 422, unsafe.text
    assert unsafe.json()["errors"][0]["field"].startswith("pathway_overrides")
    detail = client.get(f"/api/v1/sites/{world.sites['A']}", headers=world.auth("admin")).json()
    assert detail["response_policy"] == {"opens_at": "08:00"} and len(detail["history"]) == 1


def _event(client, world, body):
    pid = world.patients["pat_A1"]
    response = client.post(
        f"/api/v1/patients/{pid}/events", json=body, headers=world.auth("clin_A1")
    )
    assert response.status_code == 201, response.text
    return f"/api/v1/patients/{pid}/events/{response.json()['id']}"


def test_event_patch_merges(client, world):
    url = _event(
        client,
        world,
        {"kind": "admission", "admitted_on": "2026-11-02", "hf_related": True, "emergency": False},
    )
    patch = client.patch(url, json={"discharged_on": "2026-11-06"}, headers=world.auth("clin_A1"))
    body = patch.json()
    assert (body["discharged_on"], body["hf_related"], body["emergency"]) == (
        "2026-11-06",
        True,
        False,
    )
    moved = client.patch(url, json={"occurred_on": "2026-11-01"}, headers=world.auth("clin_A1"))
    assert moved.json()["occurred_on"] == "2026-11-01" and moved.json()["discharged_on"] == (
        "2026-11-06"
    )
    reopened = client.patch(url, json={"discharged_on": None}, headers=world.auth("clin_A1"))
    assert reopened.json()["discharged_on"] is None
    for name in ("occurred_on", "hf_related", "emergency"):
        refused = client.patch(url, json={name: None}, headers=world.auth("clin_A1"))
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == name
    late = client.patch(url, json={"occurred_on": "2026-11-21"}, headers=world.auth("clin_A1"))
    assert late.status_code == 422 and late.json()["errors"][0]["field"] == "occurred_on"


def test_pathway_answers_what_a_site_runs_with_the_version_its_findings_carry(client, world):
    default = client.get("/api/v1/pathway", headers=world.auth("clin_A1")).json()
    overrides = {"confirm": {"amber.spo2": 1}}
    assert _patch_site(client, world, {"pathway_overrides": overrides}).status_code == 200
    site = client.get(
        "/api/v1/pathway", params={"site_id": str(world.sites["A"])}, headers=world.auth("pat_A1")
    ).json()
    assert site["version"] != default["version"] and site["site_id"] == str(world.sites["A"])
    reading = {
        "id": "00000000-0000-4000-8000-000000000001",
        "type": "spo2",
        "taken_at": "2026-11-20T08:00:00+00:00",
        "value": 93,
    }
    sent = client.post("/api/v1/me/readings", json=reading, headers=world.auth("pat_A1")).json()
    assert sent["findings"] and {f["pathway_version"] for f in sent["findings"]} == {
        site["version"]
    }
    other = client.get(
        "/api/v1/pathway", params={"site_id": str(world.sites["B"])}, headers=world.auth("pat_A1")
    )
    assert other.status_code == 404
    staff = client.get(
        "/api/v1/pathway", params={"site_id": str(world.sites["B"])}, headers=world.auth("lead")
    )
    assert staff.status_code == 200 and staff.json()["version"] == default["version"]


def test_team_patch_merges(client, world):
    url = f"/api/v1/teams/{world.teams['A1']}"
    admin = world.auth("admin")
    first = client.patch(url, json={"escalation_contact": "01332 000000"}, headers=admin)
    assert first.status_code == 200, first.text
    name = first.json()["name"]
    kept = client.patch(url, json={}, headers=admin).json()
    assert kept["name"] == name and kept["escalation_contact"] == "01332 000000"
    cleared = client.patch(url, json={"escalation_contact": None}, headers=admin).json()
    assert cleared["name"] == name and cleared["escalation_contact"] is None
    refused = client.patch(url, json={"name": None}, headers=admin)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "name"


def test_every_patch_route_is_covered_here(client):
    # A new PATCH route must come with its merge-patch test in this file.
    paths = client.app.openapi()["paths"]
    patches = {path for path, operations in paths.items() if "patch" in operations}
    assert patches == {
        "/api/v1/patients/{patient_id}",
        "/api/v1/sites/{site_id}",
        "/api/v1/patients/{patient_id}/events/{event_id}",
        "/api/v1/teams/{team_id}",
        "/api/v1/value-frameworks/{framework_id}",
        "/api/v1/value-frameworks/{framework_id}/interventions/{intervention_id}",
    }


def test_value_framework_patch_merges_into_a_new_version(client, world):
    lead = world.auth("lead")
    made = client.post("/api/v1/value-frameworks", json=framework_body(world, "A"), headers=lead)
    url = f"/api/v1/value-frameworks/{made.json()['id']}"
    kept = client.patch(url, json={}, headers=lead).json()
    assert kept == made.json()
    merged = client.patch(url, json={"resources": {"budget_gbp": None}}, headers=lead).json()
    assert merged["resources"] == {"team_wte": 4.5, "budget_gbp": None, "note": ""}
    assert merged["version"] == 2 and merged["outcomes"] == made.json()["outcomes"]
    refused = client.patch(url, json={"aim": None}, headers=lead)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "aim"


def test_intervention_patch_merges(client, world):
    lead = world.auth("lead")
    made = client.post("/api/v1/value-frameworks", json=framework_body(world, "A"), headers=lead)
    base = f"/api/v1/value-frameworks/{made.json()['id']}/interventions"
    body = {
        "name": "Cardiac rehabilitation",
        "yearly_activity": 200,
        "activity_unit": "patients",
        "unit_cost_gbp": 480,
        "qaly_per_person": 0.02,
        "qaly_source": "entered, illustrative",
        "sourcing": "entered",
        "note": "twelve sessions",
    }
    url = f"{base}/{client.post(base, json=body, headers=lead).json()['id']}"
    cleared = client.patch(url, json={"qaly_per_person": None, "note": None}, headers=lead).json()
    assert (cleared["qaly_per_person"], cleared["qaly_source"]) == (None, "entered, illustrative")
    assert cleared["note"] == "" and cleared["unit_cost_gbp"] == 480
    refused = client.patch(url, json={"unit_cost_gbp": None}, headers=lead)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "unit_cost_gbp"
