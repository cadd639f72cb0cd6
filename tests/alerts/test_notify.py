"""The httpx webhook sender against httpx.MockTransport, and the fake notifier."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest

from alerts.notify import (
    DEFAULT_TIMEOUT,
    INVALID_URL,
    REFUSED,
    TIMED_OUT,
    UNREACHABLE,
    DeliveryOutcome,
    DeliveryResult,
    DestinationRefused,
    FakeNotifier,
    HttpxWebhookSender,
    Notifier,
    OutgoingMessage,
    WebhookEndpoint,
)
from alerts.webhooks import EventType, WebhookSecret, verify

SECRET = WebhookSecret.parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
ENDPOINT = WebhookEndpoint("endpoint-1", "https://hooks.example.nhs.uk/mhf", SECRET)
SENT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
MESSAGE = OutgoingMessage("evt_1", EventType.ALERT_RAISED, b'{"id":"evt_1"}', SENT)

Handler = Callable[[httpx.Request], httpx.Response]


def send(handler: Handler, endpoint: WebhookEndpoint = ENDPOINT) -> DeliveryResult:
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        return HttpxWebhookSender(client).deliver(endpoint, MESSAGE)


def test_2xx_is_delivered_with_a_verifiable_signature() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    result = send(handler)
    assert result == DeliveryResult(DeliveryOutcome.DELIVERED, 204)
    assert result.delivered
    [request] = seen
    assert request.method == "POST"
    assert request.url == ENDPOINT.url
    assert request.content == MESSAGE.body
    assert request.headers["content-type"] == "application/json"
    assert verify(SECRET, request.headers, request.content, SENT) == "evt_1"
    assert request.extensions["timeout"] == DEFAULT_TIMEOUT.as_dict()


@pytest.mark.parametrize("status", [200, 201, 202, 299])
def test_any_2xx_is_delivered(status: int) -> None:
    assert send(lambda _: httpx.Response(status)).outcome is DeliveryOutcome.DELIVERED


def test_500_is_retryable_with_the_status_only_never_the_body() -> None:
    # Issue 18 finding 1: the receiver's body went back to the team, which made the sender a
    # way to read internal services' answers.
    result = send(lambda _: httpx.Response(500, text="database down"))
    assert result == DeliveryResult(DeliveryOutcome.RETRYABLE, 500, "HTTP 500")
    assert not result.delivered


@pytest.mark.parametrize("status", [400, 401, 404, 429, 503])
def test_other_statuses_are_retryable(status: int) -> None:
    result = send(lambda _: httpx.Response(status))
    assert result == DeliveryResult(DeliveryOutcome.RETRYABLE, status, f"HTTP {status}")


def test_410_gone_is_a_permanent_failure() -> None:
    result = send(lambda _: httpx.Response(410, text="endpoint retired"))
    assert result == DeliveryResult(DeliveryOutcome.PERMANENT_FAILURE, 410, "HTTP 410")


def test_redirects_are_not_followed() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(302, headers={"location": "http://169.254.169.254/"})

    result = send(handler)
    assert (result.outcome, result.status_code) == (DeliveryOutcome.RETRYABLE, 302)
    assert calls == [ENDPOINT.url]


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectTimeout("connect timed out"),
        httpx.ReadTimeout("read timed out"),
        httpx.ConnectError("connection refused"),
        httpx.RemoteProtocolError("server hung up"),
    ],
)
def test_timeouts_and_connection_errors_are_retryable(error: httpx.TransportError) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    result = send(handler)
    assert result.outcome is DeliveryOutcome.RETRYABLE
    assert result.status_code is None
    # A generic reason: the error's own text tells an open port from a closed one.
    expected = TIMED_OUT if isinstance(error, httpx.TimeoutException) else UNREACHABLE
    assert result.error == expected
    assert str(error) not in (result.error or "")


def test_a_refused_destination_is_a_permanent_failure() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise DestinationRefused("internal address 10.0.0.5", request=request)

    assert send(handler) == DeliveryResult(DeliveryOutcome.PERMANENT_FAILURE, None, REFUSED)


def test_an_invalid_url_is_a_permanent_failure() -> None:
    result = send(lambda _: httpx.Response(200), WebhookEndpoint("e", "http://host:port/", SECRET))
    assert result.outcome is DeliveryOutcome.PERMANENT_FAILURE
    assert result.error == INVALID_URL


def test_an_unsupported_scheme_is_a_permanent_failure() -> None:
    # The real transport refuses the scheme before opening any connection.
    with httpx.Client() as client:
        result = HttpxWebhookSender(client).deliver(
            WebhookEndpoint("e", "ftp://hooks.example.nhs.uk/", SECRET), MESSAGE
        )
    assert result.outcome is DeliveryOutcome.PERMANENT_FAILURE
    assert result.error == INVALID_URL


def test_a_long_error_body_is_not_read() -> None:
    result = send(lambda _: httpx.Response(500, text="x" * 100_000))
    assert result.error == "HTTP 500"


class BrokenStream(httpx.SyncByteStream):
    def __iter__(self) -> Iterator[bytes]:
        yield b"partial"
        raise httpx.ReadError("connection reset")


def test_a_body_that_breaks_off_still_gives_the_status() -> None:
    result = send(lambda _: httpx.Response(502, stream=BrokenStream()))
    assert result == DeliveryResult(DeliveryOutcome.RETRYABLE, 502, "HTTP 502")


def test_one_injected_client_serves_every_delivery() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(200)

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        sender = HttpxWebhookSender(client)
        for _ in range(3):
            assert sender.deliver(ENDPOINT, MESSAGE).delivered
        assert not client.is_closed, "the sender must not close the shared client"
    assert calls == 3


def test_secret_is_not_in_the_endpoint_repr() -> None:
    assert "MfKQ9r8" not in repr(ENDPOINT)
    assert repr(SECRET.key) not in repr(ENDPOINT)


def test_fake_notifier_records_and_follows_its_script() -> None:
    failure = DeliveryResult(DeliveryOutcome.RETRYABLE, 503, "HTTP 503")
    fake = FakeNotifier([failure, failure])
    notifier: Notifier = fake
    results = [notifier.deliver(ENDPOINT, MESSAGE) for _ in range(3)]
    assert results == [failure, failure, DeliveryResult(DeliveryOutcome.DELIVERED, 200)]
    assert fake.sent == [(ENDPOINT, MESSAGE)] * 3


def test_sender_satisfies_the_port() -> None:
    with httpx.Client(transport=httpx.MockTransport(lambda _: httpx.Response(200))) as client:
        notifier: Notifier = HttpxWebhookSender(client)
        assert notifier.deliver(ENDPOINT, MESSAGE).delivered
