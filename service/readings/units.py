"""Unit conversion and plausibility limits for home readings (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from service.problem_codes import Code

KG_PER_LB = 0.45359237  # exact, by the international yard and pound agreement
KG_PER_ST = 14 * KG_PER_LB

WEIGHT_TO_KG = {"kg": 1.0, "lb": KG_PER_LB, "st": KG_PER_ST}

# Values outside these are not physiology but typos or device faults: reject, never store.
LIMITS: dict[str, tuple[float, float]] = {
    "weight": (20.0, 350.0),
    "systolic": (50, 300),
    "diastolic": (20, 200),
    "heart_rate": (20, 250),
    "spo2": (50, 100),
    "potassium": (1.5, 10.0),
    "creatinine": (10, 2500),
    "egfr": (1, 200),
}
MAX_AGE = timedelta(days=366)


def to_kg(value: float, unit: str) -> float:
    return value * WEIGHT_TO_KG[unit]


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str
    type: str = "value_error"
    code: Code = Code.INVALID_VALUE


def check_range(field: str, name: str, value: float, unit: str) -> FieldError | None:
    low, high = LIMITS[name]
    if low <= value <= high:
        return None
    return FieldError(
        field,
        f"{value:g} is outside the plausible range {low:g}-{high:g} {unit}",
        "implausible_value",
        Code.OUT_OF_RANGE,
    )


def check_time(field: str, taken_at: datetime, now: datetime, skew: timedelta) -> FieldError | None:
    if taken_at > now + skew:
        message = "reading time is in the future"
        return FieldError(field, message, "future_reading", Code.FUTURE_TIME)
    if taken_at < now - MAX_AGE:
        return FieldError(field, "reading is more than a year old", "stale_reading", Code.TOO_OLD)
    return None
