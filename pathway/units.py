"""Weight units the apps send; the pathway itself only ever sees kilograms."""

from __future__ import annotations

KG_PER_LB = 0.45359237
LB_PER_STONE = 14


def to_kg(value: float, unit: str) -> float:
    """Convert a weight in kg, lb or st to kg; any other unit is refused."""
    match unit:
        case "kg":
            return value
        case "lb":
            return value * KG_PER_LB
        case "st":
            return value * LB_PER_STONE * KG_PER_LB
    raise ValueError(f"unknown weight unit {unit!r}")
