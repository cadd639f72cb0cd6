"""Unit costs: the national defaults, each with its source and year, and a site's overrides.

The defaults are national averages for England, rounded to the pound, so that a dashboard shows
a believable figure before a site has entered its own. A site's finance lead should override them
with local costs (``PUT /api/v1/sites/{site_id}/unit-costs``); every dashboard says which costs it
used and where each came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CostKey = Literal[
    "bed_day_gbp", "admission_gbp", "ae_attendance_gbp", "nurse_hour_gbp", "kit_patient_month_gbp"
]
COST_KEYS: tuple[CostKey, ...] = (
    "bed_day_gbp",
    "admission_gbp",
    "ae_attendance_gbp",
    "nurse_hour_gbp",
    "kit_patient_month_gbp",
)


@dataclass(frozen=True, slots=True)
class UnitCost:
    key: CostKey
    gbp: float
    title: str
    source: str
    year: str


DEFAULT_UNIT_COSTS: dict[CostKey, UnitCost] = {
    cost.key: cost
    for cost in (
        UnitCost(
            "admission_gbp",
            3_796.0,
            "Heart-failure non-elective admission (spell)",
            "NHS England, National Cost Collection: HRG EB03 'Heart Failure or Shock', "
            "non-elective spells, weighted average over complication scores",
            "2022/23",
        ),
        UnitCost(
            "bed_day_gbp",
            380.0,
            "Excess bed day, non-elective",
            "NHS England, National Cost Collection: HRG EB03 non-elective excess bed days",
            "2022/23",
        ),
        UnitCost(
            "ae_attendance_gbp",
            242.0,
            "A&E attendance (type 1, admitted or not)",
            "NHS England, National Cost Collection: emergency medicine, type 1 departments, "
            "weighted average",
            "2022/23",
        ),
        UnitCost(
            "nurse_hour_gbp",
            62.0,
            "Community nurse hour (Agenda for Change band 6, per working hour)",
            "PSSRU, Unit Costs of Health and Social Care 2023: community nurse, band 6",
            "2023",
        ),
        UnitCost(
            "kit_patient_month_gbp",
            30.0,
            "Monitoring kit and app per patient-month (scales, blood-pressure cuff, oximeter)",
            "MHF @home programme planning assumption: supplier list prices spread over a "
            "three-year life; replace with the local contract price",
            "2026",
        ),
    )
}


@dataclass(frozen=True, slots=True)
class CostInForce:
    """A unit cost as a dashboard uses it: the site's own figure, or the default."""

    key: CostKey
    gbp: float
    source: str
    year: str
    overridden: bool


def in_force(overrides: dict[CostKey, tuple[float, str]]) -> dict[CostKey, CostInForce]:
    """Every unit cost: the site's override (amount, source it gave) where set, else the default."""
    costs: dict[CostKey, CostInForce] = {}
    for key, default in DEFAULT_UNIT_COSTS.items():
        if key in overrides:
            gbp, source = overrides[key]
            costs[key] = CostInForce(key, gbp, source or "Set by the site", "", True)
        else:
            costs[key] = CostInForce(key, default.gbp, default.source, default.year, False)
    return costs
