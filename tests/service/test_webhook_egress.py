"""Issue 18 findings 1, 4 and 5: webhooks cannot reach inside, stop when stopped, and their URLs
stay out of the logs."""

from __future__ import annotations

import ipaddress
import logging
import random
import uuid

import httpx
import pytest
from sqlalchemy import select

from alerts.notify import FakeNotifier, HttpxWebhookSender
from service import jobs
from service.alerting import egress
from service.alerting.egress import EgressPolicy, PinnedTransport, UnsafeDestination, check_url
from service.alerting.secrets import SecretBox
from service.logs import install_url_redaction
from service.models import Webhook, WebhookDelivery
from service.settings import Settings
from tests.support.jobs import run_job
from tests.support.readings import red_alert
from tests.support.webhooks import PUBLIC, WEBHOOK_SECRET


def register(client, world, url: str, who: str = "admin") -> httpx.Response:
    return client.post(
        f"/api/v1/teams/{world.teams['A1']}/webhooks",
        json={"url": url, "secret": WEBHOOK_SECRET},
        headers=world.auth(who),
    )


# Every spelling the penetration test used, and the addresses around them.
INTERNAL = [
    "https://127.0.0.1:5432/",
    "https://[::1]:8080/",
    "https://2130706433/",
    "https://0x7f.1/",
    "https://017700000001/",
    "https://localhost/",
    "https://api.localhost/",
    "https://169.254.169.254/latest/meta-data/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:a9fe:a9fe]/",
    "https://[2002:7f00:1::]/",
    "https://10.1.2.3/",
    "https://192.168.0.10/",
    "https://172.16.5.5/",
    "https://100.64.0.1/",
    "https://224.0.0.1/",
    "https://0.0.0.0/",
    "https://240.0.0.1/",
    "https://[fe80::1]/",
    "https://[fc00::1]/",
]


@pytest.mark.parametrize("url", INTERNAL)
def test_registration_refuses_internal_destinations(client, world, dns, url):
    answer = register(client, world, url)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "url"
    with world.app.state.sessions() as s:
        assert s.scalars(select(Webhook)).all() == []


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://hooks.example/mhf", "https"),
        ("https://user:pass@hooks.example/mhf", "password"),
        ("https://hooks.example@127.0.0.1/", "password"),
    ],
)
def test_registration_refuses_http_and_credentials(client, world, dns, url, why):
    answer = register(client, world, url)
    assert answer.status_code == 422, answer.text
    assert why in answer.json()["detail"]


def test_a_name_that_resolves_inside_is_refused(client, world, dns):
    dns["rebind.example"] = [PUBLIC, "10.0.0.7"]
    assert register(client, world, "https://rebind.example/hook").status_code == 422


def test_only_admins_register_webhooks(client, world, dns):
    assert register(client, world, "https://hooks.example/mhf", who="clin_A1").status_code == 403
    assert register(client, world, "https://hooks.example/mhf").status_code == 201


def test_the_secret_is_encrypted_at_rest(client, world, dns, settings):
    assert register(client, world, "https://hooks.example/mhf").status_code == 201
    with world.app.state.sessions() as s:
        stored = s.scalars(select(Webhook.secret)).one()
    assert WEBHOOK_SECRET not in stored
    assert SecretBox.from_settings(settings).open(stored) == WEBHOOK_SECRET
    other = settings.model_copy(update={"secret_key": "another-secret-" + "y" * 40})
    with pytest.raises(ValueError):
        SecretBox.from_settings(other).open(stored)


class Recorder:
    """The transport under the guard: what would have gone on the wire."""

    def __init__(self, status: int = 204, body: str = "") -> None:
        self.requests: list[httpx.Request] = []
        self.status = status
        self.body = body

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, text=self.body)


def deliver_with(app, clock, recorder: Recorder, notifier=None):
    policy = EgressPolicy.from_settings(app.state.settings)
    box = SecretBox.from_settings(app.state.settings)
    transport = PinnedTransport(policy, httpx.MockTransport(recorder))
    with httpx.Client(transport=transport, follow_redirects=False) as http:
        sender = notifier or HttpxWebhookSender(http)
        return run_job(
            app,
            clock,
            "deliver_webhooks",
            lambda s, now: jobs.deliver_webhooks(s, now, sender, box, random.Random(7)),
        )


def deliveries(client, world):
    return client.get(
        f"/api/v1/teams/{world.teams['A1']}/webhook-deliveries", headers=world.auth("clin_A1")
    ).json()


def test_send_connects_to_the_checked_address_under_the_original_name(
    client, world, app, clock, dns
):
    assert register(client, world, "https://hooks.example/mhf?team=a1").status_code == 201
    red_alert(client, world, clock)
    recorder = Recorder()
    assert deliver_with(app, clock, recorder)["delivered"] == 1
    [request] = recorder.requests
    assert request.url.host == PUBLIC
    assert request.url.path == "/mhf" and request.url.query == b"team=a1"
    assert request.headers["host"] == "hooks.example"
    assert request.extensions["sni_hostname"] == "hooks.example"


def test_dns_rebinding_after_registration_is_refused_at_send_time(client, world, app, clock, dns):
    assert register(client, world, "https://hooks.example/mhf").status_code == 201
    red_alert(client, world, clock)
    dns["hooks.example"] = ["127.0.0.1"]
    recorder = Recorder()
    assert deliver_with(app, clock, recorder)["failed"] == 1
    assert recorder.requests == []
    [delivery] = deliveries(client, world)
    assert (delivery["status"], delivery["last_error"]) == ("failed", "destination not allowed")


