"""The notification port and its adapters: a signed webhook sender over httpx, and a fake.

The outbox worker in ``service/`` loads a pending delivery, builds an ``OutgoingMessage`` (the
stored event bytes plus ``sent_at = now``), calls ``Notifier.deliver`` and records the
``DeliveryResult``:

- ``DELIVERED``: any 2xx. Done.
- ``PERMANENT_FAILURE``: 410 Gone (the receiver says the endpoint is retired), or a URL httpx
  can never send to. Stop retrying, mark failed.
- ``RETRYABLE``: any other status (including 3xx: redirects are not followed, so a webhook cannot
  be bounced to another host), timeouts, connection and protocol errors. Ask
  ``alerts.webhooks.next_attempt_at`` when to try again.

``HttpxWebhookSender`` is given the process's one shared ``httpx.Client`` (connection pooling,
closed by the service's lifespan) and never creates its own. It never raises for a failed
delivery, so one bad endpoint cannot stop the worker's batch.
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
    "ERROR_MAX_CHARS",
    "DeliveryOutcome",
    "DeliveryResult",
    "FakeNotifier",
    "HttpxWebhookSender",
    "Notifier",
    "OutgoingMessage",
    "WebhookEndpoint",
]

# Short, because a slow receiver holds a worker thread and delays every other team's alerts.
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
ERROR_MAX_CHARS = 500
_GONE = 410


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
            # Streamed so that only a bounded prefix of a large error body is ever read.
            response = self._client.send(request, stream=True, follow_redirects=False)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            return DeliveryResult(DeliveryOutcome.PERMANENT_FAILURE, None, _describe(exc))
        except httpx.TransportError as exc:
            return DeliveryResult(DeliveryOutcome.RETRYABLE, None, _describe(exc))
        try:
            status = response.status_code
            if response.is_success:
                return DeliveryResult(DeliveryOutcome.DELIVERED, status)
            body = _body_prefix(response)
            detail = _truncate(f"HTTP {status}: {body}" if body else f"HTTP {status}")
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


def _body_prefix(response: httpx.Response) -> str:
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size >= ERROR_MAX_CHARS:
                break
    except httpx.HTTPError:
        # The status is what matters; a body that fails to arrive is not worth a second error.
        pass
    return b"".join(chunks)[:ERROR_MAX_CHARS].decode("utf-8", errors="replace").strip()


def _describe(exc: Exception) -> str:
    text = str(exc)
    return _truncate(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


def _truncate(text: str) -> str:
    if len(text) <= ERROR_MAX_CHARS:
        return text
    return text[: ERROR_MAX_CHARS - 3] + "..."
