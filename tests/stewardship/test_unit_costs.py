"""A site's unit costs: defaults with their sources, overrides, clearing, history, who may."""

from __future__ import annotations

import pytest

from service.stewardship.costs import DEFAULT_UNIT_COSTS
from tests.support.stewardship import site_admin


def _url(world, site="A"):
    return f"/api/v1/sites/{world.sites[site]}/unit-costs"


def test_every_cost_is_the_national_default_until_a_site_sets_its_own(client, world):
    got = client.get(_url(world), headers=world.auth("clin_A1"))
    assert got.status_code == 200, got.text
    costs = got.json()["costs"]
    assert {k: c["gbp"] for k, c in costs.items()} == {
        "admission_gbp": 3796.0,
        "bed_day_gbp": 380.0,
        "ae_attendance_gbp": 242.0,
        "nurse_hour_gbp": 62.0,
        "kit_patient_month_gbp": 30.0,
    }
    assert not any(c["overridden"] for c in costs.values())
    assert costs["bed_day_gbp"]["source"] == DEFAULT_UNIT_COSTS["bed_day_gbp"].source
    assert costs["bed_day_gbp"]["year"] == "2022/23"
    assert got.json()["defaults"]["nurse_hour_gbp"]["year"] == "2023"


def test_a_site_sets_changes_and_clears_its_own_costs(client, world, clock):
    admin_a = site_admin(world, "A")
    put = client.put(
        _url(world),
        json={
            "bed_day_gbp": 410,
            "nurse_hour_gbp": 58.5,
            "source": "UHDB reference costs 2024/25",
            "sources": {"nurse_hour_gbp": "Trust payroll, band 6 with on-costs"},
        },
        headers=world.auth(admin_a),
    )
    assert put.status_code == 200, put.text
    costs = put.json()["costs"]
    assert costs["bed_day_gbp"] | {"updated_at": None} == {
        "key": "bed_day_gbp",
        "title": "Excess bed day, non-elective",
        "gbp": 410.0,
        "overridden": True,
        "source": "UHDB reference costs 2024/25",
        "year": "2026",
        "updated_at": None,
    }
    assert costs["nurse_hour_gbp"]["source"] == "Trust payroll, band 6 with on-costs"
    assert costs["admission_gbp"]["overridden"] is False
    assert put.json()["defaults"]["bed_day_gbp"]["gbp"] == 380.0
    # Site B keeps the defaults.
    other = client.get(_url(world, "B"), headers=world.auth("lead")).json()["costs"]
    assert other["bed_day_gbp"]["gbp"] == 380.0
    # null goes back to the default; a cost left out is kept.
    clock.advance(minutes=5)
    put = client.put(_url(world), json={"bed_day_gbp": None}, headers=world.auth("lead"))
    costs = put.json()["costs"]
    assert costs["bed_day_gbp"]["gbp"] == 380.0 and not costs["bed_day_gbp"]["overridden"]
    assert costs["nurse_hour_gbp"]["gbp"] == 58.5
    history = client.get(f"/api/v1/sites/{world.sites['A']}", headers=world.auth("lead")).json()
    unit = [h for h in history["history"] if h["setting"] == "unit_costs"]
    assert [h["after"] for h in unit] == [
        {"nurse_hour_gbp": {"gbp": 58.5, "source": "Trust payroll, band 6 with on-costs"}},
        {
            "bed_day_gbp": {"gbp": 410.0, "source": "UHDB reference costs 2024/25"},
            "nurse_hour_gbp": {"gbp": 58.5, "source": "Trust payroll, band 6 with on-costs"},
        },
    ]
    assert unit[1]["before"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"bed_day_gbp": -1}, "bed_day_gbp"),
        ({"admission_gbp": "lots"}, "admission_gbp"),
        ({"admission_gbp": "3000"}, "admission_gbp"),
        ({"ae_attendance_gbp": True}, "ae_attendance_gbp"),
        ({"parking_gbp": 3}, "parking_gbp"),
        ({"bed_day_gbp": 400, "sources": {"nurse_hour_gbp": "payroll"}}, "sources.nurse_hour_gbp"),
    ],
)
def test_bad_costs_name_the_field_and_store_nothing(client, world, body, field):
    refused = client.put(_url(world), json=body, headers=world.auth("lead"))
    assert refused.status_code == 422, refused.text
    assert field in [e["field"] for e in refused.json()["errors"]]
    costs = client.get(_url(world), headers=world.auth("lead")).json()["costs"]
    assert not any(c["overridden"] for c in costs.values())


def test_who_may_read_and_set_a_sites_costs(client, world):
    admin_a = site_admin(world, "A")
    reads = {
        (who, site): client.get(_url(world, site), headers=world.auth(who)).status_code
        for who in ("lead", "admin", admin_a, "clin_A1", "clin_B1", "pat_A1")
        for site in ("A", "B")
    }
    assert reads == {
        ("lead", "A"): 200,
        ("lead", "B"): 200,
        ("admin", "A"): 200,
        ("admin", "B"): 200,
        (admin_a, "A"): 200,
        (admin_a, "B"): 404,
        ("clin_A1", "A"): 200,
        ("clin_A1", "B"): 404,
        ("clin_B1", "A"): 404,
        ("clin_B1", "B"): 200,
        ("pat_A1", "A"): 403,
        ("pat_A1", "B"): 403,
    }
    writes = {
        (who, site): client.put(
            _url(world, site), json={"kit_patient_month_gbp": 25}, headers=world.auth(who)
        ).status_code
        for who in ("lead", "admin", admin_a, "clin_A1")
        for site in ("A", "B")
    }
    assert writes == {
        ("lead", "A"): 200,
        ("lead", "B"): 200,
        ("admin", "A"): 200,
        ("admin", "B"): 200,
        (admin_a, "A"): 200,
        (admin_a, "B"): 404,
        ("clin_A1", "A"): 403,
        ("clin_A1", "B"): 403,
    }
    assert client.get(_url(world)).status_code == 401
