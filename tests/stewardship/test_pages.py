"""The value frameworks page: each staff member sees the frameworks the API gives them."""

from __future__ import annotations

from tests.support.signin import signed_in
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
