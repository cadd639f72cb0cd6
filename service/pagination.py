"""Opaque keyset cursors: base64 of a small JSON list, refused with 422 if tampered with."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import date
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from service.problems import Unprocessable, field_error


def encode_cursor(*parts: Any) -> str:
    raw = json.dumps([str(p) for p in parts], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        parts = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise Unprocessable("cursor is not valid", extra={"errors": [_err()]}) from exc
    if (
        not isinstance(parts, list)
        or len(parts) != size
        or not all(isinstance(p, str) for p in parts)
    ):
        raise Unprocessable("cursor is not valid", extra={"errors": [_err()]})
    return parts


def _err() -> dict[str, str]:
    return {"field": "cursor", "message": "not a cursor this service issued", "type": "cursor"}


def _page_after(query: Any, day_column: Any, id_column: Any, cursor: str | None) -> Any:
    if cursor:
        day_text, id_text = decode_cursor(cursor, 2)
        try:
            day, row_id = date.fromisoformat(day_text), uuid.UUID(id_text)
        except ValueError as exc:
            raise field_error("cursor", "not a cursor this service issued") from exc
        query = query.where(or_(day_column > day, and_(day_column == day, id_column > row_id)))
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
