"""A value framework's monthly outcomes dashboard: every outcome by Triple Aim domain with its
value, target, status and trend, then the resources and their cost, then whether a difference
was made (before and after enrolment).

Built from the same disclosed cells as the site and network reports (``FigureStore``), so what
a dashboard shows can always be found, with the same value, in the reports of the same month.
The API, the page, the CSV and the monthly pack all build it here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.models import Site
from service.reports import spc
from service.reports.build import disclosure_meta, metric_header
from service.reports.disclosure import SUPPRESSED, Cell, ShownValue
from service.reports.figures import FigureStore
from service.reports.groups import NOT_KNOWN
from service.reports.metrics import REGISTRY
from service.reports.period import check_month, last_months
from service.reports.shapes import SiteRef
from service.stewardship import scope as scopes
from service.stewardship.costs import CostKey
from service.stewardship.resources import ACTIVITY_METRICS, UnitCosts, resources
from service.stewardship.scope import Scope
from service.stewardship.shapes import (
    Dashboard,
    GroupValue,
    OutcomeJson,
    ResourcesJson,
    SiteCostsJson,
    SpcSummary,
    TrendPoint,
)
from service.stewardship.spec import DOMAIN_TITLES, DOMAINS, RESOURCE_METRICS, FrameworkSpec

TREND_MONTHS = 12
STATUS_RULE = (
    "met: the month's value is at or better than the target in the outcome's direction; "
    "not_met: worse; suppressed: the value is hidden by disclosure control; no_data: nothing to "
    "count this month."
)
INEQUALITY_RULE = (
    "An inequalities outcome's value is the gap between the highest and the lowest published "
    "group of its equity split (groups not known, and hidden groups, are left out); its target "
    "and direction apply to the gap."
)


@dataclass(frozen=True)
class FrameworkVersion:
    """The framework version a month's dashboard uses."""

    framework_id: uuid.UUID
    version: int
    created_at: datetime
    spec: FrameworkSpec


def metrics_needed(spec: FrameworkSpec) -> list[str]:
    """The report metrics a dashboard of ``spec`` reads, for a ``FigureStore`` of just those."""
    named = {o.metric for o in spec.outcomes} | set(ACTIVITY_METRICS.values())
    return [m for m in REGISTRY if m in named]


def status(value: ShownValue, target: float, direction: str) -> str:
    if value is None:
        return "no_data"
    if value == SUPPRESSED or isinstance(value, str):
        return "suppressed"
    better_or_equal = value >= target if direction == "higher" else value <= target
    return "met" if better_or_equal else "not_met"


def _gap(groups: dict[str, Cell]) -> ShownValue:
    values = [
        float(c.value)
        for group, c in groups.items()
        if group != NOT_KNOWN and isinstance(c.value, int | float)
    ]
    if len(values) < 2:
        return SUPPRESSED if any(c.value == SUPPRESSED for c in groups.values()) else None
    return round(max(values) - min(values), 1)


class _Month:
    """One month's figures for the framework's scope, worked out once per month."""

    def __init__(
        self, store: FigureStore, month: str, scope: Scope, costs: UnitCosts, spec: FrameworkSpec
    ) -> None:
        self.store, self.month, self.scope = store, month, scope
        self._resources: ResourcesJson | None = None
        self._costs, self._held = costs, spec.resources

    def resources(self) -> ResourcesJson:
        if self._resources is None:
            self._resources = resources(self.store, self.month, self.scope, self._costs, self._held)
        return self._resources

    def cell(self, metric_id: str) -> Cell:
        if metric_id in RESOURCE_METRICS:
            value = self.resources().get(metric_id)
            shown: ShownValue = value if isinstance(value, int | float | str) else None
            return Cell(None, None, shown)
        metric = REGISTRY[metric_id]
        return scopes.cell(self.store, metric, self.month, self.scope)


def _split(months: dict[str, _Month], metric_id: str, by: str) -> dict[str, dict[str, Cell]]:
    """Each month's equity groups of a report metric over the scope (none for a resource
    figure, which has no split)."""
    metric = REGISTRY.get(metric_id)
    if metric is None or not months:
        return {}
    first = next(iter(months.values()))
    return scopes.equity_groups(first.store, metric, list(months), first.scope, by)


def _header(metric_id: str) -> tuple[str, str]:
    metric = REGISTRY.get(metric_id)
    if metric is not None:
        header = metric_header(metric)
        return header["title"], header["unit"]
    title = RESOURCE_METRICS.get(metric_id, metric_id)
    return title, "GBP" if metric_id.endswith("_gbp") else ""


