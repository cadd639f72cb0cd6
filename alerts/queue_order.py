"""Order of the clinician alert queue and its opaque keyset-pagination cursor.

The queue is sorted red first, then oldest first, then by id so that the order is total::

    ORDER BY severity_rank DESC, raised_at ASC, id ASC

``QueueKey`` compares in that order (``a < b`` means ``a`` comes first). The next page after a
cursor ``c`` is the rows whose key is greater than ``c``, in SQL::

    WHERE severity_rank < :rank
       OR (severity_rank = :rank AND (raised_at > :raised_at
                                      OR (raised_at = :raised_at AND id > :id)))

served by an index on ``(severity_rank DESC, raised_at, id)`` (plus the team and status filters
in front). A cursor is the URL-safe base64 of compact JSON; it is not signed, because it holds
nothing the caller cannot see, and the query still applies the caller's team scope. Decoding
accepts only what ``encode_cursor`` produces; anything else raises ``InvalidCursor`` (HTTP 422).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import total_ordering

from alerts.lifecycle import Severity

__all__ = ["InvalidCursor", "QueueKey", "decode_cursor", "encode_cursor", "queue_sort_key"]

_CURSOR_VERSION = 1
# Real cursors are about 120 characters; the cap keeps a hostile one from costing much to parse.
_CURSOR_MAX_CHARS = 1024


class InvalidCursor(ValueError):
    """A cursor this service did not produce, or one it no longer understands."""


@total_ordering
@dataclass(frozen=True, slots=True)
class QueueKey:
    """An alert's place in the queue; ``raised_at`` is aware UTC."""

    severity_rank: int
    raised_at: datetime
    alert_id: str

    def _order(self) -> tuple[int, datetime, str]:
        return (-self.severity_rank, self.raised_at, self.alert_id)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, QueueKey):
            return NotImplemented
        return self._order() < other._order()


def queue_sort_key(severity: Severity, raised_at: datetime, alert_id: str) -> QueueKey:
    if raised_at.tzinfo is None or raised_at.utcoffset() is None:
        raise ValueError("raised_at must be timezone-aware")
    return QueueKey(severity.rank, raised_at.astimezone(UTC), alert_id)


def encode_cursor(key: QueueKey) -> str:
    document = {
        "v": _CURSOR_VERSION,
        "r": key.severity_rank,
        "t": key.raised_at.astimezone(UTC).isoformat(),
        "i": key.alert_id,
    }
    raw = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return base64.urlsafe_b64encode(raw.encode("ascii")).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> QueueKey:
    """The key a cursor was made from; ``InvalidCursor`` for anything else."""
    if not cursor or len(cursor) > _CURSOR_MAX_CHARS or not cursor.isascii():
        raise InvalidCursor("malformed cursor")
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        raw = base64.b64decode(padded, altchars=b"-_", validate=True)
        document = json.loads(raw.decode("ascii"))
    except (binascii.Error, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidCursor("malformed cursor") from exc
    key = _key_from(document)
    # Only the exact encoding of a key is accepted, so a cursor has one spelling and a hand-edited
    # one (extra fields, other padding, other time formats) is refused rather than half-read.
    if encode_cursor(key) != cursor:
        raise InvalidCursor("malformed cursor")
    return key


def _key_from(document: object) -> QueueKey:
    if not isinstance(document, dict) or document.get("v") != _CURSOR_VERSION:
        raise InvalidCursor("unknown cursor version")
    rank, raised, alert_id = document.get("r"), document.get("t"), document.get("i")
    if type(rank) is not int or not isinstance(raised, str) or not isinstance(alert_id, str):
        raise InvalidCursor("malformed cursor")
    try:
        Severity.from_rank(rank)
        raised_at = datetime.fromisoformat(raised)
    except ValueError as exc:
        raise InvalidCursor("malformed cursor") from exc
    if raised_at.tzinfo is None:
        raise InvalidCursor("malformed cursor")
    return QueueKey(rank, raised_at.astimezone(UTC), alert_id)
