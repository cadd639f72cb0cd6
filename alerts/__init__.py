"""The alert lifecycle as a pure core: no I/O but the webhook sender, no clock.

The types and functions a caller needs, from one place. The lifecycle's moves
(``lifecycle.acknowledge``, ``lifecycle.escalate``, ...) and the raising plan (``raising.plan``)
are called through their modules: as bare names they would read like the service's use cases of
the same names.
"""

from alerts import lifecycle, raising
from alerts.lifecycle import (
    MINUTES_MAX,
    NOTE_MAX_CHARS,
    SYSTEM_OUTCOMES,
    AlertEvent,
    AlertState,
    AlertStatus,
    EventKind,
    IllegalTransition,
    InvalidInput,
    Outcome,
    Severity,
    Transition,
    is_overdue,
)
from alerts.notify import (
    DeliveryOutcome,
    DeliveryResult,
    DestinationRefused,
    FakeNotifier,
    HttpxWebhookSender,
    Notifier,
    OutgoingMessage,
    WebhookEndpoint,
)
from alerts.out_of_hours import HANDOVERS, SITE_CHOICES, Handling, handling_for
from alerts.queue_order import (
    InvalidCursor,
    QueueKey,
    decode_cursor,
    encode_cursor,
    queue_sort_key,
)
from alerts.raising import (
    AttachEvidence,
    IncomingFinding,
    OpenAlert,
    RaiseAlert,
    RaiseSeverity,
)
from alerts.sla import ResponsePolicy, due_at
from alerts.webhooks import (
    DEFAULT_RETRY_POLICY,
    AlertEventData,
    EventType,
    RetryPolicy,
    WebhookSecret,
    WebhookVerificationError,
    build_event,
    next_attempt_at,
    sign,
    signed_headers,
    verify,
)

__all__ = [
    "DEFAULT_RETRY_POLICY",
    "HANDOVERS",
    "MINUTES_MAX",
    "NOTE_MAX_CHARS",
    "SITE_CHOICES",
    "SYSTEM_OUTCOMES",
    "AlertEvent",
    "AlertEventData",
    "AlertState",
    "AlertStatus",
    "AttachEvidence",
    "DeliveryOutcome",
    "DeliveryResult",
    "DestinationRefused",
    "EventKind",
    "EventType",
    "FakeNotifier",
    "Handling",
    "HttpxWebhookSender",
    "IllegalTransition",
    "IncomingFinding",
    "InvalidCursor",
    "InvalidInput",
    "Notifier",
    "OpenAlert",
    "Outcome",
    "OutgoingMessage",
    "QueueKey",
    "RaiseAlert",
    "RaiseSeverity",
    "ResponsePolicy",
    "RetryPolicy",
    "Severity",
    "Transition",
    "WebhookEndpoint",
    "WebhookSecret",
    "WebhookVerificationError",
    "build_event",
    "decode_cursor",
    "due_at",
    "encode_cursor",
    "handling_for",
    "is_overdue",
    "lifecycle",
    "next_attempt_at",
    "queue_sort_key",
    "raising",
    "sign",
    "signed_headers",
    "verify",
]
