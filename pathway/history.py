"""A patient's stored readings prepared once for many evaluate() calls."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pathway.model import Reading, ReadingType
from pathway.window import london_day, order_key

_VALUE_TYPES = frozenset(
    {
        ReadingType.WEIGHT,
        ReadingType.HEART_RATE,
        ReadingType.SPO2,
        ReadingType.POTASSIUM,
        ReadingType.CREATININE,
        ReadingType.EGFR,
    }
)


def usable(reading: Reading) -> bool:
    """A reading carrying what its type needs; anything else is ignored, never an error."""
    if reading.type in _VALUE_TYPES:
        # Positive and finite (NaN fails every comparison); one test, as it runs per reading.
        return reading.value is not None and 0 < reading.value < math.inf
    if reading.type is ReadingType.BLOOD_PRESSURE:
        return reading.systolic is not None
    return reading.symptoms is not None


@dataclass(frozen=True, slots=True)
class _Prepared:
    readings: list[Reading]
    times: list[datetime]
    days: list[int]
    ids: list[str]


class History:
    """Stored readings sorted per type with their London days, for a caller that evaluates
    the same patient again and again (a replay, a batch import, a cache per patient).

    evaluate() gives exactly the answer it gives for the plain readings; it only skips
    re-sorting them and re-computing their days on every call. Readings are immutable, so a
    History can be shared; build a new one when the stored readings change.
    """

    __slots__ = ("by_id", "keys", "ordered", "plain", "series", "times")

    def __init__(self, readings: Iterable[Reading]) -> None:
        everything = list(readings)
        self.by_id = {r.id: r for r in everything}
        # Two readings sharing an id are resolved by the window of each call, as for a list.
        self.plain: list[Reading] | None = (
            everything if len(self.by_id) != len(everything) else None
        )
        self.ordered = sorted((r for r in everything if usable(r)), key=order_key)
        self.keys = [order_key(r) for r in self.ordered]
        self.times = [r.taken_at for r in self.ordered]
        grouped: dict[ReadingType, list[Reading]] = {}
        for r in self.ordered:
            grouped.setdefault(r.type, []).append(r)
        self.series = {
            kind: _Prepared(
                group,
                [r.taken_at for r in group],
                [london_day(r.taken_at) for r in group],
                [r.id for r in group],
            )
            for kind, group in grouped.items()
        }
