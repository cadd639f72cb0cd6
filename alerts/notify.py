"""The notification port and its adapters: a signed webhook sender over httpx, and a fake.

The outbox worker in ``service/`` loads a pending delivery, builds an ``OutgoingMessage`` (the
stored event bytes plus ``sent_at = now``), calls ``Notifier.deliver`` and records the
``DeliveryResult``:

- ``DELIVERED``: any 2xx. Done.
- ``PERMANENT_FAILURE``: 410 Gone (the receiver says the endpoint is retired), a URL httpx
  can never send to, or a destination the client's transport refuses (``DestinationRefused``:
  an internal address). Stop retrying, mark failed.
- ``RETRYABLE``: any other status (including 3xx: redirects are not followed, so a webhook cannot
  be bounced to another host), timeouts, connection and protocol errors. Ask
  ``alerts.webhooks.next_attempt_at`` when to try again.

``HttpxWebhookSender`` is given the process's one shared ``httpx.Client`` (connection pooling,
closed by the service's lifespan) and never creates its own. It never raises for a failed
delivery, so one bad endpoint cannot stop the worker's batch.

A result says only the status code and a fixed, generic reason: never the receiver's body nor
the error's text. Both go back to the team that registered the webhook, and both would tell it
about the machine it reached (an open port from a closed one, an internal service's banner).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

import httpx

from alerts.webhooks import EventType, WebhookSecret, signed_headers

__all__ = [
    "DEFAULT_TIMEOUT",
    "INVALID_URL",
    "REFUSED",
    "TIMED_OUT",
    "UNREACHABLE",
    "DeliveryOutcome",
    "DeliveryResult",
    "DestinationRefused",
    "FakeNotifier",
    "HttpxWebhookSender",
    "Notifier",
    "OutgoingMessage",
    "WebhookEndpoint",
]

# Short, because a slow receiver holds a worker thread and delays every other team's alerts.
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
_GONE = 410
# Fixed reasons, one per kind of failure (see the module docstring).
REFUSED = "destination not allowed"
INVALID_URL = "invalid URL"
TIMED_OUT = "timed out"
UNREACHABLE = "could not deliver"


class DestinationRefused(httpx.TransportError):
    """Raised by a transport that will not connect to a request's destination."""


class DeliveryOutcome(StrEnum):
    DELIVERED = "delivered"
    RETRYABLE = "retryable"
    PERMANENT_FAILURE = "permanent_failure"


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    endpoint_id: str
    url: str
    secret: WebhookSecret = field(repr=False)


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One delivery attempt: the stable event id and body, signed with ``sent_at``."""

    message_id: str
    event_type: EventType
    body: bytes
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    outcome: DeliveryOutcome
    status_code: int | None = None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.outcome is DeliveryOutcome.DELIVERED


class Notifier(Protocol):
    def deliver(self, endpoint: WebhookEndpoint, message: OutgoingMessage) -> DeliveryResult: ...


class HttpxWebhookSender:
    """Delivers signed webhooks with an injected, shared ``httpx.Client``."""

    def __init__(
        self,
        client: httpx.Client,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        user_agent: str = "mhf-home-webhooks/1",
    ) -> None:
        self._client = client
        self._timeout = timeout
        self._user_agent = user_agent

    def deliver(self, endpoint: WebhookEndpoint, message: OutgoingMessage) -> DeliveryResult:
        headers = signed_headers(endpoint.secret, message.message_id, message.sent_at, message.body)
        headers["content-type"] = "application/json"
        headers["user-agent"] = self._user_agent
        try:
            request = self._client.build_request(
                "POST", endpoint.url, content=message.body, headers=headers, timeout=self._timeout
            )
            # Streamed, and closed unread: the body is never looked at.
            response = self._client.send(request, stream=True, follow_redirects=False)
        except DestinationRefused:
            return DeliveryResult(DeliveryOutcome.PERMANENT_FAILURE, None, REFUSED)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol):
            return DeliveryResult(DeliveryOutcome.PERMANENT_FAILURE, None, INVALID_URL)
        except httpx.TimeoutException:
            return DeliveryResult(DeliveryOutcome.RETRYABLE, None, TIMED_OUT)
        except httpx.TransportError:
            return DeliveryResult(DeliveryOutcome.RETRYABLE, None, UNREACHABLE)
        try:
            status = response.status_code
            if response.is_success:
                return DeliveryResult(DeliveryOutcome.DELIVERED, status)
            detail = f"HTTP {status}"
            if status == _GONE:
                return DeliveryResult(DeliveryOutcome.PERMANENT_FAILURE, status, detail)
            return DeliveryResult(DeliveryOutcome.RETRYABLE, status, detail)
        finally:
            response.close()


class FakeNotifier:
    """Records deliveries; answers from a script of results, then ``DELIVERED``."""

    def __init__(self, results: Iterable[DeliveryResult] = ()) -> None:
        self._script: deque[DeliveryResult] = deque(results)
        self.sent: list[tuple[WebhookEndpoint, OutgoingMessage]] = []

    def deliver(self, endpoint: WebhookEndpoint, message: OutgoingMessage) -> DeliveryResult:
        self.sent.append((endpoint, message))
        if self._script:
            return self._script.popleft()
        return DeliveryResult(DeliveryOutcome.DELIVERED, 200)
