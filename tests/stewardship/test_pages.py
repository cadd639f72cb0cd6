"""The value frameworks page: each staff member sees the frameworks the API gives them."""

from __future__ import annotations

from tests.support.signin import csrf_of, signed_in
from tests.support.stewardship import framework_body, site_admin


def test_the_list_shows_what_each_role_may_read_and_links_each_dashboard(client, world):
    lead = world.auth("lead")
    made = {}
    for name, sites in (("Network plan", ()), ("Site A plan", ("A",)), ("Site B plan", ("B",))):
        body = framework_body(world, *sites, name=name)
        made[name] = client.post("/api/v1/value-frameworks", json=body, headers=lead).json()["id"]
    site_admin(world, "A")
    for username, shown in (
        ("lead", {"Network plan", "Site A plan", "Site B plan"}),
        ("clin_a1", {"Network plan", "Site A plan"}),
        ("site_admin_a", {"Network plan", "Site A plan"}),
        ("clin_b1", {"Network plan", "Site B plan"}),
    ):
        client.cookies.clear()
        page = signed_in(client, username).get("/ui/value-frameworks")
        assert page.status_code == 200, page.text
        assert 'href="/ui/value-frameworks"' in page.text  # in every role's menu
        for name, fid in made.items():
            assert (f'<a href="/ui/value-frameworks/{fid}">{name}</a>' in page.text) == (
                name in shown
            ), (username, name)
        if "Site A plan" in shown:
            assert "<td>Site A</td>" in page.text
        assert "<td>The network</td>" in page.text


def test_a_bearer_token_opens_no_page(client, world):
    page = client.get("/ui/value-frameworks", headers=world.auth("lead"), follow_redirects=False)
    assert page.status_code in (401, 303)


def _costs_page(client, world, site="A"):
    return client.get(f"/ui/sites/{world.sites[site]}/unit-costs")


def test_a_site_admin_sets_and_clears_their_sites_costs_from_the_page(client, world):
    site_admin(world, "A")
    signed_in(client, "site_admin_a")
    listing = client.get("/ui/value-frameworks").text
    assert f'href="/ui/sites/{world.sites["A"]}/unit-costs"' in listing
    assert f'href="/ui/sites/{world.sites["B"]}/unit-costs"' not in listing
    page = _costs_page(client, world)
    assert page.status_code == 200 and "National default" in page.text
    form = {
        "csrf_token": csrf_of(page.text),
        "bed_day_gbp": "410",
        "nurse_hour_gbp": "",
        "source": "Trust reference costs 2024/25",
    }
    url = f"/ui/sites/{world.sites['A']}/unit-costs"
    saved = client.post(url, data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    api = client.get(url.replace("/ui/", "/api/v1/"), headers=world.auth("lead")).json()
    assert api["costs"]["bed_day_gbp"]["gbp"] == 410.0
    assert api["costs"]["bed_day_gbp"]["source"] == "Trust reference costs 2024/25"
    assert not api["costs"]["nurse_hour_gbp"]["overridden"]
    page = _costs_page(client, world)
    assert 'value="410"' in page.text and "The site&#39;s own" in page.text
    cleared = client.post(
        url, data={"csrf_token": csrf_of(page.text), "bed_day_gbp": ""}, follow_redirects=False
    )
    assert cleared.status_code == 303
    api = client.get(url.replace("/ui/", "/api/v1/"), headers=world.auth("lead")).json()
    assert not api["costs"]["bed_day_gbp"]["overridden"]


def test_a_bad_cost_is_named_and_nothing_is_saved(client, world):
    signed_in(client, "lead")
    page = _costs_page(client, world)
    url = f"/ui/sites/{world.sites['A']}/unit-costs"
    form = {"csrf_token": csrf_of(page.text), "bed_day_gbp": "-5", "admission_gbp": "lots"}
    refused = client.post(url, data=form)
    assert refused.status_code == 422
    assert 'id="f-bed_day_gbp-error"' in refused.text
    assert 'id="f-admission_gbp-error"' in refused.text
    api = client.get(url.replace("/ui/", "/api/v1/"), headers=world.auth("lead")).json()
    assert not any(c["overridden"] for c in api["costs"].values())


def test_who_opens_and_posts_which_sites_costs_page(client, world):
    site_admin(world, "A")
    for username, site, status, form in (
        ("clin_a1", "A", 200, False),
        ("clin_a1", "B", 404, False),
        ("site_admin_a", "B", 404, False),
        ("lead", "B", 200, True),
    ):
        client.cookies.clear()
        page = _costs_page(signed_in(client, username), world, site)
        assert page.status_code == status, (username, site)
        assert ('id="set-costs"' in page.text) == form, (username, site)
    client.cookies.clear()
    signed_in(client, "clin_a1")
    token = csrf_of(client.get("/ui/value-frameworks").text)
    url = f"/ui/sites/{world.sites['A']}/unit-costs"
    refused = client.post(url, data={"csrf_token": token, "bed_day_gbp": "1"})
    assert refused.status_code == 403
