"""API shapes of stewardship: unit costs, value frameworks, interventions, STAR scenarios."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, Field, StringConstraints, field_validator

from service.schemas import Input

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(max_length=4000)]
Gbp = Annotated[float, Field(ge=0, strict=True)]
Domain = Literal["population_health", "quality", "resources", "inequalities"]
Direction = Literal["higher", "lower"]
EquitySplit = Literal["imd_quintile", "ethnicity", "age_band", "sex"]
Cohort = Literal["new_diagnosis", "post_discharge", "medication_optimisation", "palliative"]
ALL_COHORTS: tuple[Cohort, ...] = get_args(Cohort)


# --- unit costs --------------------------------------------------------------------------------


class UnitCostsIn(Input):
    """A site's own unit costs: each a number (GBP, 0 or more), or null to go back to the
    national default. ``source`` says where the numbers given come from; ``sources`` names one
    for a single cost, and wins over ``source``."""

    bed_day_gbp: Gbp | None = None
    admission_gbp: Gbp | None = None
    ae_attendance_gbp: Gbp | None = None
    nurse_hour_gbp: Gbp | None = None
    kit_patient_month_gbp: Gbp | None = None
    source: Annotated[str, StringConstraints(max_length=500)] | None = None
    sources: (
        dict[
            Literal[
                "bed_day_gbp",
                "admission_gbp",
                "ae_attendance_gbp",
                "nurse_hour_gbp",
                "kit_patient_month_gbp",
            ],
            Annotated[str, StringConstraints(max_length=500)],
        ]
        | None
    ) = None


class UnitCostOut(BaseModel):
    key: str
    title: str
    gbp: float
    overridden: bool
    source: str
    year: str
    updated_at: datetime | None = None


class DefaultCostOut(BaseModel):
    key: str
    title: str
    gbp: float
    source: str
    year: str


class UnitCostsOut(BaseModel):
    site_id: uuid.UUID
    costs: dict[str, UnitCostOut]
    defaults: dict[str, DefaultCostOut]


# --- frameworks --------------------------------------------------------------------------------


class PopulationIn(Input):
    cohorts: list[Cohort] = Field(
        default_factory=lambda: list(ALL_COHORTS), max_length=len(ALL_COHORTS)
    )
    description: Text = ""


class ResourcesIn(Input):
    team_wte: Annotated[float, Field(ge=0, le=10_000)]
    budget_gbp: Annotated[float, Field(ge=0)] | None = None
    note: Text = ""


class OutcomeIn(Input):
    domain: Domain
    metric: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    target: float
    direction: Direction
    equity_split: EquitySplit | None = None
    note: Text = ""


class FrameworkIn(Input):
    name: Name
    site_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100)
    aim: Text
    objectives: list[Text] = Field(default_factory=list, max_length=50)
    population: PopulationIn
    resources: ResourcesIn
    outcomes: list[OutcomeIn] = Field(default_factory=list, max_length=100)

    @field_validator("population", mode="before")
    @classmethod
    def _population_as_text(cls, value: Any) -> Any:
        # A plain description is accepted: every cohort, described in words.
        if isinstance(value, str):
            return {"description": value}
        return value


class FrameworkPatch(Input):
    """JSON Merge Patch (RFC 7396) of a framework: members left out are kept, lists are
    replaced whole, objects merged member by member; the result is validated as a whole."""

    version: int | None = Field(
        default=None, description="The version the change was made from: 409 if it is stale."
    )
    name: str | None = None
    site_ids: list[uuid.UUID] | None = None
    aim: str | None = None
    objectives: list[str] | None = None
    population: dict[str, Any] | str | None = None
    resources: dict[str, Any] | None = None
    outcomes: list[dict[str, Any]] | None = None


class PopulationOut(BaseModel):
    cohorts: list[str]
    description: str


class ResourcesOut(BaseModel):
    team_wte: float
    budget_gbp: float | None
    note: str


class OutcomeOut(BaseModel):
    domain: str
    metric: str
    target: float
    direction: str
    equity_split: str | None
    note: str


class FrameworkOut(BaseModel):
    id: uuid.UUID
    version: int
    name: str
    site_ids: list[uuid.UUID]
    is_network: bool
    aim: str
    objectives: list[str]
    population: PopulationOut
    resources: ResourcesOut
    outcomes: list[OutcomeOut]
    created_at: datetime
    version_created_at: datetime
    version_created_by: uuid.UUID | None


class FrameworkVersionOut(BaseModel):
    version: int
    created_at: datetime
    created_by: uuid.UUID | None
    spec: dict[str, Any]


# --- interventions -----------------------------------------------------------------------------

Sourcing = Literal["measured", "entered"]


class InterventionIn(Input):
    name: Name
    yearly_activity: Annotated[float, Field(ge=0)] | None = Field(
        default=None, description="Required when entered; measured ones are read from reports."
    )
    activity_unit: Annotated[str, StringConstraints(min_length=1, max_length=32)] = Field(
        description="What the activity counts: 'patients', 'visits', 'patient-months', ..."
    )
    unit_cost_gbp: Annotated[float, Field(ge=0)]
    people_per_year: Annotated[float, Field(ge=0)] | None = Field(
        default=None, description="The people a year's activity reaches (QALYs are per person)."
    )
    qaly_per_person: float | None = None
    qaly_source: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None
    sourcing: Sourcing
    measured_metric: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, description="A count or sum metric of GET /api/v1/reports/metrics."
    )
    note: Annotated[str, StringConstraints(max_length=2000)] = ""


class InterventionPatch(Input):
    """JSON Merge Patch (RFC 7396) of an intervention, validated whole after merging."""

    name: str | None = None
    yearly_activity: float | None = None
    activity_unit: str | None = None
    unit_cost_gbp: float | None = None
    people_per_year: float | None = None
    qaly_per_person: float | None = None
    qaly_source: str | None = None
    sourcing: str | None = None
    measured_metric: str | None = None
    note: str | None = None


class InterventionOut(BaseModel):
    id: uuid.UUID
    framework_id: uuid.UUID
    name: str
    yearly_activity: float | None = Field(
        description="Entered, or measured and disclosed (null when suppressed: 1-7)."
    )
    activity_source: str
    activity_unit: str
    unit_cost_gbp: float
    yearly_cost_gbp: float | None
    people_per_year: float | None
    qaly_per_person: float | None
    qaly_source: str | None
    sourcing: str
    measured_metric: str | None
    note: str
    created_at: datetime
    updated_at: datetime


# --- scenarios ---------------------------------------------------------------------------------


class ChangeIn(Input):
    intervention_id: uuid.UUID
    action: Literal["stabilise", "reduce", "increase"]
    by: Annotated[float, Field(ge=0)] | None = Field(
        default=None,
        description="Activity units to reduce or increase by; not allowed with stabilise.",
    )


class ScenarioIn(Input):
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    changes: list[ChangeIn] = Field(min_length=1, max_length=50)


class ScenarioOut(BaseModel):
    id: uuid.UUID
    framework_id: uuid.UUID
    framework_version: int
    name: str
    changes: list[dict[str, Any]]
    result: dict[str, Any]
    created_at: datetime
    created_by: uuid.UUID | None
