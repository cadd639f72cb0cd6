"""Practice beside results: a site's pathway in words for a month, and the month's changes, as
the site report, the network report and the practice page show them."""

from __future__ import annotations

from datetime import UTC, datetime

import pathway
from service.reports import practice
from tests.support.signin import signed_in
from tests.support.stewardship import site_lead

BEFORE = {"weight": {"gain_3d_kg": 2.5}, "thresholds": {"systolic_red_below": 95}}
AFTER = {"weight": {"gain_3d_kg": 3.0}, "thresholds": {"systolic_red_below": 95}}


def _patch(client, world, clock, when, overrides):
    clock.now = when
    got = client.patch(
        f"/api/v1/sites/{world.sites['A']}",
        json={"pathway_overrides": overrides},
        headers=world.auth("admin"),
    )
    assert got.status_code == 200, got.text


def _two_overrides_and_a_change_in_november(client, world, clock):
    _patch(client, world, clock, datetime(2026, 10, 15, 9, 0, tzinfo=UTC), BEFORE)
    _patch(
        client,
        world,
        clock,
        datetime(2026, 11, 10, 10, 30, tzinfo=UTC),
        {"weight": AFTER["weight"]},
    )
    # A change after the month: November's report still shows what ran in November.
    _patch(client, world, clock, datetime(2026, 12, 1, 9, 0, tzinfo=UTC), {"weight": None})
    clock.now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def test_the_site_report_carries_the_months_practice_in_words(client, world, clock):
    _two_overrides_and_a_change_in_november(client, world, clock)
    got = client.get(
        f"/api/v1/reports/sites/{world.sites['A']}?month=2026-11", headers=world.auth("lead")
    )
    assert got.status_code == 200, got.text
    practice = got.json()["practice"]
    assert practice == {
        "site_id": str(world.sites["A"]),
        "code": "SITEA",
        "month": "2026-11",
        "default_version": "mhf-2026.3",
        "pathway_version": pathway.default_pathway().with_overrides(AFTER).version,
        "overrides": [
            {
                "setting": "thresholds.systolic_red_below",
                "text": "Top blood pressure number below the red limit: 95 mmHg (default 90 mmHg)",
            },
            {
                "setting": "weight.gain_3d_kg",
                "text": "Weight gain over 3 days: 3.0 kg (default 2.0 kg)",
            },
        ],
        "changes": [
            {
                "changed_at": "2026-11-10T10:30:00+00:00",
                "changed_by": "admin",
                "before": [
                    {
                        "setting": "thresholds.systolic_red_below",
                        "text": "Top blood pressure number below the red limit: 95 mmHg "
                        "(default 90 mmHg)",
                    },
                    {
                        "setting": "weight.gain_3d_kg",
                        "text": "Weight gain over 3 days: 2.5 kg (default 2.0 kg)",
                    },
                ],
                "after": [
                    {
                        "setting": "thresholds.systolic_red_below",
                        "text": "Top blood pressure number below the red limit: 95 mmHg "
                        "(default 90 mmHg)",
                    },
                    {
                        "setting": "weight.gain_3d_kg",
                        "text": "Weight gain over 3 days: 3.0 kg (default 2.0 kg)",
                    },
                ],
                "text": ["Weight gain over 3 days: 3.0 kg (default 2.0 kg); was 2.5 kg"],
            }
        ],
    }
    assert practice["pathway_version"].startswith("mhf-2026.3+")


def test_each_month_shows_what_ran_then(client, world, clock):
    _two_overrides_and_a_change_in_november(client, world, clock)
    network = client.get("/api/v1/reports/network?month=2026-10", headers=world.auth("lead"))
    by_code = {p["code"]: p for p in network.json()["practice"]}
    october = by_code["SITEA"]
    assert [o["text"] for o in october["overrides"]] == [
        "Top blood pressure number below the red limit: 95 mmHg (default 90 mmHg)",
        "Weight gain over 3 days: 2.5 kg (default 2.0 kg)",
    ]
    assert [c["text"] for c in october["changes"]] == [
        [
            "Top blood pressure number below the red limit: 95 mmHg (default 90 mmHg); "
            "was the default",
            "Weight gain over 3 days: 2.5 kg (default 2.0 kg); was the default",
        ]
    ]
    assert by_code["SITEB"]["overrides"] == []
    assert by_code["SITEB"]["changes"] == []
    assert by_code["SITEB"]["pathway_version"] == "mhf-2026.3"
    # A month before the first with data is refused (422 naming it), so the month before the
    # changes is read through the practice use case itself.
    before = client.get("/api/v1/reports/network?month=2026-09", headers=world.auth("lead"))
    assert before.status_code == 422 and "month" in before.text
    with world.app.state.sessions() as s:
        site_a = practice.network_practice(s, "2026-09")[0]
    assert (site_a["overrides"], site_a["pathway_version"]) == ([], "mhf-2026.3")


def test_the_practice_page_puts_the_months_settings_and_changes_in_words(client, world, clock):
    _two_overrides_and_a_change_in_november(client, world, clock)
    lead_a = site_lead(world, "A")
    signed_in(client, lead_a.lower())
    page = client.get("/ui/reports/practice?site=SITEA&month=2026-11")
    assert page.status_code == 200, page.text
    assert "Weight gain over 3 days: 3.0 kg (default 2.0 kg)" in page.text
    assert "Weight gain over 3 days: 3.0 kg (default 2.0 kg); was 2.5 kg" in page.text
    assert "2026-11-10 10:30 UTC, admin" in page.text
    # October's change is in the year's history too.
    assert "Weight gain over 3 days: 2.5 kg (default 2.0 kg); was the default" in page.text
    # A site lead is shown their own site only, whatever the link asks for.
    other = client.get("/ui/reports/practice?site=SITEB&month=2026-11")
    assert "Practice beside results: Site A" in other.text
    assert "Site B" not in other.text
