"""The resources a framework stewards, in a month: activity from the report metrics, priced with
each site's unit costs in force.

Every money figure is a published (disclosed) count times a unit cost, so it says nothing about
people that the count does not. Over several sites with their own costs, a cost needs each
site's count; where some sites' counts are hidden but the scope's total is shown and every hidden
site prices the same way, the hidden sites' share is the total less the shown sites (which any
reader of the site report can already work out), so the cost is still published.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from service.reports.disclosure import SUPPRESSED, Cell, Shown, ShownValue
from service.reports.figures import FigureStore
from service.reports.metrics import REGISTRY
from service.stewardship.costs import CostInForce, CostKey
from service.stewardship.scope import Scope, cell
from service.stewardship.shapes import ResourcesJson
from service.stewardship.spec import Resources

UnitCosts = dict[uuid.UUID, dict[CostKey, CostInForce]]

# What each priced activity is counted by.
ACTIVITY_METRICS = {
    "bed_days": "bed_days",
    "admissions": "admissions_hf",
    "ae_attendances": "ae_attendances",
    "nurse_hours": "staff_hours",
    "patient_months": "patient_months",
    "caseload": "caseload",
    "staff_minutes_per_alert": "staff_minutes_per_alert",
    "staff_minutes_per_patient_month": "staff_minutes_per_patient_month",
}


def _count(value: ShownValue | Shown | None) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _money(amount: float) -> float:
    return float(round(amount))


def priced(site_counts: Sequence[tuple[Shown | None, float]], total: Shown | None) -> ShownValue:
    """Sum of count x unit cost over the sites (``total``: the scope's published count)."""
    if all(count is None for count, _ in site_counts) and total is None:
        return None
    known = [(c, cost) for c, cost in site_counts if isinstance(c, int)]
    hidden_costs = {cost for c, cost in site_counts if not isinstance(c, int)}
    amount = sum(c * cost for c, cost in known)
    if not hidden_costs:
        return _money(amount)
    if len(hidden_costs) == 1 and isinstance(total, int):
        remainder = total - sum(c for c, _ in known)
        if remainder >= 0:
            return _money(amount + remainder * hidden_costs.pop())
    return SUPPRESSED


def _metric_cells(
    store: FigureStore, metric_id: str, month: str, scope: Scope
) -> tuple[Cell | None, list[Cell]]:
    metric = REGISTRY.get(metric_id)
    if metric is None:
        return None, []
    sites = store.by_site([month])[month][metric_id].sites
    return cell(store, metric, month, scope), [sites[s] for s in scope.site_ids]


def _cost(
    store: FigureStore,
    metric_id: str,
    key: CostKey,
    month: str,
    scope: Scope,
    costs: UnitCosts,
) -> tuple[Shown | None, ShownValue]:
    total, members = _metric_cells(store, metric_id, month, scope)
    if total is None:
        return None, None
    pairs = [
        (member.numerator, costs[s][key].gbp)
        for s, member in zip(scope.site_ids, members, strict=True)
    ]
    return total.numerator, priced(pairs, total.numerator)


def _ratio(numerator: ShownValue, denominator: ShownValue, digits: int = 2) -> ShownValue:
    if SUPPRESSED in (numerator, denominator):
        return SUPPRESSED
    top, bottom = _count(numerator), _count(denominator)
    if top is None or not bottom:
        return None
    return round(top / bottom, digits)


def _per(rate: Cell | None) -> ShownValue:
    return None if rate is None else rate.value


def _add(*values: ShownValue) -> ShownValue:
    if any(v == SUPPRESSED for v in values):
        return SUPPRESSED
    numbers = [_count(v) for v in values]
    if any(n is None for n in numbers):
        return None
    return _money(sum(n for n in numbers if n is not None))


def resources(
    store: FigureStore, month: str, scope: Scope, costs: UnitCosts, held: Resources
) -> ResourcesJson:
    """The month's activity and its cost for the scope."""
    bed_days, bed_day_cost = _cost(store, "bed_days", "bed_day_gbp", month, scope, costs)
    admissions, admission_cost = _cost(store, "admissions_hf", "admission_gbp", month, scope, costs)
    ae, ae_cost = _cost(store, "ae_attendances", "ae_attendance_gbp", month, scope, costs)
    hours, nurse_cost = _cost(store, "staff_hours", "nurse_hour_gbp", month, scope, costs)
    months, kit_cost = _cost(store, "patient_months", "kit_patient_month_gbp", month, scope, costs)
    caseload_cell, _ = _metric_cells(store, "caseload", month, scope)
    caseload = caseload_cell.numerator if caseload_cell else None
    per_alert, _ = _metric_cells(store, "staff_minutes_per_alert", month, scope)
    per_month, _ = _metric_cells(store, "staff_minutes_per_patient_month", month, scope)
    return {
        "bed_days": bed_days,
        "bed_day_cost_gbp": bed_day_cost,
        "admissions": admissions,
        "admission_cost_gbp": admission_cost,
        "ae_attendances": ae,
        "ae_cost_gbp": ae_cost,
        "nurse_hours": hours,
        "nurse_cost_gbp": nurse_cost,
        "patient_months": months,
        "kit_cost_gbp": kit_cost,
        "cost_per_patient_month_gbp": _ratio(_add(nurse_cost, kit_cost), months),
        "staff_minutes_per_alert": _per(per_alert),
        "staff_minutes_per_patient_month": _per(per_month),
        "caseload": caseload,
        "team_wte": held.team_wte,
        "caseload_per_wte": _ratio(caseload, held.team_wte, 1) if held.team_wte else None,
        "budget_gbp": held.budget_gbp,
    }
