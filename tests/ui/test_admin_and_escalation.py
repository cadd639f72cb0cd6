"""Issue 18 findings 9 and 13 on the pages: an admin deactivates a user from the users page, and
an escalated alert shows the nurse the team's escalation contact as a link to call."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from service.db import unit_of_work
from service.jobs import escalate_overdue
from service.models import AuditEvent, Team, User
from tests.support.factories import make_user
from tests.support.readings import raise_red_alert
from tests.support.signin import csrf_of, signed_in


def _set_contact(world, team: str, value: str | None) -> None:
    with world.app.state.sessions() as s:
        s.get(Team, world.teams[team]).escalation_contact = value
        s.commit()


def _escalate(world, clock) -> None:
    clock.advance(hours=6)
    with unit_of_work(world.app.state.sessions) as s:
        assert escalate_overdue(s, clock())["escalated"] >= 1


def test_an_escalated_alert_shows_the_contact_to_call_in_the_queue_and_record(client, world, clock):
    _set_contact(world, "A1", "01332 000000")
    raise_red_alert(client, world)
    signed_in(client, "clin_a1")
    assert "escalation__contact" not in client.get("/ui/queue").text  # not yet escalated
    _escalate(world, clock)
    signed_in(client, "clin_a1")
    queue = client.get("/ui/queue").text
    assert '<a class="escalation__contact" href="tel:+441332000000">01332 000000</a>' in queue
    record = client.get(f"/ui/patients/{world.patients['pat_A1']}").text
    assert 'href="tel:+441332000000"' in record


def test_an_https_contact_is_a_link_and_a_missing_one_says_so(client, world, clock):
    raise_red_alert(client, world)
    _escalate(world, clock)
    signed_in(client, "clin_a1")
    assert "No escalation contact is set for this team" in client.get("/ui/queue").text
    _set_contact(world, "A1", "https://oncall.example.nhs.uk/cardiology")
    page = client.get("/ui/queue").text
    assert 'href="https://oncall.example.nhs.uk/cardiology" rel="noopener noreferrer"' in page


def test_a_contact_stored_before_the_format_is_shown_as_text_never_as_a_link(client, world, clock):
    _set_contact(world, "A1", 'javascript:alert(1) "ring Sue"')
    raise_red_alert(client, world)
    _escalate(world, clock)
    signed_in(client, "clin_a1")
    page = client.get("/ui/queue").text
    assert 'href="javascript' not in page
    assert "javascript:alert(1) &#34;ring Sue&#34;" in page


def _site_admin(world) -> None:
    with world.app.state.sessions() as s:
        world.users["site_admin_A"] = make_user(
            s, "site_admin_a", "site_admin", [], site_id=world.sites["A"]
        )
        s.commit()


def test_a_site_admin_deactivates_a_clinician_from_the_users_page(
    app, client, world, clock
) -> None:
    _site_admin(world)
    # The clinician is signed in on another browser, and holds an API token.
    nurse = signed_in(TestClient(app), "clin_a1")
    token = world.auth("clin_A1")
    assert nurse.get("/ui/queue", follow_redirects=False).status_code == 200
    clock.advance(seconds=2)
    signed_in(client, "site_admin_a")
    page = client.get("/ui/admin/users")
    assert page.status_code == 200
    names = set(re.findall(r'id="user-[^"]+-name">([^<]+)<', page.text))
    assert names == {"clin_a1", "clin_a2", "site_admin_a"}  # not site B's, not the network's
    done = client.post(
        f"/ui/admin/users/{world.users['clin_A1']}/deactivate",
        data={"csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and "user_deactivated" in done.headers["location"]
    assert nurse.get("/ui/queue", follow_redirects=False).status_code == 303
    assert client.get("/api/v1/users/me", headers=token).status_code == 401
    with world.app.state.sessions() as s:
        assert not s.get(User, world.users["clin_A1"]).is_active
        audited = s.scalars(
            select(AuditEvent.detail).where(AuditEvent.actor_id == world.users["site_admin_A"])
        ).all()
    assert audited == [f"user:{world.users['clin_A1']} deactivated"]


def test_a_site_admin_cannot_deactivate_another_sites_user_from_the_page(client, world):
    _site_admin(world)
    signed_in(client, "site_admin_a")
    csrf = csrf_of(client.get("/ui/admin/users").text)
    done = client.post(
        f"/ui/admin/users/{world.users['clin_B1']}/deactivate",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert "user_not_deactivated" in done.headers["location"]
    without_token = client.post(
        f"/ui/admin/users/{world.users['clin_A2']}/deactivate", follow_redirects=False
    )
    assert without_token.status_code == 403
    with world.app.state.sessions() as s:
        assert all(u.is_active for u in s.scalars(select(User)))


def test_clinicians_cannot_open_the_users_page(client, world):
    signed_in(client, "clin_a1")
    assert client.get("/ui/admin/users").status_code == 403
