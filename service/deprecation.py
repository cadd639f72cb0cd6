"""Deprecating an operation, as the versioning policy promises (``service.contract``).

An operation to be withdrawn is declared with ``deprecated(since=..., sunset=..., successor=...)``
among its route's arguments: the OpenAPI document marks it deprecated and states the dates, and
every answer it gives carries ``Deprecation`` (RFC 9745: when it was deprecated), ``Sunset``
(RFC 8594: when it stops) and a ``Link`` to its successor. ``ResponseHeadersMiddleware`` adds
them from the matched route, so they are on every answer (errors too) whatever the handler
returns.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from typing import Any

_SINCE, _SUNSET, _SUCCESSOR = "x-deprecated-since", "x-sunset", "x-successor"


def deprecated(
    *, since: datetime, sunset: datetime, successor: str | None = None
) -> dict[str, Any]:
    """Keyword arguments for a route: ``@router.get(path, **deprecated(...))``."""
    extra = {_SINCE: since.isoformat(), _SUNSET: sunset.isoformat()}
    if successor:
        extra[_SUCCESSOR] = successor
    return {"deprecated": True, "openapi_extra": extra}


def headers_for(route: Any) -> list[tuple[bytes, bytes]]:
    """The deprecation headers of a matched route (none if it is not deprecated)."""
    extra = getattr(route, "openapi_extra", None) or {}
    if not getattr(route, "deprecated", False) or _SUNSET not in extra:
        return []
    since = datetime.fromisoformat(extra[_SINCE])
    sunset = datetime.fromisoformat(extra[_SUNSET])
    out = [
        (b"deprecation", f"@{int(since.timestamp())}".encode()),
        (b"sunset", format_datetime(sunset, usegmt=True).encode()),
    ]
    if _SUCCESSOR in extra:
        out.append((b"link", f'<{extra[_SUCCESSOR]}>; rel="successor-version"'.encode()))
    return out
