"""The STAR register through the API: entered and measured activity (measured against a
hand-counted caseload), validation, and scenarios computed, kept and listed."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from service.models import Intervention, StarScenario
from service.reports.snapshot import snapshot_month
from tests.support.factories import make_patient, nhs_number
from tests.support.stewardship import framework_body, site_admin
from tests.support.world import read

URL = "/api/v1/value-frameworks"
NURSE = {
    "name": "Specialist nurse visits",
    "yearly_activity": 2000,
    "activity_unit": "visits",
    "unit_cost_gbp": 60,
    "people_per_year": 400,
    "qaly_per_person": 0.05,
    "qaly_source": "entered, illustrative",
    "sourcing": "entered",
}
MONITORING = {
    "name": "Remote monitoring",
    "activity_unit": "patient-months",
    "unit_cost_gbp": 30,
    "sourcing": "measured",
    "measured_metric": "caseload",
}


def _framework(client, world, *sites, who="lead"):
    made = client.post(URL, json=framework_body(world, *sites), headers=world.auth(who))
    assert made.status_code == 201, made.text
    return made.json()["id"]


def _rows(world):
    return read(
        world,
        lambda s: (
            s.scalar(select(func.count()).select_from(Intervention)),
            s.scalar(select(func.count()).select_from(StarScenario)),
        ),
    )


def _patients(world):
    """On top of the world's three (enrolled 2026-10-21: one patient-month each in October):
    site A, six from 2026-06-15 (June to October, 5 months each: 30) and one from 2025-09-01
    discharged 2025-12-31 (November and December 2025 in the window: 2); site B, eight from
    2026-10-01 (8). The window is November 2025 to October 2026 (T0 is in November 2026).
    Site A: 30 + 2 + 2 (A1, A2) = 34, shown 35; site B: 8 + 1 = 9, shown 10; network 43, 45."""
    with world.app.state.sessions() as s:
        seed = 100
        for _ in range(6):
            seed += 1
            make_patient(s, nhs_number(seed), world.teams["A1"], enrolled_on=date(2026, 6, 15))
        seed += 1
        make_patient(
            s,
            nhs_number(seed),
            world.teams["A2"],
            enrolled_on=date(2025, 9, 1),
            discharged_on=date(2025, 12, 31),
            discharge_reason="stable_optimised",
            status="discharged",
        )
        for _ in range(8):
            seed += 1
            make_patient(s, nhs_number(seed), world.teams["B1"], enrolled_on=date(2026, 10, 1))
        s.commit()


def test_measured_activity_is_the_disclosed_caseload_of_the_last_twelve_months(client, world):
    _patients(world)
    shown = {}
    for name, sites in (("A", ("A",)), ("B", ("B",)), ("network", ())):
        fid = _framework(client, world, *sites)
        made = client.post(
            f"{URL}/{fid}/interventions", json=MONITORING, headers=world.auth("lead")
        )
        assert made.status_code == 201, made.text
        shown[name] = made.json()
        assert client.get(f"{URL}/{fid}/interventions", headers=world.auth("lead")).json() == [
            made.json()
        ]
    assert {k: v["yearly_activity"] for k, v in shown.items()} == {
        "A": 35.0,
        "B": 10.0,
        "network": 45.0,
    }
    assert shown["A"]["yearly_cost_gbp"] == 35 * 30
    assert shown["A"]["activity_source"].startswith(
        "measured: caseload summed over 2025-11 to 2026-10"
    )


def test_a_measured_activity_of_one_to_seven_is_suppressed(client, world):
    fid = _framework(client, world, "B")
    made = client.post(f"{URL}/{fid}/interventions", json=MONITORING, headers=world.auth("lead"))
    # Site B's only patient: one patient-month.
    assert made.json()["yearly_activity"] is None
    assert "suppressed" in made.json()["activity_source"]
    change = {"changes": [{"intervention_id": made.json()["id"], "action": "increase", "by": 5}]}
    refused = client.post(f"{URL}/{fid}/scenarios", json=change, headers=world.auth("lead"))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "changes.0.intervention_id"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"yearly_activity": -1}, "yearly_activity"),
        ({"unit_cost_gbp": -0.01}, "unit_cost_gbp"),
        ({"qaly_source": None}, "qaly_source"),
        ({"sourcing": "guessed"}, "sourcing"),
        ({"yearly_activity": None}, "yearly_activity"),
        ({"sourcing": "measured", "yearly_activity": None}, "measured_metric"),
        (
            {"sourcing": "measured", "yearly_activity": None, "measured_metric": "nope"},
            "measured_metric",
        ),
        (
            {
                "sourcing": "measured",
                "yearly_activity": None,
                "measured_metric": "weight_adherence",
            },
            "measured_metric",
        ),
        ({"sourcing": "measured", "measured_metric": "caseload"}, "yearly_activity"),
        ({"people_per_year": -3}, "people_per_year"),
    ],
)
def test_bad_interventions_name_the_field_and_store_nothing(client, world, change, field):
    fid = _framework(client, world, "A")
    body = {k: v for k, v in (NURSE | change).items() if v is not None}
    refused = client.post(f"{URL}/{fid}/interventions", json=body, headers=world.auth("lead"))
    assert refused.status_code == 422, refused.text
    assert field in [e["field"] for e in refused.json()["errors"]]
    assert _rows(world) == (0, 0)


def test_an_intervention_is_changed_by_merge_patch_and_removed(client, world):
    fid = _framework(client, world, "A")
    made = client.post(f"{URL}/{fid}/interventions", json=NURSE, headers=world.auth("lead"))
    iid = made.json()["id"]
    patched = client.patch(
        f"{URL}/{fid}/interventions/{iid}",
        json={"unit_cost_gbp": 65, "note": "band 7"},
        headers=world.auth("lead"),
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["unit_cost_gbp"] == 65
    assert patched.json()["yearly_cost_gbp"] == 2000 * 65
    assert patched.json()["qaly_per_person"] == 0.05
    bad = client.patch(
        f"{URL}/{fid}/interventions/{iid}", json={"qaly_source": None}, headers=world.auth("lead")
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "qaly_source"
    other = _framework(client, world, "B")
    wrong = client.delete(f"{URL}/{other}/interventions/{iid}", headers=world.auth("lead"))
    assert wrong.status_code == 404
    gone = client.delete(f"{URL}/{fid}/interventions/{iid}", headers=world.auth("lead"))
    assert gone.status_code == 204
    assert _rows(world) == (0, 0)


def test_a_scenario_is_worked_out_kept_and_listed(client, world):
    fid = _framework(client, world, "A")
    nurse = client.post(f"{URL}/{fid}/interventions", json=NURSE, headers=world.auth("lead"))
    iv = client.post(
        f"{URL}/{fid}/interventions",
        json={
            "name": "IV diuretics at home",
            "yearly_activity": 120,
            "activity_unit": "patients",
            "unit_cost_gbp": 2500,
            "qaly_per_person": 0.1,
            "qaly_source": "entered, illustrative",
            "sourcing": "entered",
        },
        headers=world.auth("lead"),
    )
    body = {
        "name": "More nurse visits, fewer IV courses",
        "changes": [
            {"intervention_id": nurse.json()["id"], "action": "increase", "by": 500},
            {"intervention_id": iv.json()["id"], "action": "reduce", "by": 20},
        ],
    }
    made = client.post(f"{URL}/{fid}/scenarios", json=body, headers=world.auth("lead"))
    assert made.status_code == 201, made.text
    result = made.json()["result"]
    # Nurse: +500 visits x 60 = 30,000; +100 people x 0.05 = 5 QALYs; 6,000 per QALY.
    # IV: -20 x 2,500 = -50,000; -20 x 0.1 = -2 QALYs; saves 25,000 per QALY forgone.
    assert [
        (m["delta_cost_gbp"], m["delta_qalys"], m["cost_per_qaly_gbp"], m["verdict"])
        for m in result["moves"]
    ] == [(30_000.0, 5.0, 6_000, "cost-effective"), (-50_000.0, -2.0, 25_000, "judgement")]
    assert result["totals"]["delta_cost_gbp"] == -20_000.0
    assert result["totals"]["delta_qalys"] == 3.0
    assert result["totals"]["verdict"] == "dominant"
    assert len(result["assumptions"]) >= 5
    assert made.json()["framework_version"] == 1
    listed = client.get(f"{URL}/{fid}/scenarios", headers=world.auth("clin_A1")).json()
    assert listed == [made.json()]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"action": "stabilise", "by": 3}, "changes.0.by"),
        ({"action": "reduce", "by": 2001}, "changes.0.by"),
        ({"action": "increase"}, "changes.0.by"),
        ({"action": "increase", "by": -1}, "changes.0.by"),
        ({"action": "swap", "by": 1}, "changes.0.action"),
        (
            {
                "action": "increase",
                "by": 1,
                "intervention_id": "00000000-0000-0000-0000-000000000000",
            },
            "changes.0.intervention_id",
        ),
    ],
)
def test_bad_scenarios_name_the_field_and_keep_nothing(client, world, change, field):
    fid = _framework(client, world, "A")
    nurse = client.post(f"{URL}/{fid}/interventions", json=NURSE, headers=world.auth("lead"))
    body = {"changes": [{"intervention_id": nurse.json()["id"]} | change]}
    refused = client.post(f"{URL}/{fid}/scenarios", json=body, headers=world.auth("lead"))
    assert refused.status_code == 422, refused.text
    assert field in [e["field"] for e in refused.json()["errors"]]
    assert _rows(world) == (1, 0)


def test_the_register_follows_the_frameworks_rules(client, world):
    admin_a = site_admin(world, "A")
    mine = _framework(client, world, "A")
    network = _framework(client, world)
    theirs = _framework(client, world, "B")
    statuses = {
        (who, name): client.post(
            f"{URL}/{fid}/interventions", json=NURSE, headers=world.auth(who)
        ).status_code
        for who in (admin_a, "clin_A1")
        for name, fid in (("mine", mine), ("network", network), ("theirs", theirs))
    }
    assert statuses == {
        (admin_a, "mine"): 201,
        (admin_a, "network"): 403,
        (admin_a, "theirs"): 404,
        ("clin_A1", "mine"): 403,
        ("clin_A1", "network"): 403,
        ("clin_A1", "theirs"): 403,
    }
    reads = {
        who: client.get(f"{URL}/{theirs}/interventions", headers=world.auth(who)).status_code
        for who in ("clin_A1", "clin_B1", "lead", "pat_A1")
    }
    assert reads == {"clin_A1": 404, "clin_B1": 200, "lead": 200, "pat_A1": 403}


def test_a_snapshotted_month_is_measured_as_it_was_frozen(client, world, clock):
    """October 2026 frozen with the world's three patients (site A: 2). The patients added
    afterwards count only in the live months: the six from June in June to September (24),
    the one of 2025 in November and December (2): 2 + 24 + 2 = 28, shown 30 (live throughout
    it is 34, shown 35)."""
    with world.app.state.sessions() as s:
        snapshot_month(s, "2026-10", clock())
        s.commit()
    _patients(world)
    fid = _framework(client, world, "A")
    made = client.post(f"{URL}/{fid}/interventions", json=MONITORING, headers=world.auth("lead"))
    assert made.json()["yearly_activity"] == 30.0
