"""Opaque keyset cursors, and the one place every cursor the service is sent is decoded.

A cursor is whatever the service put in a page's ``next_cursor``; a client sends it back
unchanged. Anything else (hand-edited, truncated, from another route, arbitrary bytes) is a bad
request: ``decode`` answers 400 with a problem document, whichever route and whatever the
cursor fails on, from its base64 to the type of each value in it. A cursor never reaches a
query unparsed, so no value in it can fail there as a 500.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from service.problems import Problem

T = TypeVar("T")
# Real cursors are under 200 characters; the cap keeps a hostile one cheap to refuse.
MAX_CURSOR_CHARS = 512


class BadCursor(Problem):
    status, slug, title = 400, "bad-cursor", "Bad cursor"

    def __init__(self, field: str = "cursor") -> None:
        super().__init__(
            f"{field} is not a cursor this service issued: start again from the first page.",
            extra={
                "errors": [
                    {
                        "field": field,
                        "message": "not a cursor this service issued",
                        "type": "cursor",
                    }
                ]
            },
        )


def decode(cursor: str | None, parse: Callable[[str], T], field: str = "cursor") -> T | None:
    """The key ``cursor`` holds, by ``parse`` (a ``keyset`` or a cursor format's own decoder);
    None for no cursor; ``BadCursor`` (400) for anything ``parse`` cannot read."""
    if cursor is None or cursor == "":
        return None
    if len(cursor) > MAX_CURSOR_CHARS or not cursor.isascii():
        raise BadCursor(field)
    try:
        return parse(cursor)
    except (ValueError, TypeError, KeyError, OverflowError, RecursionError) as exc:
        raise BadCursor(field) from exc


def encode_cursor(*parts: Any) -> str:
    raw = json.dumps([str(p) for p in parts], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def keyset(*kinds: Callable[[str], Any]) -> Callable[[str], tuple[Any, ...]]:
    """A parser of ``encode_cursor``'s cursors of ``len(kinds)`` values, each read by its kind
    (``uuid.UUID``, ``aware_datetime``, ``date.fromisoformat``); any failure is a ValueError."""

    def parse(cursor: str) -> tuple[Any, ...]:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        parts = json.loads(raw)
        if (
            not isinstance(parts, list)
            or len(parts) != len(kinds)
            or not all(isinstance(p, str) for p in parts)
        ):
            raise ValueError("not a cursor of this route")
        return tuple(kind(part) for kind, part in zip(kinds, parts, strict=True))

    return parse


def aware_datetime(text: str) -> datetime:
    """A cursor's time: ISO 8601 with its offset, as the service writes them."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a cursor's time has an offset")
    # In UTC here, as the database compares it: the first or last moment a datetime can hold,
    # at another offset, overflows (OverflowError) when converted, and must do so here.
    return value.astimezone(UTC)


def day(text: str) -> date:
    return date.fromisoformat(text)


def uuid_value(text: str) -> uuid.UUID:
    return uuid.UUID(text)


def _page_after(query: Any, day_column: Any, id_column: Any, cursor: str | None) -> Any:
    after = decode(cursor, keyset(day, uuid_value))
    if after is not None:
        on, row_id = after
        query = query.where(or_(day_column > on, and_(day_column == on, id_column > row_id)))
    return query.order_by(day_column, id_column)


def dated_page(
    session: Session,
    model: Any,
    day_column: Any,
    patient_id: uuid.UUID,
    limit: int,
    cursor: str | None,
) -> tuple[list[Any], str | None]:
    """A page of one patient's dated records, oldest first, with the cursor for the next."""
    query = _page_after(
        select(model).where(model.patient_id == patient_id), day_column, model.id, cursor
    )
    rows = list(session.scalars(query.limit(limit + 1)).all())
    page = rows[:limit]
    more = len(rows) > limit
    last = page[-1] if page else None
    next_cursor = encode_cursor(getattr(last, day_column.key), last.id) if more and last else None
    return page, next_cursor
