"""The tests' fixed "now" and a clock they can move by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def today() -> date:
    """The real date (UTC), for tests against live processes, which run on the real clock."""
    return datetime.now(UTC).date()
