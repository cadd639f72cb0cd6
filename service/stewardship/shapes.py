"""The published shapes of a value framework's dashboard (JSON, CSV, page and pack render these).
Key order is the order of the published JSON."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from service.reports.disclosure import Shown, ShownValue
from service.reports.shapes import DisclosureMeta, SiteRef


class TrendPoint(TypedDict):
    month: str
    value: ShownValue


class GroupValue(TypedDict):
    group: str
    value: ShownValue


class SpcSummary(TypedDict):
    variation: str | None
    assurance: str | None
    mean: float | None
    lower: float | None
    upper: float | None
    too_few_points: bool


class OutcomeJson(TypedDict):
    domain: str
    domain_title: str
    metric: str
    title: str
    unit: str
    value: ShownValue
    numerator: Shown | None
    denominator: Shown | None
    target: float
    direction: str
    status: str
    equity_split: NotRequired[str]
    groups: NotRequired[list[GroupValue]]
    trend: list[TrendPoint]
    spc: SpcSummary | None


class ResourcesJson(TypedDict):
    bed_days: Shown | None
    bed_day_cost_gbp: ShownValue
    admissions: Shown | None
    admission_cost_gbp: ShownValue
    ae_attendances: Shown | None
    ae_cost_gbp: ShownValue
    nurse_hours: Shown | None
    nurse_cost_gbp: ShownValue
    patient_months: Shown | None
    kit_cost_gbp: ShownValue
    cost_per_patient_month_gbp: ShownValue
    staff_minutes_per_alert: ShownValue
    staff_minutes_per_patient_month: ShownValue
    caseload: Shown | None
    team_wte: float
    caseload_per_wte: ShownValue
    budget_gbp: float | None


class UnitCostJson(TypedDict):
    key: str
    gbp: float
    source: str
    year: str
    overridden: bool


class SiteCostsJson(TypedDict):
    site: SiteRef
    unit_costs: list[UnitCostJson]


class DashboardMeta(TypedDict):
    framework_id: str
    name: str
    version: int
    version_created_at: str
    scope: str
    sites: list[SiteRef]
    month: str
    months: list[str]
    generated_at: str
    unit_costs: list[SiteCostsJson]
    status_rule: str
    inequality_rule: str


class Dashboard(TypedDict):
    month: str
    framework: dict[str, Any]
    outcomes: list[OutcomeJson]
    resources: ResourcesJson
    before_after: dict[str, Any] | None
    scenarios: list[dict[str, Any]]
    disclosure: DisclosureMeta
    meta: DashboardMeta