def test_a_host_that_stops_resolving_is_retried(client, world, app, clock, dns):
    assert register(client, world, "https://hooks.example/mhf").status_code == 201
    red_alert(client, world, clock)
    dns["hooks.example"] = []
    assert deliver_with(app, clock, Recorder())["retrying"] == 1


def test_a_delivery_records_the_status_never_the_receivers_body(client, world, app, clock, dns):
    assert register(client, world, "https://hooks.example/mhf").status_code == 201
    red_alert(client, world, clock)
    deliver_with(app, clock, Recorder(500, "FATAL: password authentication failed for postgres"))
    [delivery] = deliveries(client, world)
    assert (delivery["last_status_code"], delivery["last_error"]) == (500, "HTTP 500")


def test_a_deactivated_webhook_sends_nothing_already_queued(client, world, app, clock, dns):
    """Finding 4: events queued before the webhook was stopped were still sent."""
    hook = register(client, world, "https://hooks.example/mhf").json()
    red_alert(client, world, clock)
    stopped = client.delete(
        f"/api/v1/teams/{world.teams['A1']}/webhooks/{hook['id']}", headers=world.auth("clin_A1")
    )
    assert stopped.status_code == 204
    notifier = FakeNotifier()
    assert deliver_with(app, clock, Recorder(), notifier) == {
        "delivered": 0,
        "failed": 1,
        "retrying": 0,
    }
    assert notifier.sent == []
    with app.state.sessions() as s:
        delivery = s.scalars(select(WebhookDelivery)).one()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        "failed",
        0,
        "webhook deactivated",
    )


# --- the policy on its own --------------------------------------------------------------------

HTTP_OK = EgressPolicy(allow_http=True)


@pytest.mark.parametrize(
    "url",
    ["http://2130706433/", "http://0x7f.1/", "http://127.1/", "http://[::1]/", "http://0/"],
)
def test_odd_spellings_of_loopback_are_refused_as_loopback(url):
    # httpx keeps these spellings as they are; the resolver reads them as 127.0.0.1 (or ::1).
    with pytest.raises(UnsafeDestination):
        check_url(url, HTTP_OK)


def test_the_allow_list_trusts_named_hosts_and_networks():
    resolver = {"receiver.internal": ["10.20.0.5"], "other.internal": ["10.30.0.5"]}
    policy = EgressPolicy(
        allowed_hosts=frozenset({"receiver.internal"}),
        allowed_networks=(ipaddress.ip_network("192.168.7.0/24"),),
        resolver=lambda host, port: resolver.get(host) or egress.system_resolve(host, port),
    )
    assert check_url("https://receiver.internal/hook", policy)
    assert check_url("https://192.168.7.9/hook", policy)
    with pytest.raises(UnsafeDestination):
        check_url("https://other.internal/hook", policy)
    with pytest.raises(UnsafeDestination):
        check_url("https://192.168.8.9/hook", policy)


def test_settings_parse_the_allow_list_and_production_refuses_http():
    settings = Settings(
        secret_key="k" * 40,
        environment="test",
        webhook_allow_http=True,
        webhook_allowed_hosts=["10.0.0.0/8", "Receiver.Internal."],
    )
    policy = EgressPolicy.from_settings(settings)
    assert policy.allow_http and policy.allowed_hosts == {"receiver.internal"}
    assert [str(n) for n in policy.allowed_networks] == ["10.0.0.0/8"]
    with pytest.raises(ValueError, match="MHF_WEBHOOK_ALLOW_HTTP"):
        Settings(
            secret_key="k" * 40,
            environment="production",
            public_base_url="https://mhf.example.nhs.uk",
            webhook_allow_http=True,
        )


def test_redirects_are_not_followed_through_the_guard():
    recorder = Recorder(302)
    policy = EgressPolicy(resolver=lambda host, port: [PUBLIC])
    transport = PinnedTransport(policy, httpx.MockTransport(recorder))
    with httpx.Client(transport=transport, follow_redirects=False) as http:
        assert http.post("https://hooks.example/").status_code == 302
    assert len(recorder.requests) == 1


def test_webhook_urls_are_logged_without_credentials_path_or_query(caplog):
    """Finding 5: httpx logs each request's URL at INFO, credentials and tokens included."""
    install_url_redaction()
    url = "https://alice:hunter2@hooks.example/services/T0/B0/XYZsecret?token=abc123"
    transport = httpx.MockTransport(lambda _: httpx.Response(204))
    with httpx.Client(transport=transport) as http, caplog.at_level(logging.INFO, logger="httpx"):
        http.post(url)
    logged = caplog.text
    assert "hooks.example" in logged
    for secret in ("alice", "hunter2", "XYZsecret", "abc123", "services"):
        assert secret not in logged, logged


def test_an_unknown_team_is_404_before_the_url_is_looked_at(client, world, dns):
    answer = client.post(
        f"/api/v1/teams/{uuid.uuid4()}/webhooks",
        json={"url": "https://127.0.0.1/", "secret": WEBHOOK_SECRET},
        headers=world.auth("admin"),
    )
    assert answer.status_code == 404
