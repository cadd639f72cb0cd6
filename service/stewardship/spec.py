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
