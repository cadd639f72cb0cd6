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
from service.models import AuditEvent, Webhook
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
