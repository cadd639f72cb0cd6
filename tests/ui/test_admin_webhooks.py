"""The webhook pages for administrators (issue 19, section 6): every team's webhooks, a team's
own (register, stop) and its deliveries, through the alerting room's use cases with the API's
egress guard, scoping and audit. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from service.models import OutboxEvent, Webhook, WebhookDelivery
from service.ui.views import london
from tests.support.admin import admin_changes, refused_without_the_session_token
from tests.support.clock import T0
from tests.support.signin import csrf_of, signed_in
from tests.support.webhooks import PUBLIC
from tests.support.webhooks import WEBHOOK_SECRET as SECRET
from tests.support.world import read

# Every test resolves names through the egress tests' fake resolver, never the network.
pytestmark = pytest.mark.usefixtures("dns")

HOOK_URL = "https://hooks.example/mhf"


def _hooks_page(world, team: str = "A1") -> str:
    return f"/ui/admin/teams/{world.teams[team]}/webhooks"


def _add_hook(world, team: str = "A1", purpose: str = "team", url: str = HOOK_URL) -> uuid.UUID:
    hook = uuid.uuid4()
    with world.app.state.sessions() as s:
        s.add(
            Webhook(
                id=hook,
                team_id=world.teams[team],
                url=url,
                secret="sealed",
                is_active=True,
                purpose=purpose,
                created_at=T0,
            )
        )
        s.commit()
    return hook


def _stored(world) -> list[Webhook]:
    return read(world, lambda s: list(s.scalars(select(Webhook)).all()))


def _register(client, world, team: str = "A1", **form: str):
    page = client.get(_hooks_page(world, team))
    data = {"csrf_token": csrf_of(page.text), "purpose": "team", **form}
    return client.post(_hooks_page(world, team), data=data, follow_redirects=False)


# --- where they are linked from ------------------------------------------------------------------


def test_the_webhook_pages_are_linked_from_admin_home_site_and_team(client, world):
    signed_in(client, "admin")
    team = world.teams["A1"]
    assert 'href="/ui/admin/webhooks"' in client.get("/ui/admin").text
    site = client.get(f"/ui/admin/sites/{world.sites['A']}").text
    assert f'href="/ui/admin/teams/{team}/webhooks"' in site
    assert f'href="/ui/admin/teams/{team}/webhooks"' in client.get(f"/ui/admin/teams/{team}").text
    home = client.get("/ui/admin/webhooks")
    assert home.status_code == 200
    assert "Site A" in home.text and "Site B" in home.text
    assert f'href="/ui/admin/teams/{world.teams["B1"]}/webhooks"' in home.text


def test_the_overview_counts_each_teams_webhooks(client, world):
    _add_hook(world, "A1")
    stopped = _add_hook(world, "A1", url="https://old.example/mhf")
    with world.app.state.sessions() as s:
        s.get_one(Webhook, stopped).is_active = False
        s.commit()
    signed_in(client, "admin")
    page = client.get("/ui/admin/webhooks").text
    row = page.split(f'href="/ui/admin/teams/{world.teams["A1"]}/webhooks">Team A1</a>')[1]
    cells = re.findall(r"<td>(\d+)</td>", row.split("</tr>")[0])
    assert cells == ["1", "1", "0", "0"]  # active, stopped, waiting, given up


# --- register --------------------------------------------------------------------------------------


def test_an_admin_registers_a_webhook_and_the_secret_is_never_shown(client, world):
    signed_in(client, "admin")
    answer = _register(client, world, url=HOOK_URL, secret=SECRET, purpose="out_of_hours")
    assert answer.status_code == 303, answer.text
    assert "msg=webhook_registered" in answer.headers["location"]
    listed = client.get(answer.headers["location"]).text
    assert "Webhook registered" in listed and HOOK_URL in listed and "Out of hours" in listed
    assert SECRET not in listed
    (hook,) = _stored(world)
    assert hook.team_id == world.teams["A1"] and hook.is_active and hook.purpose == "out_of_hours"
    assert SECRET not in hook.secret
    assert admin_changes(world, "admin") == [f"webhook:{hook.id} team={world.teams['A1']}"]
    api = client.get(
        f"/api/v1/teams/{world.teams['A1']}/webhooks", headers=world.auth("admin")
    ).json()
    assert [h["id"] for h in api] == [str(hook.id)]


def test_every_problem_with_a_new_webhook_is_shown_at_once(client, world):
    signed_in(client, "admin")
    answer = _register(client, world, url="not an address", secret="short", purpose="pager")
    assert answer.status_code == 422
    for field in ("url", "secret", "purpose"):
        assert f'id="f-{field}-error"' in answer.text, field
    assert "The webhook was not registered" in answer.text
    assert "Enter the full https:// address" in answer.text
    assert "16 to 200 characters" in answer.text
    assert "String should" not in answer.text and 'value="short"' not in answer.text
    assert _stored(world) == [] and admin_changes(world, "admin") == []
    # An address the model takes but the egress guard refuses, beside a secret it refuses.
    both = _register(client, world, url="https://10.1.2.3/hook", secret="short")
    assert both.status_code == 422
    assert 'id="f-url-error"' in both.text and 'id="f-secret-error"' in both.text
    assert "A webhook may not be sent to an internal address." in both.text
    assert _stored(world) == []


def test_the_egress_guard_and_a_bad_secret_are_explained_together(client, world):
    signed_in(client, "admin")
    secret = "whsec_" + "!" * 20
    answer = _register(client, world, url="http://hooks.example/mhf", secret=secret)
    assert answer.status_code == 422
    assert "A webhook URL must use https." in answer.text
    assert "A whsec_ secret must be base64" in answer.text
    assert 'value="http://hooks.example/mhf"' in answer.text  # kept to correct
    assert secret not in answer.text


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://10.1.2.3/hook", "A webhook may not be sent to an internal address."),
        ("https://localhost/hook", "A webhook may not be sent to this host."),
        ("https://inside.example/hook", "A webhook may not be sent to an internal address."),
        ("https://user:pw@hooks.example/hook", "must not carry a user name or password"),
    ],
)
def test_internal_destinations_are_refused_in_plain_words(client, world, request, url, message):
    request.getfixturevalue("dns")["inside.example"] = [PUBLIC, "192.168.1.9"]
    signed_in(client, "admin")
    answer = _register(client, world, url=url, secret=SECRET)
    assert answer.status_code == 422
    assert message in answer.text and 'id="f-url-error"' in answer.text
    assert _stored(world) == []


# --- stop ----------------------------------------------------------------------------------------


def test_an_admin_stops_a_webhook_and_its_history_stays(client, world):
    hook = _add_hook(world)
    signed_in(client, "admin")
    page = client.get(_hooks_page(world))
    assert f'action="{_hooks_page(world)}/{hook}/stop"' in page.text
    stopped = client.post(
        f"{_hooks_page(world)}/{hook}/stop",
        data={"csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert stopped.status_code == 303 and "msg=webhook_stopped" in stopped.headers["location"]
    listed = client.get(stopped.headers["location"]).text
    assert "Webhook stopped" in listed and "Stopped" in listed
    assert f"{hook}/stop" not in listed
    assert [h.is_active for h in _stored(world)] == [False]
    assert admin_changes(world, "admin") == [f"webhook:{hook} off"]


def test_the_sites_out_of_hours_webhook_cannot_be_stopped_and_the_page_says_why(client, world):
    hook = _add_hook(world, purpose="out_of_hours")
    signed_in(client, "admin")
    site = world.sites["A"]
    patched = client.patch(
        f"/api/v1/sites/{site}",
        json={
            "response_policy": {
                "out_of_hours_handling": "out_of_hours_webhook",
                "out_of_hours_webhook_id": str(hook),
            }
        },
        headers=world.auth("admin"),
    )
    assert patched.status_code == 200, patched.text
    before = admin_changes(world, "admin")
    page = client.get(_hooks_page(world))
    assert "The site sends red alerts raised out of hours here." in page.text
    refused = client.post(
        f"{_hooks_page(world)}/{hook}/stop", data={"csrf_token": csrf_of(page.text)}
    )
    assert refused.status_code == 409
    assert "The webhook was not stopped" in refused.text
    assert "Choose other out-of-hours handling" in refused.text
    assert f'href="/ui/admin/sites/{site}#out-of-hours"' in refused.text
    assert [h.is_active for h in _stored(world)] == [True]
    assert admin_changes(world, "admin") == before


def test_stopping_another_teams_webhook_is_not_found(client, world):
    other = _add_hook(world, "A2")
    signed_in(client, "admin")
    page = client.get(_hooks_page(world))
    answer = client.post(
        f"{_hooks_page(world)}/{other}/stop", data={"csrf_token": csrf_of(page.text)}
    )
    assert answer.status_code == 404 and "Webhook not found" in answer.text
    assert [h.is_active for h in _stored(world)] == [True]


# --- deliveries ----------------------------------------------------------------------------------


def _deliveries(world, hook: uuid.UUID) -> None:
    with world.app.state.sessions() as s:
        for n, (status, error) in enumerate(
            [
                ("delivered", None),
                ("pending", "HTTP 503 from the receiver"),
                ("failed", "timed out"),
            ]
        ):
            event = OutboxEvent(
                id=uuid.uuid4(),
                team_id=world.teams["A1"],
                event_type=f"alert.kind{n}",
                body="{}",
                created_at=T0 + timedelta(minutes=n),
            )
            s.add(event)
            s.flush()
            s.add(
                WebhookDelivery(
                    id=uuid.uuid4(),
                    event_id=event.id,
                    webhook_id=hook,
                    status=status,
                    attempts=n + 1,
                    next_attempt_at=T0 + timedelta(hours=2, minutes=n),
                    last_attempt_at=T0 + timedelta(minutes=n),
                    last_status_code=503 if status == "pending" else None,
                    last_error=error,
                    delivered_at=T0 if status == "delivered" else None,
                )
            )
        s.commit()


def test_deliveries_show_status_attempts_last_error_and_next_attempt(client, world):
    hook = _add_hook(world)
    _deliveries(world, hook)
    signed_in(client, "admin")
    page = client.get(f"{_hooks_page(world)}/deliveries")
    assert page.status_code == 200
    text = page.text
    # Newest event first.
    assert text.index("alert.kind2") < text.index("alert.kind1") < text.index("alert.kind0")
    assert "HTTP 503 from the receiver" in text and "(HTTP 503)" in text and "timed out" in text
    assert "Given up" in text and "Delivered" in text and "Waiting to be sent or retried" in text
    assert HOOK_URL in text
    failed = client.get(f"{_hooks_page(world)}/deliveries?status=failed").text
    assert "alert.kind2" in failed and "alert.kind0" not in failed and "alert.kind1" not in failed
    anything = client.get(f"{_hooks_page(world)}/deliveries?status=bogus")
    assert anything.status_code == 200 and "alert.kind0" in anything.text
    assert "<td>3</td>" in text  # the failed one's attempts
    linked = client.get(_hooks_page(world)).text
    assert f'href="{_hooks_page(world)}/deliveries"' in linked
    assert "1 delivered, 1 waiting, 1 given up" in linked


def test_the_next_attempt_is_shown_only_while_waiting(client, world):
    hook = _add_hook(world)
    _deliveries(world, hook)
    signed_in(client, "admin")
    pending = client.get(f"{_hooks_page(world)}/deliveries?status=pending").text
    delivered = client.get(f"{_hooks_page(world)}/deliveries?status=delivered").text
    assert london(T0 + timedelta(hours=2, minutes=1)) in pending
    assert london(T0 + timedelta(hours=2)) not in delivered


# --- who may ---------------------------------------------------------------------------------------


@pytest.mark.usefixtures("site_admin")
def test_a_site_admin_reaches_only_their_sites_teams(client, world):
    hook_b = _add_hook(world, "B1")
    signed_in(client, "site_admin_a")
    home = client.get("/ui/admin/webhooks").text
    assert "Team A1" in home and "Team B1" not in home and "Site B" not in home
    assert client.get(_hooks_page(world)).status_code == 200
    csrf = csrf_of(client.get(_hooks_page(world)).text)
    b1 = _hooks_page(world, "B1")
    for path in (b1, f"{b1}/deliveries", f"/ui/admin/teams/{uuid.uuid4()}/webhooks"):
        page = client.get(path)
        assert page.status_code == 404, path
        assert "Team not found" in page.text
    registered = client.post(b1, data={"csrf_token": csrf, "url": HOOK_URL, "secret": SECRET})
    assert registered.status_code == 404
    stopped = client.post(f"{b1}/{hook_b}/stop", data={"csrf_token": csrf})
    assert stopped.status_code == 404
    assert [h.team_id for h in _stored(world)] == [world.teams["B1"]]
    assert all(h.is_active for h in _stored(world))
    assert admin_changes(world, "site_admin_A") == []
    answer = _register(client, world, url=HOOK_URL, secret=SECRET)
    assert answer.status_code == 303
    assert len(admin_changes(world, "site_admin_A")) == 1


def test_clinicians_may_not_open_the_webhook_pages(client, world):
    hook = _add_hook(world)
    signed_in(client, "clin_a1")
    csrf = csrf_of(client.get("/ui/account").text)
    for path in ("/ui/admin/webhooks", _hooks_page(world), f"{_hooks_page(world)}/deliveries"):
        page = client.get(path)
        assert page.status_code == 403, path
        assert "You do not have access to this page" in page.text
    for path in (_hooks_page(world), f"{_hooks_page(world)}/{hook}/stop"):
        answer = client.post(path, data={"csrf_token": csrf, "url": HOOK_URL, "secret": SECRET})
        assert answer.status_code == 403, path
    assert [(h.is_active, h.url) for h in _stored(world)] == [(True, HOOK_URL)]


def test_every_webhook_form_needs_the_session_token(client, world):
    hook = _add_hook(world)
    signed_in(client, "admin")
    posts = {
        _hooks_page(world): {"url": "https://other.example/x", "secret": SECRET},
        f"{_hooks_page(world)}/{hook}/stop": {},
    }
    refused_without_the_session_token(client, posts)
    assert [(h.is_active, h.url) for h in _stored(world)] == [(True, HOOK_URL)]
    assert admin_changes(world, "admin") == []
