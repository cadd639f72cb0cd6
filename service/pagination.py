"""Opaque keyset cursors: base64 of a small JSON list, refused with 422 if tampered with."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from service.problems import Unprocessable


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
