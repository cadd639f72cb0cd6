"""A value framework as the stewards agree it: values only, no storage and no SQL.

One version of a framework is a ``FrameworkSpec``. The API validates a body into one, storage
keeps each version's spec, and the dashboard reads the version in force for the month. The
Triple Aim duty (Health and Care Act 2022) names three aims; inequalities are judged within each,
and the programme reports them as a fourth domain so that each has its own metrics.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

Domain = Literal["population_health", "quality", "resources", "inequalities"]
Direction = Literal["higher", "lower"]
EquitySplit = Literal["imd_quintile", "ethnicity", "age_band", "sex"]

DOMAINS: tuple[Domain, ...] = ("population_health", "quality", "resources", "inequalities")
DOMAIN_TITLES: dict[Domain, str] = {
    "population_health": "Better health and wellbeing",
    "quality": "Better quality of services",
    "resources": "Efficient and sustainable use of resources",
    "inequalities": "Inequalities addressed",
}
DIRECTIONS: tuple[Direction, ...] = ("higher", "lower")
COHORTS = ("new_diagnosis", "post_discharge", "medication_optimisation", "palliative")

# Outcomes may name a report metric (``GET /api/v1/reports/metrics``) or one of these, which a
# dashboard derives from report metrics, the unit costs in force and the framework's resources.
RESOURCE_METRICS: dict[str, str] = {
    "bed_day_cost_gbp": "Cost of bed days (bed days x bed-day cost), GBP",
    "admission_cost_gbp": "Cost of heart-failure emergency admissions, GBP",
    "ae_cost_gbp": "Cost of A&E attendances, GBP",
    "nurse_hours": "Team hours recorded on alerts and contacts",
    "nurse_cost_gbp": "Cost of the team hours recorded, GBP",
    "kit_cost_gbp": "Cost of monitoring kit for the patient-months monitored, GBP",
    "cost_per_patient_month_gbp": "Team time and kit per patient-month monitored, GBP",
    "caseload_per_wte": "Patients on the pathway per whole-time equivalent of the team",
}


@dataclass(frozen=True, slots=True)
class OutcomeSpec:
    """One outcome: a metric judged against a target in the direction that is better.

    ``metric`` is an id of the report registry or of the stewardship resource metrics
    (``service.stewardship.resources``). An ``inequalities`` outcome names the equity split it
    is judged on; its value is the gap between the best and the worst published group."""

    domain: Domain
    metric: str
    target: float
    direction: Direction
    equity_split: EquitySplit | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Population:
    cohorts: tuple[str, ...] = COHORTS
    description: str = ""


@dataclass(frozen=True, slots=True)
class Resources:
    """What the stewards hold: team whole-time equivalents and a yearly budget. Unit costs are
    the sites' (``service.stewardship.costs``), read when the dashboard is built."""

    team_wte: float
    budget_gbp: float | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class FrameworkSpec:
    name: str
    # Empty for the whole network.
    site_ids: tuple[uuid.UUID, ...]
    aim: str
    objectives: tuple[str, ...]
    population: Population
    resources: Resources
    outcomes: tuple[OutcomeSpec, ...] = field(default_factory=tuple)

    @property
    def is_network(self) -> bool:
        return not self.site_ids
