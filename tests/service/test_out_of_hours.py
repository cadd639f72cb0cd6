"""Red alerts raised out of hours, through the real ingest path on a frozen clock, on SQLite and
PostgreSQL: the site's setting (validated, field named), what each alert records, the signed
handover to the site's out-of-hours webhook, and what clinicians see."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from service.models import Site, Webhook
from tests.support.jobs import deliver
from tests.support.readings import spo2_arriving_at
from tests.support.signin import signed_in
from tests.support.webhooks import WEBHOOK_SECRET, Receiver, guarded

FRIDAY_1900 = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)  # GMT: London time too
FRIDAY_1000 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
MONDAY_1200 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings(settings):
    # The receivers here listen on this machine: an operator's explicit trust, over http.
    return settings.model_copy(
        update={"webhook_allow_http": True, "webhook_allowed_hosts": ["127.0.0.1/32"]}
    )


def queue(client, world, who: str = "clin_A1") -> list[dict[str, Any]]:
    response = client.get("/api/v1/alerts", headers=world.auth(who))
    assert response.status_code == 200, response.text
    return response.json()["items"]


def register(client, world, url: str, purpose: str = "team", team: str = "A1") -> str:
    response = client.post(
        f"/api/v1/teams/{world.teams[team]}/webhooks",
        json={"url": url, "secret": WEBHOOK_SECRET, "purpose": purpose},
        headers=world.auth("admin"),
    )
    assert response.status_code == 201, response.text
    assert response.json()["purpose"] == purpose
    return str(response.json()["id"])


def set_site(client, world, site: str = "A", **policy: object):
    return client.patch(
        f"/api/v1/sites/{world.sites[site]}",
        json={"response_policy": policy},
        headers=world.auth("admin"),
    )


def test_by_default_a_red_alert_at_night_waits_for_the_team_as_before(client, world):
    spo2_arriving_at(client, world, 91, FRIDAY_1900)
    (alert,) = queue(client, world)
    assert alert["out_of_hours_handling"] == "queue_for_next_working_day"
    assert alert["due_at"].startswith("2026-11-30T12:00")  # the calendar's due time, unchanged
    detail = client.get(f"/api/v1/alerts/{alert['id']}", headers=world.auth("clin_A1")).json()
    assert detail["out_of_hours_handling"] == "queue_for_next_working_day"
    assert detail["out_of_hours_handover"] is None


def test_a_red_alert_in_hours_has_no_out_of_hours_handling(client, world):
    hook = register(client, world, "https://ooh.example/hook", purpose="out_of_hours")
    response = set_site(
        client, world, out_of_hours_handling="out_of_hours_webhook", out_of_hours_webhook_id=hook
    )
    assert response.status_code == 200, response.text
    spo2_arriving_at(client, world, 91, FRIDAY_1000)
    (alert,) = queue(client, world)
    assert alert["out_of_hours_handling"] is None


def test_the_setting_is_validated_and_the_field_named(client, world):
    team_hook = register(client, world, "https://team.example/hook")
    other_site = register(client, world, "https://ooh-b.example/hook", "out_of_hours", team="B1")
    cases = [
        ({"out_of_hours_handling": "page_the_on_call_doctor"}, "out_of_hours_handling"),
        ({"out_of_hours_handling": "out_of_hours_webhook"}, "out_of_hours_webhook_id"),
        (
            {"out_of_hours_handling": "urgent_community_response", "out_of_hours_webhook_id": "x"},
            "out_of_hours_webhook_id",
        ),
        (
            {
                "out_of_hours_handling": "out_of_hours_webhook",
                "out_of_hours_webhook_id": str(uuid.uuid4()),
            },
            "out_of_hours_webhook_id",
        ),
        (  # a team's own webhook gets every event: it is not an out-of-hours service
            {"out_of_hours_handling": "out_of_hours_webhook", "out_of_hours_webhook_id": team_hook},
            "out_of_hours_webhook_id",
        ),
        (  # another site's service
            {
                "out_of_hours_handling": "urgent_community_response",
                "out_of_hours_webhook_id": other_site,
            },
            "out_of_hours_webhook_id",
        ),
    ]
    for policy, field in cases:
        response = set_site(client, world, **policy)
        assert response.status_code == 422, (policy, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        fields = [e["field"] for e in response.json()["errors"]]
        assert fields == [f"response_policy.{field}"], (policy, fields)
    site = client.get("/api/v1/sites", headers=world.auth("admin")).json()
    assert all(not s["response_policy"] for s in site)  # nothing refused was stored
    ok = set_site(client, world, out_of_hours_handling="queue_for_next_working_day")
    assert ok.status_code == 200 and ok.json()["response_policy"] == {
        "out_of_hours_handling": "queue_for_next_working_day"
    }


def test_a_red_alert_at_night_goes_signed_to_the_out_of_hours_webhook(client, world, app, clock):
    with (
        Receiver(WEBHOOK_SECRET, fail_first=0) as team,
        Receiver(WEBHOOK_SECRET, fail_first=1) as ooh,
        guarded(app) as http,
    ):
        team.clock = ooh.clock = clock
        register(client, world, team.url)
        hook = register(client, world, ooh.url, purpose="out_of_hours")
        response = set_site(
            client,
            world,
            out_of_hours_handling="out_of_hours_webhook",
            out_of_hours_webhook_id=hook,
            out_of_hours_contact="the Derby out-of-hours GP service",
        )
        assert response.status_code == 200, response.text
        spo2_arriving_at(client, world, 91, FRIDAY_1000)  # in hours: the team only
        spo2_arriving_at(
            client, world, 91, FRIDAY_1900, who="pat_A2"
        )  # night, the site's other team
        answer = spo2_arriving_at(
            client, world, 93, FRIDAY_1900 + timedelta(minutes=5), who="pat_B1"
        )
        assert answer["advice"]["code"] != "red_same_day"  # site B keeps the default anyway
        for _ in range(3):
            deliver(app, clock, http)
            clock.advance(minutes=30)
        assert ooh.bad_signatures == 0 and team.bad_signatures == 0
        (handed,) = ooh.accepted
        assert handed["type"] == "alert.raised"
        assert handed["data"]["severity"] == "red"
        assert handed["data"]["out_of_hours_handling"] == "out_of_hours_webhook"
        assert handed["data"]["team_id"] == str(world.teams["A2"])
        assert "nhs" not in str(handed).lower()  # ids and alert facts only
        # The team's own webhook (team A1) saw only its team's alert, with no handling.
        (own,) = team.accepted
        assert own["data"]["team_id"] == str(world.teams["A1"])
        assert "out_of_hours_handling" not in own["data"]
    (night,) = queue(client, world, "clin_A2")
    assert night["out_of_hours_handling"] == "out_of_hours_webhook"
    assert night["due_at"].startswith("2026-11-30T12:00")  # still the team's, by the calendar
    detail = client.get(f"/api/v1/alerts/{night['id']}", headers=world.auth("clin_A2")).json()
    handover = detail["out_of_hours_handover"]
    assert handover["status"] == "delivered" and handover["attempts"] == 2
    assert handover["webhook_id"] == hook and handover["event_type"] == "alert.raised"
    (day,) = queue(client, world, "clin_A1")
    assert day["out_of_hours_handling"] is None
    page = signed_in(client, "clin_a2").get("/ui/queue")
    assert "sent to the out-of-hours service" in page.text


def test_turning_red_at_night_is_handed_over_to_urgent_community_response(
    client, world, app, clock
):
    with Receiver(WEBHOOK_SECRET, fail_first=0) as ucr, guarded(app) as http:
        ucr.clock = clock
        hook = register(client, world, ucr.url, purpose="out_of_hours")
        set_site(
            client,
            world,
            out_of_hours_handling="urgent_community_response",
            out_of_hours_webhook_id=hook,
        )
        # Two borderline readings make an amber alert (never handed over), then a red one.
        spo2_arriving_at(client, world, 93, FRIDAY_1900)
        spo2_arriving_at(client, world, 93, FRIDAY_1900 + timedelta(minutes=10))
        (amber,) = queue(client, world)
        assert amber["severity"] == "amber" and amber["out_of_hours_handling"] is None
        spo2_arriving_at(client, world, 91, FRIDAY_1900 + timedelta(minutes=20))
        deliver(app, clock, http)
        (event,) = ucr.accepted
        assert event["type"] == "alert.severity_raised"
        assert event["data"]["out_of_hours_handling"] == "urgent_community_response"
    (red,) = queue(client, world)
    assert red["severity"] == "red"
    assert red["out_of_hours_handling"] == "urgent_community_response"


def test_the_named_webhook_cannot_be_stopped_while_the_site_hands_over_to_it(client, world):
    hook = register(client, world, "https://ooh.example/hook", purpose="out_of_hours")
    set_site(
        client, world, out_of_hours_handling="out_of_hours_webhook", out_of_hours_webhook_id=hook
    )
    url = f"/api/v1/teams/{world.teams['A1']}/webhooks/{hook}"
    refused = client.delete(url, headers=world.auth("admin"))
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    set_site(client, world, out_of_hours_handling="queue_for_next_working_day")
    assert client.delete(url, headers=world.auth("admin")).status_code == 204


def test_a_handover_whose_webhook_went_away_is_recorded_and_waits_for_the_team(client, world, app):
    hook = register(client, world, "https://ooh.example/hook", purpose="out_of_hours")
    set_site(
        client, world, out_of_hours_handling="out_of_hours_webhook", out_of_hours_webhook_id=hook
    )
    with app.state.sessions() as s:  # stopped outside the API (e.g. by an operator)
        s.execute(update(Webhook).where(Webhook.id == uuid.UUID(hook)).values(is_active=False))
        s.commit()
    spo2_arriving_at(client, world, 91, FRIDAY_1900)
    (alert,) = queue(client, world)
    assert alert["out_of_hours_handling"] == "handover_unavailable"
    detail = client.get(f"/api/v1/alerts/{alert['id']}", headers=world.auth("clin_A1")).json()
    assert detail["out_of_hours_handover"] is None
    deliveries = client.get(
        f"/api/v1/teams/{world.teams['A1']}/webhook-deliveries", headers=world.auth("admin")
    ).json()
    assert deliveries == []
    with app.state.sessions() as s:
        assert s.scalar(select(Webhook.is_active).where(Webhook.id == uuid.UUID(hook))) is False


def test_the_team_report_counts_the_months_out_of_hours_red_alerts(client, world):
    hook = register(client, world, "https://ooh.example/hook", purpose="out_of_hours")
    set_site(
        client, world, out_of_hours_handling="out_of_hours_webhook", out_of_hours_webhook_id=hook
    )
    spo2_arriving_at(client, world, 91, FRIDAY_1900)
    spo2_arriving_at(client, world, 91, FRIDAY_1000, who="pat_A2")
    world.clock.now = MONDAY_1200
    report = client.get(
        f"/api/v1/reports/teams/{world.teams['A1']}?month=2026-11&trend=1",
        headers=world.auth("clin_A1"),
    ).json()
    figures = {m["id"]: m["team"]["value"] for m in report["metrics"]}
    assert figures["red_alerts_out_of_hours"] == 1
    assert figures["red_alerts_out_of_hours_to_ooh_service"] == 1
    assert figures["red_alerts_out_of_hours_handover_delivered"] == 0  # not sent yet


def test_a_stored_setting_the_api_would_refuse_never_fails_the_ingest(client, world, app):
    with app.state.sessions() as s:
        s.execute(
            update(Site)
            .where(Site.id == world.sites["A"])
            .values(response_policy={"out_of_hours_handling": "handover_unavailable"})
        )
        s.commit()
    spo2_arriving_at(client, world, 91, FRIDAY_1900)
    (alert,) = queue(client, world)
    assert alert["out_of_hours_handling"] == "queue_for_next_working_day"
