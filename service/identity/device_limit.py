"""The per-device rate limit: a patient's app over its requests per window is told to slow down
(429 with ``Retry-After``), so a looping app cannot take the service from everyone else's.

Where the count lives: on the device token's row, in the database. The service runs as several
workers and replicas behind a proxy (``docker-compose.yml``, ``tests/cluster``), so a count in a
process's memory would allow the limit once per process, and a device's requests spread over
them all. The login gate (``login.py``) counts in the database for the same reason. Here the
count is one ``UPDATE ... RETURNING`` on a row the request already found (the token's), in the
request's own transaction: a fixed window, started afresh by the first request after the last
one ended. A request refused after it was counted (422, 409) rolls its transaction back, so its
count is made again after the rollback (``on_rollback``): a looping app sending a bad body is
limited too.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import Update, bindparam, case, or_, update
from sqlalchemy.orm import Session

from service.db import DriverStatement, fetch_all, on_rollback
from service.identity.security import hash_device_token
from service.models import DeviceToken
from service.problem_codes import Code, entry
from service.problems import TooManyRequests
from service.settings import Settings

_TOKENS = DeviceToken.__table__


def _statement() -> Update:
    started = _TOKENS.c.window_started_at
    fresh = or_(started.is_(None), started <= bindparam("window_start", type_=started.type))
    return (
        update(DeviceToken)
        .where(_TOKENS.c.token_hash == bindparam("hash_"))
        .values(
            window_started_at=case((fresh, bindparam("now", type_=started.type)), else_=started),
            window_requests=case((fresh, 1), else_=_TOKENS.c.window_requests + 1),
        )
        .returning(_TOKENS.c.window_started_at, _TOKENS.c.window_requests)
    )


_COUNT = _statement()
_DRIVER = DriverStatement.of(_COUNT)


def count_request(session: Session, raw_token: str, settings: Settings, now: datetime) -> None:
    """Count this request of the device behind ``raw_token`` (already authenticated); 429 if it
    is over the limit."""
    window = timedelta(seconds=settings.device_rate_window_seconds)
    params = {"hash_": hash_device_token(raw_token), "now": now, "window_start": now - window}
    rows = fetch_all(session, _DRIVER, _COUNT, params)
    if not rows:
        return
    started, requests = rows[0]
    if requests > settings.device_rate_limit:
        retry = max(1, math.ceil((started + window - now).total_seconds()))
        detail = f"This device sent too many requests: retry after {retry} seconds."
        raise TooManyRequests(
            detail,
            extra={
                "retry_after_seconds": retry,
                "errors": [entry([], Code.RATE_LIMITED, detail, "rate_limited")],
            },
        )
    on_rollback(session, lambda s: _recount(s, params))


def _recount(session: Session, params: dict[str, object]) -> None:
    fetch_all(session, _DRIVER, _COUNT, params)
