"""The site lead's pages: home on the reports page with their own site only, the menu of their
role, and asking for and deciding access through the pages."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.support.signin import csrf_of, signed_in
from tests.support.stewardship import site_lead


def test_a_site_lead_lands_on_the_reports_page_with_their_own_site(client, world):
    lead_a = site_lead(world, "A")
    signed_in(client, lead_a.lower())
    home = client.get("/ui/", follow_redirects=False)
    assert home.headers["location"] == "/ui/reports"
    page = client.get("/ui/reports")
    assert page.status_code == 200, page.text
    menu = re.search(r'<nav class="header__nav".*?</nav>', page.text, re.S)
    assert menu is not None
    links = re.findall(r'<a href="([^"]+)"', menu.group(0))
    assert links == ["/ui/reports", "/ui/value-frameworks", "/ui/access-requests", "/ui/account"]
    # The equity split offers their own site only.
    equity = re.search(r'<select id="[^"]*site[^"]*" name="site">(.*?)</select>', page.text, re.S)
    assert equity is not None
    assert re.findall(r"<option[^>]*>([^<]+)</option>", equity.group(1)) == ["Site A"]
    other_csv = client.get("/ui/reports/equity.csv?site=SITEB&by=sex")
    assert "equity-SITEA-sex" in other_csv.headers["content-disposition"]
    assert client.get("/ui/queue").status_code == 403
    assert client.get(f"/ui/patients/{world.patients['pat_A1']}").status_code == 403


def test_asking_and_approving_access_through_the_pages(app, world):
    with TestClient(app) as asker, TestClient(app) as decider:
        signed_in(asker, "clin_a1")
        page = asker.get("/ui/access-requests?kind=site_report")
        assert page.status_code == 200
        empty = asker.post(
            "/ui/access-requests",
            data={"csrf_token": csrf_of(page.text), "kind": "site_report", "site_id": ""},
        )
        assert empty.status_code == 422
        assert "Why you need it" in empty.text and 'id="f-site_id-error"' in empty.text
        sent = asker.post(
            "/ui/access-requests",
            data={
                "csrf_token": csrf_of(page.text),
                "kind": "site_report",
                "site_id": str(world.sites["B"]),
                "reason": "Comparing our adherence",
            },
            follow_redirects=False,
        )
        assert sent.status_code == 303, sent.text
        assert "Comparing our adherence" in asker.get("/ui/access-requests").text

        signed_in(decider, "lead")
        listed = decider.get("/ui/access-requests")
        action = re.search(r'action="(/ui/access-requests/[^"]+/approve)"', listed.text)
        assert action is not None
        approved = decider.post(
            action.group(1),
            data={"csrf_token": csrf_of(listed.text), "note": "Yes", "expires_on": ""},
            follow_redirects=False,
        )
        assert approved.status_code == 303, approved.text
        assert "Approved by lead: Yes" in asker.get("/ui/access-requests").text
    got = TestClient(app).get(
        f"/api/v1/reports/sites/{world.sites['B']}", headers=world.auth("clin_A1")
    )
    assert got.status_code == 200


def test_a_site_leads_grant_opens_the_other_sites_report_on_the_pages(app, world):
    """The pages read grants as the API does: after approval, site B is in the site lead's
    equity split and its CSV downloads; before it, only their own site is."""
    lead_a = site_lead(world, "A")
    with TestClient(app) as asker, TestClient(app) as decider:
        signed_in(asker, lead_a.lower())
        before = asker.get("/ui/reports/equity.csv?site=SITEB&by=sex")
        assert "equity-SITEA-sex" in before.headers["content-disposition"]
        page = asker.get("/ui/access-requests?kind=site_report")
        assert 'name="site_id"' in page.text and "Site B</option>" in page.text
        sent = asker.post(
            "/ui/access-requests",
            data={
                "csrf_token": csrf_of(page.text),
                "kind": "site_report",
                "site_id": str(world.sites["B"]),
                "reason": "Their discharge calls",
            },
            follow_redirects=False,
        )
        assert sent.status_code == 303, sent.text
        signed_in(decider, "lead")
        listed = decider.get("/ui/access-requests")
        action = re.search(r'action="(/ui/access-requests/[^"]+/approve)"', listed.text)
        assert action is not None
        decider.post(
            action.group(1),
            data={"csrf_token": csrf_of(listed.text), "note": "Yes", "expires_on": ""},
        )
        after = asker.get("/ui/reports/equity.csv?site=SITEB&by=sex")
        assert "equity-SITEB-sex" in after.headers["content-disposition"]
        reports = asker.get("/ui/reports?site=SITEB")
        equity = re.search(
            r'<select id="equity-site" name="site">(.*?)</select>', reports.text, re.S
        )
        assert equity is not None
        assert re.findall(r"<option[^>]*>([^<]+)</option>", equity.group(1)) == [
            "Site A",
            "Site B",
        ]
