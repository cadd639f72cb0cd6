"""The administrators' pages (issue 19, section 6): users (create, deactivate, reset a password),
sites and teams, through the org room's use cases with the API's scoping, audit and checks; and
the edges (section 7): where ``/`` leads, HTML 404 and 403 pages under /ui while /api and /fhir
keep their problem bodies. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.identity.security import issue_access_token, token_settings, verify_password
from service.models import Site, Team, User, Webhook
from tests.support.admin import admin_changes, refused_without_the_session_token
from tests.support.clock import T0
from tests.support.signin import csrf_of, page_login, signed_in
from tests.support.world import read

NEW_PASSWORD = "a-long-new-password-1"


def _csrf(client: TestClient, path: str = "/ui/admin") -> str:
    return csrf_of(client.get(path).text)


def _user(world, username: str) -> User | None:
    return read(world, lambda s: s.scalar(select(User).where(User.username == username)))


# --- the landing page and the edges --------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "home"),
    [("clin_a1", "/ui/queue"), ("lead", "/ui/reports"), ("admin", "/ui/admin")],
)
def test_the_root_leads_each_role_home(client, world, who, home):
    first = client.get("/", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/ui/"
    anonymous = client.get("/", follow_redirects=True)
    assert anonymous.url.path == "/ui/login" and anonymous.status_code == 200
    signed_in(client, who)
    assert client.get("/", follow_redirects=True).url.path == home


def test_a_site_admin_lands_on_a_real_admin_page(client, world, site_admin):
    response = page_login(client, "site_admin_a")
    assert response.headers["location"] == "/ui/admin"
    page = client.get("/ui/admin")
    assert page.status_code == 200
    assert "Site A" in page.text and "use the API" not in page.text
    assert 'href="/ui/admin/users"' in page.text and 'href="/ui/admin/sites"' in page.text


def test_unknown_page_addresses_answer_an_html_404_and_the_api_keeps_json(client, world):
    anonymous = client.get("/ui/no-such-page")
    assert anonymous.status_code == 404
    assert anonymous.headers["content-type"].startswith("text/html")
    assert "Page not found" in anonymous.text and 'href="/ui/login"' in anonymous.text
    assert anonymous.headers["content-security-policy"].startswith("default-src 'self'")
    signed_in(client, "clin_a1")
    page = client.get("/ui/patients/not-a-uuid/device-token")
    assert page.status_code == 404 and "<h1>Page not found</h1>" in page.text
    assert 'href="/ui/queue"' in page.text  # the nurse's own menu
    unreadable = client.post("/ui/logout", data={"csrf_token": "x" * 300})
    assert unreadable.status_code == 422 and "The form could not be read" in unreadable.text
    wrong_method = client.get("/ui/logout")
    assert wrong_method.status_code == 405 and "text/html" in wrong_method.headers["content-type"]
    api = client.get("/api/v1/no-such-thing", headers=world.auth("clin_A1"))
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/problem+json")
    fhir = client.get("/fhir/R4/NoSuchThing/1", headers=world.auth("clin_A1"))
    assert fhir.status_code == 404 and "html" not in fhir.headers["content-type"]


def test_pages_a_role_may_not_open_answer_an_html_403(client, world):
    signed_in(client, "clin_a1")
    for path in ("/ui/admin", "/ui/admin/users", "/ui/admin/sites", "/ui/admin/users/new"):
        page = client.get(path)
        assert page.status_code == 403, path
        assert "You do not have access to this page" in page.text
    client.cookies.clear()
    signed_in(client, "admin")
    assert client.get("/ui/queue").status_code == 403


# --- users ---------------------------------------------------------------------------------------


def test_an_admin_creates_a_user_and_it_can_sign_in(app, client, world):
    signed_in(client, "admin")
    form = client.get("/ui/admin/users/new")
    assert form.status_code == 200 and "Network administrator" in form.text
    created = client.post(
        "/ui/admin/users",
        data={
            "csrf_token": csrf_of(form.text),
            "username": "New.Nurse",
            "display_name": "Nia Nurse",
            "password": NEW_PASSWORD,
            "role": "clinician",
            "team_ids": [str(world.teams["A1"]), str(world.teams["B1"])],
        },
        follow_redirects=False,
    )
    assert created.status_code == 303 and "msg=user_created" in created.headers["location"]
    listed = client.get(created.headers["location"]).text
    assert "new.nurse" in listed and "Nia Nurse" in listed and "User created" in listed
    new = _user(world, "new.nurse")
    assert new is not None and new.role == "clinician" and new.is_active
    assert admin_changes(world, "admin") == [
        f"user:{new.id} created username=new.nurse role=clinician site=None "
        f"teams={world.teams['A1']},{world.teams['B1']}"
    ]
    nurse = TestClient(app)
    assert page_login(nurse, "new.nurse", NEW_PASSWORD).headers["location"] == "/ui/queue"


def test_every_problem_with_a_new_user_is_shown_at_once_in_plain_words(client, world):
    signed_in(client, "admin")
    refused = client.post(
        "/ui/admin/users",
        data={
            "csrf_token": _csrf(client),
            "username": "x",
            "password": "short",
            "role": "wizard",
            "display_name": "Kept Name",
        },
    )
    assert refused.status_code == 422
    text = refused.text
    assert "Enter a username of 3 to 150 letters" in text
    assert "Enter a password of at least 12 characters." in text
    assert "Choose a role." in text
    assert "Input should" not in text and "String should" not in text
    assert 'value="Kept Name"' in text and "short" not in re.findall(r'value="([^"]*)"', text)
    taken = client.post(
        "/ui/admin/users",
        data={
            "csrf_token": _csrf(client),
            "username": "clin_a1",
            "password": NEW_PASSWORD,
            "role": "clinician",
        },
    )
    assert taken.status_code == 422 and "That username is taken." in taken.text
    site_admin_without_site = client.post(
        "/ui/admin/users",
        data={
            "csrf_token": _csrf(client),
            "username": "sa_nowhere",
            "password": NEW_PASSWORD,
            "role": "site_admin",
        },
    )
    assert "a site admin needs the site they manage" in site_admin_without_site.text.lower()
    assert _user(world, "x") is None and _user(world, "sa_nowhere") is None
    assert admin_changes(world, "admin") == []


def test_a_site_admin_manages_only_their_sites_users(client, world, site_admin):
    signed_in(client, "site_admin_a")
    form = client.get("/ui/admin/users/new").text
    assert "Network administrator" not in form and "Programme lead" not in form
    assert "Team B1" not in form and "Team A1" in form
    names = set(re.findall(r'id="user-[^"]+-name">([^<]+)<', client.get("/ui/admin/users").text))
    assert names == {"clin_a1", "clin_a2", "site_admin_a"}
    csrf = _csrf(client)
    # A team of another site is as unknown as no team; a network role is refused.
    outside = client.post(
        "/ui/admin/users",
        data={
            "csrf_token": csrf,
            "username": "sneaky",
            "password": NEW_PASSWORD,
            "role": "clinician",
            "team_ids": [str(world.teams["B1"])],
        },
    )
    assert outside.status_code == 422 and "Choose only teams from the list." in outside.text
    lead = client.post(
        "/ui/admin/users",
        data={"csrf_token": csrf, "username": "lead2", "password": NEW_PASSWORD, "role": "admin"},
    )
    assert lead.status_code == 422 and "A site admin may create clinicians" in lead.text
    own = client.post(
        "/ui/admin/users",
        data={
            "csrf_token": csrf,
            "username": "site_nurse",
            "password": NEW_PASSWORD,
            "role": "clinician",
            "team_ids": [str(world.teams["A2"])],
        },
        follow_redirects=False,
    )
    assert own.status_code == 303
    assert _user(world, "sneaky") is None and _user(world, "lead2") is None
    # Another site's user cannot be reached for a password reset: 404, as for no one.
    other = world.users["clin_B1"]
    assert client.get(f"/ui/admin/users/{other}/password").status_code == 404
    reset = client.post(
        f"/ui/admin/users/{other}/password",
        data={"csrf_token": csrf, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert reset.status_code == 404
    before = read(world, lambda s: s.get_one(User, other).password_hash)
    assert not verify_password(before, NEW_PASSWORD)


def test_resetting_a_password_signs_the_user_out_everywhere(app, client, world, clock):
    nurse = signed_in(TestClient(app), "clin_a1")
    token = world.auth("clin_A1")
    clock.advance(seconds=2)
    signed_in(client, "admin")
    target = world.users["clin_A1"]
    form = client.get(f"/ui/admin/users/{target}/password")
    assert form.status_code == 200 and "clin_a1" in form.text
    mismatch = client.post(
        f"/ui/admin/users/{target}/password",
        data={"csrf_token": csrf_of(form.text), "password": "short", "confirm": "other"},
    )
    assert mismatch.status_code == 422
    assert "at least 12 characters" in mismatch.text and "same password in both" in mismatch.text
    done = client.post(
        f"/ui/admin/users/{target}/password",
        data={"csrf_token": csrf_of(form.text), "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        follow_redirects=False,
    )
    assert done.status_code == 303 and "msg=password_reset" in done.headers["location"]
    assert nurse.get("/ui/queue", follow_redirects=False).status_code == 303
    assert client.get("/api/v1/users/me", headers=token).status_code == 401
    assert page_login(TestClient(app), "clin_a1", NEW_PASSWORD).status_code == 303
    assert admin_changes(world, "admin") == [f"user:{target} password reset"]
    # Not their own: there would be no one signed in to undo a mistake.
    own = client.post(
        f"/ui/admin/users/{world.users['admin']}/password",
        data={"csrf_token": _csrf(client), "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert own.status_code == 422 and "You cannot reset your own password here." in own.text


def test_the_api_resets_a_password_with_the_same_scope(client, world, site_admin):
    target = world.users["clin_B1"]
    body = {"password": NEW_PASSWORD}
    token = {"Authorization": f"Bearer {_site_admin_token(world)}"}
    assert (
        client.post(f"/api/v1/users/{target}/password", json=body, headers=token).status_code == 404
    )
    short = client.post(
        f"/api/v1/users/{target}/password", json={"password": "x"}, headers=world.auth("admin")
    )
    assert short.status_code == 422
    done = client.post(f"/api/v1/users/{target}/password", json=body, headers=world.auth("admin"))
    assert done.status_code == 200 and done.json()["username"] == "clin_b1"


def _site_admin_token(world) -> str:
    return issue_access_token(
        token_settings(world.settings), world.users["site_admin_A"], "site_admin", world.clock()
    )


def test_every_admin_form_needs_the_session_token(client, world, site_admin):
    signed_in(client, "admin")
    site = world.sites["A"]
    team = world.teams["A1"]
    posts = {
        "/ui/admin/users": {"username": "nobody", "password": NEW_PASSWORD, "role": "clinician"},
        f"/ui/admin/users/{world.users['clin_A1']}/password": {
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
        f"/ui/admin/users/{world.users['clin_A1']}/deactivate": {},
        "/ui/admin/sites": {"name": "Nowhere", "code": "NOWHERE"},
        f"/ui/admin/sites/{site}": {"name": "Renamed"},
        f"/ui/admin/sites/{site}/teams": {"team_name": "Team Z"},
        f"/ui/admin/teams/{team}": {"name": "Renamed team"},
    }
    refused_without_the_session_token(client, posts)
    assert admin_changes(world, "admin") == []
    assert read(world, lambda s: s.get_one(Site, site).name) == "Site A"


# --- sites and teams -----------------------------------------------------------------------------


def test_an_admin_creates_a_site_and_a_team_in_it(client, world):
    signed_in(client, "admin")
    page = client.get("/ui/admin/sites")
    assert "Site A" in page.text and "Site B" in page.text and "Add a site" in page.text
    bad = client.post(
        "/ui/admin/sites", data={"csrf_token": csrf_of(page.text), "name": "", "code": "a b"}
    )
    assert bad.status_code == 422
    assert "Enter the site&#39;s name" in bad.text and "Enter a code of 2 to 32" in bad.text
    taken = client.post(
        "/ui/admin/sites", data={"csrf_token": csrf_of(page.text), "name": "X", "code": "SITEA"}
    )
    assert taken.status_code == 422 and "A site with code SITEA exists." in taken.text
    made = client.post(
        "/ui/admin/sites",
        data={"csrf_token": csrf_of(page.text), "name": "Derbyshire", "code": "DERBY"},
        follow_redirects=False,
    )
    assert made.status_code == 303 and "msg=site_created" in made.headers["location"]
    site_page = client.get(made.headers["location"])
    assert site_page.status_code == 200 and "Derbyshire" in site_page.text
    site_id = made.headers["location"].split("/")[4].split("?")[0]

    def add_team(name: str, contact: str):
        data = {"team_name": name, "team_escalation_contact": contact}
        return client.post(
            f"/ui/admin/sites/{site_id}/teams",
            data={"csrf_token": csrf_of(site_page.text), **data},
            follow_redirects=False,
        )

    # The site page's new-team fields are named team_*: the team form's own sentences still apply.
    refused = add_team("", "ring the ward")
    assert refused.status_code == 422
    assert "Enter the team&#39;s name, up to 200 characters." in refused.text
    assert "Enter a UK telephone number (01332 000000) or an https:// address" in refused.text
    team = add_team("Derby HF nurses", "01332 000000")
    assert team.status_code == 303 and "msg=team_created" in team.headers["location"]
    row = read(world, lambda s: s.scalar(select(Team).where(Team.name == "Derby HF nurses")))
    assert row is not None and str(row.site_id) == site_id
    assert row.escalation_contact == "01332 000000"
    details = admin_changes(world, "admin")
    assert details[0].startswith("site:") and "created code=DERBY" in details[0]
    assert details[1].startswith(f"team:{row.id} created site={site_id}")


def test_a_site_admin_cannot_create_sites_or_reach_another_site(client, world, site_admin):
    signed_in(client, "site_admin_a")
    sites = client.get("/ui/admin/sites").text
    assert "Site A" in sites and "Site B" not in sites and "Add a site" not in sites
    csrf = _csrf(client)
    refused = client.post("/ui/admin/sites", data={"csrf_token": csrf, "name": "X", "code": "XX"})
    assert refused.status_code == 403
    b_site, b_team = world.sites["B"], world.teams["B1"]
    assert client.get(f"/ui/admin/sites/{b_site}").status_code == 404
    assert client.get(f"/ui/admin/teams/{b_team}").status_code == 404
    for path, data in (
        (f"/ui/admin/sites/{b_site}", {"name": "Mine now"}),
        (f"/ui/admin/sites/{b_site}/teams", {"team_name": "Team Z"}),
        (f"/ui/admin/teams/{b_team}", {"name": "Mine now"}),
    ):
        response = client.post(path, data={"csrf_token": csrf, **data})
        assert response.status_code == 404, path
        assert "not found" in response.text
    assert read(world, lambda s: s.get_one(Site, b_site).name) == "Site B"
    assert read(world, lambda s: s.get_one(Team, b_team).name) == "Team B1"
    assert read(world, lambda s: s.scalar(select(Team).where(Team.name == "Team Z"))) is None
    assert admin_changes(world, "site_admin_A") == []
    # Their own site's team they may edit.
    own = client.post(
        f"/ui/admin/teams/{world.teams['A1']}",
        data={"csrf_token": csrf, "name": "Team A1", "escalation_contact": "nonsense"},
    )
    assert own.status_code == 422 and "Enter a UK telephone number" in own.text
    saved = client.post(
        f"/ui/admin/teams/{world.teams['A1']}",
        data={"csrf_token": csrf, "name": "Team A One", "escalation_contact": "01332 000000"},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and "msg=team_saved" in saved.headers["location"]
    assert admin_changes(world, "site_admin_A") == [
        f"team:{world.teams['A1']} escalation_contact=01332 000000, name=Team A One"
    ]


def _settings_form(**values: object) -> dict[str, object]:
    return {"name": "Site A", **values}


def test_site_settings_are_saved_as_the_apis_merge_patch(client, world, site_admin):
    signed_in(client, "site_admin_a")
    site = world.sites["A"]
    csrf = _csrf(client, f"/ui/admin/sites/{site}")
    saved = client.post(
        f"/ui/admin/sites/{site}",
        data={
            "csrf_token": csrf,
            **_settings_form(
                name="Site A North",
                opens_at="08:00",
                closes_at="18:30",
                working_days=["0", "1", "2", "3", "4", "5"],
                holidays="2026-12-24\n2026-12-31",
                bank_holidays="false",
                red_within_minutes="120",
                out_of_hours_contact="the Derby urgent care line on 01332 000000",
                t_spo2_red_at_or_below="91",
                overrides='{"macd": {"threshold_kg": 1.3}}',
            ),
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    api = client.get(f"/api/v1/sites/{site}", headers=world.auth("admin")).json()
    assert api["name"] == "Site A North"
    assert api["response_policy"] == {
        "opens_at": "08:00",
        "closes_at": "18:30",
        "working_days": [0, 1, 2, 3, 4, 5],
        "holidays": ["2026-12-24", "2026-12-31"],
        "bank_holidays": False,
        "red_within_minutes": 120,
        "out_of_hours_contact": "the Derby urgent care line on 01332 000000",
    }
    assert api["pathway_overrides"] == {
        "macd": {"threshold_kg": 1.3},
        "thresholds": {"spo2_red_at_or_below": 91},
    }
    assert {h["setting"] for h in api["history"]} == {"response_policy", "pathway_overrides"}
    page = client.get(f"/ui/admin/sites/{site}").text
    assert 'value="08:00"' in page and 'value="91"' in page and "threshold_kg" in page
    # Emptying boxes clears those settings back to the defaults, as null does in the API.
    cleared = client.post(
        f"/ui/admin/sites/{site}",
        data={"csrf_token": csrf, **_settings_form(opens_at="08:00", closes_at="18:30")},
        follow_redirects=False,
    )
    assert cleared.status_code == 303
    api = client.get(f"/api/v1/sites/{site}", headers=world.auth("admin")).json()
    assert api["response_policy"] == {"opens_at": "08:00", "closes_at": "18:30"}
    assert api["pathway_overrides"] is None and api["name"] == "Site A"
    audits = admin_changes(world, "site_admin_A")
    assert len(audits) == 2 and all(a.startswith(f"site:{site} ") for a in audits)


def test_site_settings_problems_are_shown_together_in_plain_words(client, world):
    signed_in(client, "admin")
    site = world.sites["A"]
    csrf = _csrf(client, f"/ui/admin/sites/{site}")
    refused = client.post(
        f"/ui/admin/sites/{site}",
        data={
            "csrf_token": csrf,
            **_settings_form(
                name="",
                opens_at="8am",
                red_within_minutes="5",
                amber_working_days="nine",
                holidays="tomorrow",
                t_pulse_low_red="low",
                overrides="{not json",
            ),
        },
    )
    assert refused.status_code == 422
    text = refused.text
    for message in (
        "Enter the site&#39;s name",
        "Enter a time as HH:MM, like 08:30.",
        "Enter a whole number of minutes from 15 to 480.",
        "Enter 1, 2 or 3 working days.",
        "Enter each closure as a date YYYY-MM-DD",
        "Enter a number, or leave it empty for the pathway&#39;s.",
        "This is not valid JSON",
    ):
        assert message in text, message
    assert "String should" not in text and "Input should" not in text
    assert 'value="8am"' in text  # what was typed is kept to correct
    unsafe = client.post(
        f"/ui/admin/sites/{site}",
        data={"csrf_token": csrf, **_settings_form(t_spo2_red_at_or_below="70")},
    )
    assert unsafe.status_code == 422 and 'id="f-t_spo2_red_at_or_below-error"' in unsafe.text
    handover = client.post(
        f"/ui/admin/sites/{site}",
        data={"csrf_token": csrf, **_settings_form(out_of_hours_handling="out_of_hours_webhook")},
    )
    assert handover.status_code == 422
    assert 'id="f-out_of_hours_webhook_id-error"' in handover.text
    api = client.get(f"/api/v1/sites/{site}", headers=world.auth("admin")).json()
    assert api["response_policy"] is None and api["pathway_overrides"] is None
    assert api["name"] == "Site A" and admin_changes(world, "admin") == []


def test_the_out_of_hours_webhook_is_chosen_from_the_sites_own(client, world):
    hook = uuid.uuid4()
    with world.app.state.sessions() as s:
        s.add(
            Webhook(
                id=hook,
                team_id=world.teams["A2"],
                url="https://ooh.example.nhs.uk/hook",
                secret="sealed",
                is_active=True,
                purpose="out_of_hours",
                created_at=T0,
            )
        )
        s.commit()
    signed_in(client, "admin")
    site = world.sites["A"]
    page = client.get(f"/ui/admin/sites/{site}").text
    assert f'value="{hook}"' in page
    assert f'value="{hook}"' not in client.get(f"/ui/admin/sites/{world.sites['B']}").text
    saved = client.post(
        f"/ui/admin/sites/{site}",
        data={
            "csrf_token": csrf_of(page),
            **_settings_form(
                out_of_hours_handling="out_of_hours_webhook", out_of_hours_webhook_id=str(hook)
            ),
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    api = client.get(f"/api/v1/sites/{site}", headers=world.auth("admin")).json()
    assert api["response_policy"] == {
        "out_of_hours_handling": "out_of_hours_webhook",
        "out_of_hours_webhook_id": str(hook),
    }
