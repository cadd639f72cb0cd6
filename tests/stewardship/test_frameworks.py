"""Value frameworks through the API: create, read, versions by merge patch, validation that
names the field and stores nothing, and who may see and change which framework."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from service.models import ValueFramework, ValueFrameworkSite, ValueFrameworkVersion
from service.stewardship.frameworks import spec_for_month
from tests.support.stewardship import framework_body, site_admin
from tests.support.world import read

URL = "/api/v1/value-frameworks"


def _counts(world):
    def count(s):
        return tuple(
            s.scalar(select(func.count()).select_from(t))
            for t in (ValueFramework, ValueFrameworkVersion, ValueFrameworkSite)
        )

    return read(world, count)


def test_a_lead_creates_reads_and_lists_a_framework(client, world):
    created = client.post(URL, json=framework_body(world, "A"), headers=world.auth("lead"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["version"] == 1
    assert body["site_ids"] == [str(world.sites["A"])]
    assert body["is_network"] is False
    assert body["population"] == {
        "cohorts": ["post_discharge"],
        "description": "Adults after an admission",
    }
    assert body["resources"] == {"team_wte": 4.5, "budget_gbp": 250_000, "note": ""}
    assert [o["domain"] for o in body["outcomes"]] == [
        "population_health",
        "quality",
        "resources",
        "inequalities",
    ]
    assert body["outcomes"][3]["equity_split"] == "imd_quintile"
    got = client.get(f"{URL}/{body['id']}", headers=world.auth("lead")).json()
    assert got == body
    listed = client.get(URL, headers=world.auth("lead")).json()
    assert [f["id"] for f in listed] == [body["id"]]
    assert _counts(world) == (1, 1, 1)


def test_a_plain_population_description_means_every_cohort(client, world):
    body = framework_body(world, population="Everyone on the pathway")
    created = client.post(URL, json=body, headers=world.auth("lead")).json()
    assert created["population"]["description"] == "Everyone on the pathway"
    assert created["population"]["cohorts"] == [
        "new_diagnosis",
        "post_discharge",
        "medication_optimisation",
        "palliative",
    ]
    assert created["is_network"] is True


def test_a_patch_makes_a_new_version_and_keeps_the_old(client, world, clock):
    fid = client.post(URL, json=framework_body(world, "A"), headers=world.auth("lead")).json()["id"]
    first_at = clock()
    clock.advance(days=40)
    patched = client.patch(
        f"{URL}/{fid}",
        json={"aim": "A new aim", "resources": {"team_wte": 6}, "site_ids": []},
        headers=world.auth("lead"),
    )
    assert patched.status_code == 200, patched.text
    new = patched.json()
    assert new["version"] == 2
    assert new["aim"] == "A new aim"
    # Merged member by member: the budget is kept.
    assert new["resources"] == {"team_wte": 6, "budget_gbp": 250_000, "note": ""}
    assert new["is_network"] is True
    assert len(new["outcomes"]) == 4
    versions = client.get(f"{URL}/{fid}/versions", headers=world.auth("lead")).json()
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[1]["spec"]["aim"] == "Fewer heart-failure admissions, better lives at home"
    # The scope mirrors the current version: a network framework has no site rows.
    assert _counts(world) == (1, 2, 0)
    # The same patch again changes nothing and makes no version.
    again = client.patch(f"{URL}/{fid}", json={"aim": "A new aim"}, headers=world.auth("lead"))
    assert again.json()["version"] == 2

    def in_force(at):
        return read(world, lambda s: spec_for_month(s, new_id, at))

    new_id = uuid.UUID(fid)
    assert in_force(first_at + timedelta(days=1))[0] == 1
    assert in_force(first_at + timedelta(days=1))[1].aim.startswith("Fewer")
    assert in_force(clock() + timedelta(days=1))[0] == 2
    assert in_force(clock() + timedelta(days=1))[1].site_ids == ()
    # A month before the framework existed is shown against its first version.
    assert in_force(first_at - timedelta(days=100))[0] == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {
                "outcomes": [
                    {"domain": "wealth", "metric": "caseload", "target": 1, "direction": "higher"}
                ]
            },
            "outcomes.0.domain",
        ),
        (
            {
                "outcomes": [
                    {"domain": "quality", "metric": "caseload", "target": 1, "direction": "up"}
                ]
            },
            "outcomes.0.direction",
        ),
        (
            {
                "outcomes": [
                    {"domain": "quality", "metric": "caseload", "target": 1, "direction": "higher"},
                    {
                        "domain": "quality",
                        "metric": "happiness",
                        "target": 1,
                        "direction": "higher",
                    },
                ]
            },
            "outcomes.1.metric",
        ),
        (
            {
                "outcomes": [
                    {
                        "domain": "inequalities",
                        "metric": "caseload",
                        "target": 1,
                        "direction": "lower",
                    }
                ]
            },
            "outcomes.0.equity_split",
        ),
        (
            {
                "outcomes": [
                    {
                        "domain": "inequalities",
                        "metric": "caseload",
                        "target": 1,
                        "direction": "lower",
                        "equity_split": "postcode",
                    }
                ]
            },
            "outcomes.0.equity_split",
        ),
        (
            {
                "outcomes": [
                    {
                        "domain": "quality",
                        "metric": "caseload",
                        "target": 1,
                        "direction": "higher",
                        "equity_split": "sex",
                    }
                ]
            },
            "outcomes.0.equity_split",
        ),
        (
            {
                "outcomes": [
                    {
                        "domain": "inequalities",
                        "metric": "caseload",
                        "target": 1,
                        "direction": "lower",
                        "equity_split": "sex",
                    }
                ]
            },
            "outcomes.0.metric",  # a count's groups differ by size, not by equity
        ),
        ({"resources": {"team_wte": -1}}, "resources.team_wte"),
        ({"resources": {"team_wte": 1, "budget_gbp": -5}}, "resources.budget_gbp"),
        ({"site_ids": ["00000000-0000-0000-0000-000000000000"]}, "site_ids.0"),
        ({"name": ""}, "name"),
        ({"population": {"cohorts": ["teenagers"]}}, "population.cohorts.0"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(client, world, change, field):
    body = framework_body(world, "A", **change)
    refused = client.post(URL, json=body, headers=world.auth("lead"))
    assert refused.status_code == 422, refused.text
    assert field in [e["field"] for e in refused.json()["errors"]], refused.json()
    assert _counts(world) == (0, 0, 0)
    # The same through a patch: the version stays, and nothing of the patch is kept.
    fid = client.post(URL, json=framework_body(world, "A"), headers=world.auth("lead")).json()["id"]
    patched = client.patch(f"{URL}/{fid}", json=change, headers=world.auth("lead"))
    assert patched.status_code == 422, patched.text
    assert field in [e["field"] for e in patched.json()["errors"]], patched.json()
    assert _counts(world) == (1, 1, 1)


def test_a_resource_metric_is_a_known_metric(client, world):
    body = framework_body(
        world,
        outcomes=[
            {
                "domain": "resources",
                "metric": "cost_per_patient_month_gbp",
                "target": 90,
                "direction": "lower",
            }
        ],
    )
    assert client.post(URL, json=body, headers=world.auth("lead")).status_code == 201


def test_who_may_create_which_framework(client, world):
    admin_a = site_admin(world, "A")
    made = {
        who: client.post(URL, json=framework_body(world, *sites), headers=world.auth(who))
        for who, sites in (
            ("admin", ("A", "B")),
            (admin_a, ("A",)),
        )
    }
    assert {w: r.status_code for w, r in made.items()} == {"admin": 201, admin_a: 201}
    for sites in ((), ("B",), ("A", "B")):
        refused = client.post(URL, json=framework_body(world, *sites), headers=world.auth(admin_a))
        assert refused.status_code == 403, sites
    for who in ("clin_A1", "pat_A1"):
        assert (
            client.post(URL, json=framework_body(world), headers=world.auth(who)).status_code == 403
        )
    assert client.post(URL, json=framework_body(world)).status_code == 401
    assert _counts(world)[0] == 2


def test_who_sees_and_changes_which_framework(client, world):
    admin_a = site_admin(world, "A")
    lead = world.auth("lead")
    ids = {
        name: client.post(URL, json=framework_body(world, *sites, name=name), headers=lead).json()[
            "id"
        ]
        for name, sites in (
            ("network", ()),
            ("site A", ("A",)),
            ("site B", ("B",)),
            ("A and B", ("A", "B")),
        )
    }
    seen = {
        who: sorted(f["name"] for f in client.get(URL, headers=world.auth(who)).json())
        for who in ("lead", "admin", admin_a, "clin_A1", "clin_A2", "clin_B1")
    }
    everything = sorted(ids)
    assert seen == {
        "lead": everything,
        "admin": everything,
        admin_a: ["A and B", "network", "site A"],
        "clin_A1": ["A and B", "network", "site A"],
        "clin_A2": ["A and B", "network", "site A"],
        "clin_B1": ["A and B", "network", "site B"],
    }
    assert client.get(f"{URL}/{ids['site B']}", headers=world.auth("clin_A1")).status_code == 404
    assert client.get(f"{URL}/{ids['site B']}", headers=world.auth(admin_a)).status_code == 404
    assert client.get(f"{URL}/{ids['site A']}", headers=world.auth("clin_A1")).status_code == 200
    assert client.get(URL, headers=world.auth("pat_A1")).status_code == 403
    rename = {"name": "renamed"}
    statuses = {
        (who, name): client.patch(
            f"{URL}/{ids[name]}", json=rename, headers=world.auth(who)
        ).status_code
        for who in (admin_a, "clin_A1")
        for name in ("network", "site A", "site B", "A and B")
    }
    assert statuses == {
        (admin_a, "network"): 403,
        (admin_a, "site A"): 200,
        (admin_a, "site B"): 404,
        (admin_a, "A and B"): 403,
        ("clin_A1", "network"): 403,
        ("clin_A1", "site A"): 403,
        ("clin_A1", "site B"): 403,
        ("clin_A1", "A and B"): 403,
    }
    # A site admin cannot widen their framework beyond their site.
    widen = {"site_ids": [str(world.sites["A"]), str(world.sites["B"])]}
    assert (
        client.patch(f"{URL}/{ids['site A']}", json=widen, headers=world.auth(admin_a)).status_code
        == 403
    )
    assert (
        client.patch(f"{URL}/{ids['site B']}", json=rename, headers=world.auth("admin")).status_code
        == 200
    )


def test_a_change_made_from_a_stale_version_is_refused(client, world):
    fid = client.post(URL, json=framework_body(world, "A"), headers=world.auth("lead")).json()["id"]
    first = client.patch(
        f"{URL}/{fid}", json={"version": 1, "aim": "First"}, headers=world.auth("lead")
    )
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = client.patch(
        f"{URL}/{fid}", json={"version": 1, "aim": "Second"}, headers=world.auth("admin")
    )
    assert stale.status_code == 409
    got = client.get(f"{URL}/{fid}", headers=world.auth("lead")).json()
    assert (got["version"], got["aim"]) == (2, "First")
    assert _counts(world) == (1, 2, 1)
