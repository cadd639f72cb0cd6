"""Webhook events: payloads, Standard Webhooks signatures, and the retry schedule.

Wire format (https://www.standardwebhooks.com/)::

    POST <endpoint url>
    content-type: application/json
    webhook-id: <event id, stable across retries: receivers de-duplicate on it>
    webhook-timestamp: <integer seconds since the epoch of this attempt>
    webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">

    {"data":{...},"id":"...","timestamp":"...","type":"alert.raised"}

Secrets: ``whsec_<base64>`` uses the decoded bytes as the HMAC key, which is what Standard
Webhooks libraries do; any other string is used as its UTF-8 bytes. A receiver using a Standard
Webhooks library must therefore be given the ``whsec_`` form. Keys shorter than
``MIN_SECRET_BYTES`` are refused.

Payloads carry identifiers and alert facts only, never an NHS number, name or reading value: a
webhook leaves the clinical system for a team's tooling, so ``AlertEventData`` has no field that
could hold them, and an id that looks like an NHS number is refused.

Retries: ``next_attempt_at`` gives exponential backoff with full jitter, each step capped, for at
least ``RetryPolicy.retry_for`` (24 h) after the first attempt; ``None`` means stop and mark the
delivery failed (it is kept, never deleted, so the team can see it). Every attempt is signed
afresh with its own timestamp, so a late retry still passes the receiver's tolerance check.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from alerts.lifecycle import Severity

__all__ = [
    "DEFAULT_RETRY_POLICY",
    "DEFAULT_TOLERANCE",
    "HEADER_ID",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "MIN_SECRET_BYTES",
    "SECRET_PREFIX",
    "AlertEventData",
    "EventType",
    "RetryPolicy",
    "WebhookSecret",
    "WebhookVerificationError",
    "build_event",
    "next_attempt_at",
    "sign",
    "signed_headers",
    "verify",
]

SECRET_PREFIX = "whsec_"
MIN_SECRET_BYTES = 16
DEFAULT_TOLERANCE = timedelta(minutes=5)
HEADER_ID = "webhook-id"
HEADER_TIMESTAMP = "webhook-timestamp"
HEADER_SIGNATURE = "webhook-signature"
_SIGNATURE_VERSION = "v1"
# Ten digits, optionally spaced 3-3-4 or hyphenated: how NHS numbers are written.
_NHS_NUMBER_LIKE = re.compile(r"\d{3}[\s-]?\d{3}[\s-]?\d{4}")


class EventType(StrEnum):
    ALERT_RAISED = "alert.raised"
    ALERT_SEVERITY_RAISED = "alert.severity_raised"
    ALERT_ESCALATED = "alert.escalated"


class WebhookVerificationError(Exception):
    """A delivery whose headers, signature or timestamp do not check out."""


@dataclass(frozen=True, slots=True)
class WebhookSecret:
    """An HMAC key; kept out of ``repr`` so it does not end up in logs."""

    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.key) < MIN_SECRET_BYTES:
            raise ValueError(f"a webhook secret needs at least {MIN_SECRET_BYTES} bytes")

    @classmethod
    def parse(cls, secret: str) -> WebhookSecret:
        """``whsec_<base64>`` or a raw string (its UTF-8 bytes); raises ``ValueError``."""
        if secret.startswith(SECRET_PREFIX):
            try:
                key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
            except binascii.Error as exc:
                raise ValueError("a whsec_ secret must be base64 after the prefix") from exc
            return cls(key)
        return cls(secret.encode("utf-8"))


def sign(secret: WebhookSecret | str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>``."""
    key = _key(secret)
    if not message_id:
        raise ValueError("a message id is needed")
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key.key, signed, hashlib.sha256).digest()
    return f"{_SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def signed_headers(
    secret: WebhookSecret | str, message_id: str, sent_at: datetime, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers for one delivery attempt made at ``sent_at``."""
    timestamp = _epoch_seconds(sent_at)
    return {
        HEADER_ID: message_id,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_SIGNATURE: sign(secret, message_id, timestamp, body),
    }


def verify(
    secret: WebhookSecret | str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> str:
    """Check a received delivery; return its ``webhook-id`` or raise ``WebhookVerificationError``.

    Header names are matched case-insensitively. The timestamp must be within ``tolerance`` of
    ``now`` either way, which bounds how long a captured request can be replayed. Any one of
    several space-separated ``v1`` signatures may match (senders list two while rotating keys).
    """
    key = _key(secret)
    lowered = {name.lower(): value for name, value in headers.items()}
    message_id = lowered.get(HEADER_ID, "")
    raw_timestamp = lowered.get(HEADER_TIMESTAMP, "")
    signatures = lowered.get(HEADER_SIGNATURE, "")
    if not (message_id and raw_timestamp and signatures):
        raise WebhookVerificationError("missing webhook headers")
    if not (raw_timestamp.isascii() and raw_timestamp.isdigit()):
        raise WebhookVerificationError("invalid webhook-timestamp")
    timestamp = int(raw_timestamp)
    if abs(_epoch_seconds(now) - timestamp) > tolerance.total_seconds():
        raise WebhookVerificationError("webhook-timestamp outside the tolerance")
    expected = sign(key, message_id, timestamp, body)
    for candidate in signatures.split():
        if candidate.startswith(f"{_SIGNATURE_VERSION},") and hmac.compare_digest(
            candidate.encode(), expected.encode()
        ):
            return message_id
    raise WebhookVerificationError("no matching signature")


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertEventData:
    """Everything a webhook may say about an alert; deliberately no patient-identifying field."""

    alert_id: str
    patient_id: str
    team_id: str
    rule_id: str
    pathway_version: str
    severity: Severity
    due_at: datetime
    previous_severity: Severity | None = None
    # Set for a red alert raised out of hours (``alerts.out_of_hours.Handling``): it tells an
    # out-of-hours service that the alert was handed to it, and the team's tooling that it was.
    out_of_hours_handling: str | None = None

    def __post_init__(self) -> None:
        for name in ("alert_id", "patient_id", "team_id"):
            if _NHS_NUMBER_LIKE.fullmatch(getattr(self, name).strip()):
                raise ValueError(f"{name} looks like an NHS number; webhooks carry internal ids")
        _require_aware(self.due_at, "due_at")

    def as_json(self) -> dict[str, str]:
        data = {
            "alert_id": self.alert_id,
            "patient_id": self.patient_id,
            "team_id": self.team_id,
            "rule_id": self.rule_id,
            "pathway_version": self.pathway_version,
            "severity": str(self.severity),
            "due_at": _rfc3339(self.due_at),
        }
        if self.previous_severity is not None:
            data["previous_severity"] = str(self.previous_severity)
        if self.out_of_hours_handling is not None:
            data["out_of_hours_handling"] = self.out_of_hours_handling
        return data


def build_event(
    event_id: str, event_type: EventType, occurred_at: datetime, data: AlertEventData
) -> bytes:
    """The event body: compact JSON with sorted keys, so the same event is byte-for-byte stable.

    Built once when the event is written to the outbox; retries send the stored bytes.
    """
    _require_aware(occurred_at, "occurred_at")
    document = {
        "id": event_id,
        "type": str(event_type),
        "timestamp": _rfc3339(occurred_at),
        "data": data.as_json(),
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode(
        "ascii"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Backoff for webhook deliveries; the defaults keep trying for a day, at most hourly."""

    base_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)
    # Full jitter can draw zero; a floor stops a failing receiver being hit back-to-back.
    min_delay: timedelta = timedelta(seconds=1)
    retry_for: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        if not timedelta(0) < self.min_delay <= self.base_delay <= self.max_delay:
            raise ValueError("need 0 < min_delay <= base_delay <= max_delay")
        if self.retry_for <= timedelta(0):
            raise ValueError("retry_for must be positive")

    def step(self, attempt_number: int) -> timedelta:
        """The upper bound of the jittered delay after ``attempt_number`` failed attempts."""
        if attempt_number < 1:
            raise ValueError("attempt_number counts attempts made, from 1")
        # In float seconds, because base_delay * 2**n overflows timedelta long before the cap
        # stops mattering; past 2**60 the cap has applied for any sane policy.
        growth = 2.0 ** min(attempt_number - 1, 60)
        seconds = min(self.max_delay.total_seconds(), self.base_delay.total_seconds() * growth)
        return timedelta(seconds=seconds)


DEFAULT_RETRY_POLICY = RetryPolicy()


def next_attempt_at(
    attempt_number: int,
    first_attempt_at: datetime,
    now: datetime,
    rng: random.Random,
    policy: RetryPolicy = DEFAULT_RETRY_POLICY,
) -> datetime | None:
    """When to try again after ``attempt_number`` failed attempts, or ``None`` to give up.

    Gives up only once ``now`` is ``retry_for`` or more after the first attempt, so attempts span
    at least that long. The delay is uniform in ``[0, step]`` (full jitter, which spreads out
    retries to a receiver that comes back after an outage), raised to ``min_delay``.
    """
    _require_aware(first_attempt_at, "first_attempt_at")
    _require_aware(now, "now")
    step = policy.step(attempt_number)
    if now - first_attempt_at >= policy.retry_for:
        return None
    jitter = timedelta(seconds=rng.uniform(0.0, step.total_seconds()))
    return now + max(policy.min_delay, jitter)


def _key(secret: WebhookSecret | str) -> WebhookSecret:
    return secret if isinstance(secret, WebhookSecret) else WebhookSecret.parse(secret)


def _epoch_seconds(moment: datetime) -> int:
    _require_aware(moment, "timestamp")
    return int(moment.timestamp())


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
