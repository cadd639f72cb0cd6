"""The webhook admin as use cases (``service.alerting.webhooks``): what a page or command that
manages webhooks calls gets what the API gives, and the use cases refuse on their own what the
routes' role guards refuse, so no caller can allow more than the API does."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from service.alerting import webhooks
from service.alerting.schemas import WebhookIn
from service.deps import Principal
from service.models import AuditEvent, Team, Webhook
from service.problems import Forbidden, NotFound
from tests.support.webhooks import WEBHOOK_SECRET as SECRET

URL = "https://hooks.example/mhf"


def admin(world) -> Principal:
    return Principal(role="admin", user_id=world.users["admin"])


def clinician(world, team: str = "A1") -> Principal:
    return Principal(
        role="clinician",
        user_id=world.users[f"clin_{team}"],
        team_ids=frozenset({world.teams[team]}),
    )


def test_a_registered_webhook_reads_back_as_the_api_lists_it(client, world, app, settings, dns):
    team = world.teams["A1"]
    with app.state.sessions() as s:
        made = webhooks.register(
            s,
            admin(world),
            "CLI register",
            world.clock(),
            team,
            WebhookIn(url=URL, secret=SECRET),
            settings,
        )
        s.commit()
    assert made.url == URL and made.is_active and made.pending == 0
    listed = client.get(f"/api/v1/teams/{team}/webhooks", headers=world.auth("clin_A1"))
    assert listed.json() == [made.model_dump(mode="json")]
    with app.state.sessions() as s:
        stored = s.scalars(select(Webhook.secret)).one()
        assert SECRET not in stored
        audit = s.scalars(select(AuditEvent).where(AuditEvent.route == "CLI register")).one()
    assert audit.action == "C" and audit.detail == f"webhook:{made.id} team={team}"


def test_only_admins_register_even_when_the_use_case_is_called_directly(world, app, settings):
    body = WebhookIn(url=URL, secret=SECRET)
    with app.state.sessions() as s, pytest.raises(Forbidden):
        webhooks.register(
            s, clinician(world), "-", world.clock(), world.teams["A1"], body, settings
        )


@pytest.mark.parametrize("use", ["list", "deactivate", "deliveries"])
def test_team_reads_and_stops_are_for_the_teams_staff(world, app, use):
    team = world.teams["A1"]
    patient = Principal(role="patient", patient_id=world.patients["pat_A1"])
    calls = {
        "list": lambda s, who: webhooks.team_webhooks(s, who, team),
        "deactivate": lambda s, who: webhooks.deactivate(
            s, who, "-", world.clock(), team, uuid.uuid4()
        ),
        "deliveries": lambda s, who: webhooks.deliveries(s, who, team, status=None, limit=10),
    }
    with app.state.sessions() as s:
        with pytest.raises(Forbidden):
            calls[use](s, patient)
        # Another team's clinician: as if the team did not exist.
        with pytest.raises(NotFound, match="No such team"):
            calls[use](s, clinician(world, "B1"))


def test_stopping_a_stopped_webhook_records_nothing_more(world, app, settings, dns):
    team = world.teams["A1"]
    with app.state.sessions() as s:
        hook = webhooks.register(
            s, admin(world), "-", world.clock(), team, WebhookIn(url=URL, secret=SECRET), settings
        )
        for _ in range(2):
            webhooks.deactivate(s, clinician(world), "page stop", world.clock(), team, hook.id)
        stops = s.scalars(select(AuditEvent).where(AuditEvent.route == "page stop")).all()
        assert [e.detail for e in stops] == [f"webhook:{hook.id} off"]
        assert webhooks.team_webhooks(s, clinician(world), team)[0].is_active is False
        with pytest.raises(NotFound, match="No such webhook"):
            webhooks.deactivate(s, clinician(world), "-", world.clock(), team, uuid.uuid4())


def test_an_unsafe_address_and_a_bad_secret_are_refused_together(client, world, dns):
    """One answer names both, so a form (or an API client) corrects them in one go; the
    detail stays the address's, as it was when only the first problem was reported."""
    answer = client.post(
        f"/api/v1/teams/{world.teams['A1']}/webhooks",
        json={"url": "http://hooks.example/mhf", "secret": "whsec_" + "!" * 20},
        headers=world.auth("admin"),
    )
    assert answer.status_code == 422
    problem = answer.json()
    assert [e["field"] for e in problem["errors"]] == ["url", "secret"]
    assert problem["detail"] == "A webhook URL must use https."


def test_the_sites_out_of_hours_webhook_is_named_to_the_teams_staff(client, world, app):
    with app.state.sessions() as s:
        hook = Webhook(
            id=uuid.uuid4(),
            team_id=world.teams["A1"],
            url=URL,
            secret="sealed",
            is_active=True,
            purpose="out_of_hours",
            created_at=world.clock(),
        )
        s.add(hook)
        s.commit()
        assert webhooks.out_of_hours_webhook(s, admin(world), world.teams["A1"]) is None
    policy = {
        "out_of_hours_handling": "out_of_hours_webhook",
        "out_of_hours_webhook_id": str(hook.id),
    }
    patched = client.patch(
        f"/api/v1/sites/{world.sites['A']}",
        json={"response_policy": policy},
        headers=world.auth("admin"),
    )
    assert patched.status_code == 200, patched.text
    with app.state.sessions() as s:
        assert webhooks.out_of_hours_webhook(s, admin(world), world.teams["A1"]) == hook.id
        assert webhooks.out_of_hours_webhook(s, clinician(world), world.teams["A1"]) == hook.id
        with pytest.raises(NotFound):
            webhooks.out_of_hours_webhook(s, clinician(world, "B1"), world.teams["A1"])


def test_counts_by_team_counts_in_sql_and_only_the_teams_the_caller_reaches(
    world, app, settings, dns
):
    now = world.clock()
    with app.state.sessions() as s:
        for team, url in (("A1", URL), ("A1", URL + "/2"), ("B1", URL)):
            body = WebhookIn(url=url, secret=SECRET)
            webhooks.register(s, admin(world), "test", now, world.teams[team], body, settings)
        s.commit()
        first = s.scalars(select(Webhook).where(Webhook.url == URL + "/2")).one()
        webhooks.deactivate(s, admin(world), "test", now, world.teams["A1"], first.id)
        s.commit()
        teams = s.scalars(select(Team)).all()
        everyone = webhooks.counts_by_team(s, admin(world), teams)
        site_a = Principal(role="site_admin", user_id=uuid.uuid4(), site_id=world.sites["A"])
        theirs = webhooks.counts_by_team(s, site_a, teams)
        nurse = webhooks.counts_by_team(s, clinician(world, "B1"), teams)
    a1, a2, b1 = (world.teams[t] for t in ("A1", "A2", "B1"))
    assert everyone[a1] == webhooks.TeamWebhookCounts(active=1, stopped=1)
    assert everyone[a2] == webhooks.TeamWebhookCounts()
    assert everyone[b1] == webhooks.TeamWebhookCounts(active=1)
    assert set(theirs) == {a1, a2}
    assert set(nurse) == {b1}