def _outcome(
    spec_outcome: Any,
    months: dict[str, _Month],
    month: str,
    read_spc: Callable[[list[ShownValue], float, str], SpcSummary | None],
) -> OutcomeJson:
    title, unit = _header(spec_outcome.metric)
    by = spec_outcome.equity_split if spec_outcome.domain == "inequalities" else None
    trend: list[TrendPoint] = []
    current: Cell = Cell(None, None, None)
    group_values: list[GroupValue] = []
    split = _split(months, spec_outcome.metric, by) if by else {}
    for m, figures in months.items():
        if by:
            groups = split.get(m, {})
            value = _gap(groups)
            if m == month:
                current = Cell(None, None, value)
                group_values = [{"group": g, "value": c.value} for g, c in groups.items()]
        else:
            shown = figures.cell(spec_outcome.metric)
            value = shown.value
            if m == month:
                current = shown
        trend.append({"month": m, "value": value})
    out: OutcomeJson = {
        "domain": spec_outcome.domain,
        "domain_title": DOMAIN_TITLES[spec_outcome.domain],
        "metric": spec_outcome.metric,
        "title": title,
        "unit": unit,
        "value": current.value,
        "numerator": current.numerator,
        "denominator": current.denominator,
        "target": spec_outcome.target,
        "direction": spec_outcome.direction,
        "status": status(current.value, spec_outcome.target, spec_outcome.direction),
        "trend": trend,
        "spc": read_spc([p["value"] for p in trend], spec_outcome.target, spec_outcome.direction),
    }
    if by:
        out["equity_split"] = by
        out["groups"] = group_values
    return out


def no_spc(values: list[ShownValue], target: float, direction: str) -> SpcSummary | None:
    return None


def xmr_summary(values: list[ShownValue], target: float, direction: str) -> SpcSummary | None:
    """Making Data Count's reading of the months: an XmR chart of the published values (hidden
    months are gaps), its variation icon and, against the target, its assurance icon."""
    numbers = [
        float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None for v in values
    ]
    if sum(v is not None for v in numbers) < 2:
        return None
    improvement: spc.Improvement = "increase" if direction == "higher" else "decrease"
    chart = spc.xmr(numbers, target=target, improvement=improvement)
    return {
        "variation": chart.variation_icon,
        "assurance": chart.assurance_icon,
        "mean": None if chart.mean is None else round(chart.mean, 2),
        "lower": None if chart.lower is None else round(chart.lower, 2),
        "upper": None if chart.upper is None else round(chart.upper, 2),
        "too_few_points": chart.too_few_points,
    }


def _site_ref(site: Site) -> SiteRef:
    return {"id": str(site.id), "code": site.code, "name": site.name}


def _unit_costs(scope: Scope, costs: UnitCosts) -> list[SiteCostsJson]:
    keys: list[CostKey] = [
        "bed_day_gbp",
        "admission_gbp",
        "ae_attendance_gbp",
        "nurse_hour_gbp",
        "kit_patient_month_gbp",
    ]
    return [
        {
            "site": _site_ref(site),
            "unit_costs": [
                {
                    "key": key,
                    "gbp": costs[site.id][key].gbp,
                    "source": costs[site.id][key].source,
                    "year": costs[site.id][key].year,
                    "overridden": costs[site.id][key].overridden,
                }
                for key in keys
            ],
        }
        for site in scope.sites
    ]


def framework_json(framework: FrameworkVersion) -> dict[str, Any]:
    spec = framework.spec
    return {
        "id": str(framework.framework_id),
        "name": spec.name,
        "version": framework.version,
        "site_ids": [str(s) for s in spec.site_ids],
        "aim": spec.aim,
        "objectives": list(spec.objectives),
        "population": {
            "cohorts": list(spec.population.cohorts),
            "description": spec.population.description,
        },
        "resources": {
            "team_wte": spec.resources.team_wte,
            "budget_gbp": spec.resources.budget_gbp,
            "note": spec.resources.note,
        },
    }


def build(
    store: FigureStore,
    framework: FrameworkVersion,
    month: str,
    costs: UnitCosts,
    *,
    before_after: dict[str, Any] | None = None,
    scenarios: list[dict[str, Any]] | None = None,
    read_spc: Callable[[list[ShownValue], float, str], SpcSummary | None] = xmr_summary,
    trend_months: int = TREND_MONTHS,
) -> Dashboard:
    """The dashboard of ``framework`` for ``month`` (``costs``: each scope site's unit costs)."""
    check_month(month, store.now)
    spec = framework.spec
    scope = scopes.scope_of(store, spec.site_ids)
    months = last_months(month, trend_months)
    store.by_site(months)  # every month's cells in one pass before the outcomes read them
    figures = {m: _Month(store, m, scope, costs, spec) for m in months}
    order = {domain: i for i, domain in enumerate(DOMAINS)}
    outcomes = [
        _outcome(o, figures, month, read_spc)
        for o in sorted(spec.outcomes, key=lambda o: order[o.domain])
    ]
    return {
        "month": month,
        "framework": framework_json(framework),
        "outcomes": outcomes,
        "resources": figures[month].resources(),
        "before_after": before_after,
        "scenarios": scenarios or [],
        "disclosure": disclosure_meta(),
        "meta": {
            "framework_id": str(framework.framework_id),
            "name": spec.name,
            "version": framework.version,
            "version_created_at": framework.created_at.isoformat(),
            "scope": scope.label,
            "sites": [_site_ref(s) for s in scope.sites],
            "month": month,
            "months": months,
            "generated_at": store.now.isoformat(),
            "unit_costs": _unit_costs(scope, costs),
            "status_rule": STATUS_RULE,
            "inequality_rule": INEQUALITY_RULE,
        },
    }
