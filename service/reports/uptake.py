"""Uptake: who is being missed. Each site's patients on the pathway at the month's end, per
equity group, over the people eligible for it (the site's eligible population, loaded from the
ICS's register: ``service.reports.population``).

**Enrolled** is the ``active_month_end`` metric: patients enrolled on or before the month's last
day (today, for the month in progress) and not discharged by it, counted in SQL by the same
group keys as the equity splits. Its site cells and group cells are the very cells the network
report and the equity splits publish (``FigureStore``), so releasing uptake beside them shows no
second rounding of the same count.

**Eligible** is the latest load of each site dated on or before the month's last day. The
counts are not about patients of the service and are published as loaded; a reader is assumed
to know them exactly (the loads are listed by the API). So the audit below also assumes a
reader who takes each group's enrolled count to be at most its eligible count: a hidden
enrolled count that this would narrow to one value withholds the site's groups.

**Uptake** is the disclosed enrolled count over the eligible count, so a hidden (``*``) count
gives a hidden uptake, and nothing (a percentage, a funnel point, a sentence of the reading) is
derived from a figure that is not published.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from service.reports import disclosure, population
from service.reports.build import cell_json, disclosure_meta
from service.reports.disclosure import Cell, Shown, ShownValue
from service.reports.disclosure_audit import Question, Relation, View, ranges
from service.reports.figures import FigureStore, disclose_breakdowns
from service.reports.funnel import Z_998, funnel_limits, limits
from service.reports.groups import EQUITY_DIMENSIONS, GROUP_ORDER, NOT_KNOWN
from service.reports.period import check_month
from service.reports.runner import EMPTY, Grouped
from service.reports.shapes import CellJson, DisclosureMeta, FunnelLimit

ENROLLED_METRIC = "active_month_end"
# The groups named in the reading of who is being missed, lowest uptake first.
LOWEST_NAMED = 2
# A group is named only with at least this many eligible people: below it, one person more or
# less moves the uptake by five points or more, which is chance rather than a pattern.
LEAST_ELIGIBLE_NAMED = 20
# Groups that say a value was not recorded: a gap in the register, not people missed.
UNRECORDED = frozenset({NOT_KNOWN, "Not stated", "unknown"})


class UptakeGroup(TypedDict):
    group: str
    enrolled: Shown | None
    eligible: int | None
    uptake: ShownValue


class UptakeLoad(TypedDict):
    id: str
    as_of: str
    source: str


class UptakeSite(TypedDict):
    site_id: str
    code: str
    name: str
    enrolled: CellJson
    eligible: int | None
    uptake: ShownValue
    load: UptakeLoad | None
    groups: list[UptakeGroup]
    # Why the groups are not shown, where they are not.
    groups_note: str | None


class UptakeNetwork(TypedDict):
    enrolled: CellJson
    eligible: int | None
    uptake: ShownValue


class UptakeFunnelPoint(TypedDict):
    code: str
    enrolled: int
    eligible: int
    uptake: float
    # Against the 99.8 % limits of the pooled uptake: "below" is more missed than chance explains.
    position: str


class UptakeFunnel(TypedDict):
    target: float | None
    points: list[UptakeFunnelPoint]
    left_out: list[str]
    limits: list[FunnelLimit]


class UptakeReport(TypedDict):
    month: str
    by: str
    groups: list[str]
    enrolled_definition: str
    eligible_definition: str
    network: UptakeNetwork
    sites: list[UptakeSite]
    funnel: UptakeFunnel
    missed: list[str]
    disclosure: DisclosureMeta


ENROLLED_DEFINITION = (
    "Patients on the pathway at the month's end: enrolled on or before its last day (today, for "
    "the month in progress) and not discharged by it, as the 'Active at month end' metric."
)
ELIGIBLE_DEFINITION = (
    "The site's latest eligible-population load dated on or before the month's last day, as "
    "loaded (not rounded: these are not figures about the service's patients)."
)


def _uptake(enrolled: Shown | None, eligible: int | None) -> ShownValue:
    if enrolled is None or eligible is None or eligible == 0:
        return None
    return disclosure.percentage(enrolled, eligible)


@dataclass(frozen=True, slots=True)
class _Breakdown:
    """One site's enrolled groups: the true counts and what the equity split publishes."""

    counts: list[int]
    total: int
    shown: list[Shown | None]


def narrowed_by_eligible(breakdown: _Breakdown, eligible: list[int]) -> bool:
    """Whether a reader who knows the site's true count (as the equity split's audit assumes)
    and takes each group's enrolled count to be at most its eligible count could narrow a
    hidden group to fewer than two values. Groups whose enrolled count exceeds the register's
    (a register behind the service) carry no such bound: the reader's belief is false there."""
    hidden = [i for i, s in enumerate(breakdown.shown) if s == disclosure.SUPPRESSED]
    if not hidden:
        return False
    bounds: list[tuple[float, float]] = []
    for shown, count, most in zip(breakdown.shown, breakdown.counts, eligible, strict=True):
        lo, hi = disclosure.reader_interval(shown if shown is not None else 0)
        if count <= most:
            hi = min(hi, float(most))
        bounds.append((lo, hi))
    total = len(bounds)
    bounds.append((float(breakdown.total), float(breakdown.total)))
    view = View(bounds, [Relation.total(total, list(range(total)))])
    answers = ranges([view], [Question(0, i) for i in hidden])
    return any(disclosure.possible_values(a) < disclosure.LEAST_POSSIBLE_VALUES for a in answers)


def uptake_report(store: FigureStore, month: str, by: str) -> UptakeReport:
    """Every site's uptake by the groups of ``by``, and the funnel of sites' uptake."""
    if by not in EQUITY_DIMENSIONS:
        raise ValueError(f"by must be one of {', '.join(EQUITY_DIMENSIONS)}")
    period = check_month(month, store.now)
    order = GROUP_ORDER[by]
    all_sites = store.sites()
    loads = population.in_force(store.session, period.last_day, by)
    metric_id = ENROLLED_METRIC
    site_cells = store.by_site([month])[month][metric_id]
    site_figures = store.get([month])[month].by_metric
    true_groups = store.equity(month, by, metric_id)
    parts = Grouped(
        {(s.id, g): true_groups.get(s.id, {}).get(g, EMPTY) for s in all_sites for g in order},
        EMPTY,
    )
    # The same call the equity split makes, for this one metric: the same cells.
    groups = disclose_breakdowns(
        site_figures,
        {metric_id: parts},
        {metric_id: site_cells},
        {s.id: [(s.id, g) for g in order] for s in all_sites},
    )[metric_id]
    sites_out: list[UptakeSite] = []
    for site in all_sites:
        load = loads.get(site.id)
        site_cell = site_cells.sites[site.id]
        eligible = load.groups if load is not None else None
        eligible_total = sum(eligible.values()) if eligible is not None else None
        shown = [groups[(site.id, g)].numerator for g in order]
        note = _groups_note(load, site_cell, shown)
        if note is None and eligible is not None:
            true_total = site_figures[metric_id].groups.get(site.id, EMPTY).numerator or 0
            breakdown = _Breakdown(
                [int(parts.groups[(site.id, g)].numerator or 0) for g in order],
                int(true_total),
                shown,
            )
            if narrowed_by_eligible(breakdown, [eligible.get(g, 0) for g in order]):
                note = (
                    "Withheld: with the eligible counts, a hidden small number of enrolled "
                    "patients could be worked out."
                )
        groups_out: list[UptakeGroup] = []
        for g, enrolled in zip(order, shown, strict=True):
            published = enrolled if note is None else None
            group_eligible = eligible.get(g) if eligible is not None else None
            groups_out.append(
                {
                    "group": g,
                    "enrolled": published,
                    "eligible": group_eligible,
                    "uptake": _uptake(published, group_eligible),
                }
            )
        sites_out.append(
            {
                "site_id": str(site.id),
                "code": site.code,
                "name": site.name,
                "enrolled": cell_json(site_cell),
                "eligible": eligible_total,
                "uptake": _uptake(site_cell.numerator, eligible_total),
                "load": None
                if load is None
                else {
                    "id": str(load.load_id),
                    "as_of": load.as_of.isoformat(),
                    "source": load.source,
                },
                "groups": groups_out,
                "groups_note": note,
            }
        )
    network = _network(site_cells.network, sites_out)
    funnel = uptake_funnel(sites_out)
    return {
        "month": month,
        "by": by,
        "groups": list(order),
        "enrolled_definition": ENROLLED_DEFINITION,
        "eligible_definition": ELIGIBLE_DEFINITION,
        "network": network,
        "sites": sites_out,
        "funnel": funnel,
        "missed": who_is_missed(sites_out, funnel, by),
        "disclosure": disclosure_meta(),
    }


def _groups_note(
    load: population.InForce | None, site_cell: Cell, shown: list[Shown | None]
) -> str | None:
    if load is None:
        return "No eligible population loaded for this month."
    if load.groups is None:
        return "The eligible population loaded leaves this dimension out."
    if any(s is None for s in shown) or site_cell.numerator == disclosure.SUPPRESSED:
        return "Not published: the site's own figure is hidden."
    return None


def _network(cell: Cell, sites: list[UptakeSite]) -> UptakeNetwork:
    """The network's uptake only where every site has a load of this dimension: otherwise its
    enrolled patients and its eligible people would count different sites."""
    complete = bool(sites) and all(s["eligible"] is not None for s in sites)
    eligible = sum(s["eligible"] or 0 for s in sites) if complete else None
    return {
        "enrolled": cell_json(cell),
        "eligible": eligible,
        "uptake": _uptake(cell.numerator, eligible),
    }


def uptake_funnel(sites: list[UptakeSite]) -> UptakeFunnel:
    """Sites' uptake against the pooled uptake of the sites plotted, denominators the eligible
    people; only sites whose enrolled count is published as a number."""
    plotted: list[tuple[str, int, int]] = []
    left_out: list[str] = []
    for site in sites:
        enrolled = site["enrolled"]["numerator"]
        eligible = site["eligible"]
        if isinstance(enrolled, int) and eligible:
            plotted.append((site["code"], enrolled, eligible))
        else:
            left_out.append(site["code"])
    all_eligible = sum(e for _, _, e in plotted)
    if not all_eligible:
        return {"target": None, "points": [], "left_out": left_out, "limits": []}
    target = sum(n for _, n, _ in plotted) / all_eligible
    # A pooled uptake over 100 % (registers behind the service) has no binomial funnel.
    centre = min(target, 1.0)
    points: list[UptakeFunnelPoint] = []
    for code, enrolled, eligible in plotted:
        low, high = limits(centre, eligible, Z_998)
        share = enrolled / eligible
        position = "below" if share < low else "above" if share > high else "inside"
        points.append(
            {
                "code": code,
                "enrolled": enrolled,
                "eligible": eligible,
                "uptake": round(100 * share, disclosure.PERCENT_DECIMALS),
                "position": position,
            }
        )
    return {
        "target": round(100 * target, 2),
        "points": points,
        "left_out": left_out,
        "limits": funnel_limits(centre, max(e for _, _, e in plotted)),
    }


DIMENSION_NAMES = {
    "imd_quintile": "IMD quintile",
    "ethnicity": "ethnicity",
    "age_band": "age band",
    "sex": "sex",
}


def group_name(by: str, group: str) -> str:
    """A group as a sentence names it: "IMD quintile 1", "aged 85+", "Asian"."""
    if group == NOT_KNOWN:
        return f"{DIMENSION_NAMES[by]} not known"
    if by == "imd_quintile":
        return f"IMD quintile {group}"
    if by == "age_band":
        return f"aged {group}"
    return group


def who_is_missed(sites: list[UptakeSite], funnel: UptakeFunnel, by: str) -> list[str]:
    """Plain sentences from published figures only: at each site, the groups of lowest uptake
    (at most ``LOWEST_NAMED`` of them, each of at least that many eligible people, a
    recorded value, and below the site's own uptake where that is published), and the sites
    below the funnel."""
    lines: list[str] = []
    for site in sites:
        overall = site["uptake"]
        ceiling = float(overall) if isinstance(overall, int | float) else float("inf")
        shown = sorted(
            (
                (float(g["uptake"]), g)
                for g in site["groups"]
                if isinstance(g["uptake"], int | float)
                and (g["eligible"] or 0) >= LEAST_ELIGIBLE_NAMED
                and g["group"] not in UNRECORDED
                and float(g["uptake"]) < ceiling
            ),
            key=lambda pair: pair[0],
        )
        if not shown:
            continue
        lowest = " and ".join(
            f"{group_name(by, g['group'])} ({value:g} % of {g['eligible']} eligible)"
            for value, g in shown[:LOWEST_NAMED]
        )
        against = (
            f", against {overall:g} % of all its eligible people"
            if isinstance(overall, int | float)
            else ""
        )
        lines.append(
            f"{site['name']}: by {DIMENSION_NAMES[by]}, uptake is lowest in {lowest}{against}."
        )
    names = {site["code"]: site["name"] for site in sites}
    for point in funnel["points"]:
        if point["position"] == "below" and funnel["target"] is not None:
            lines.append(
                f"{names[point['code']]}: uptake ({point['uptake']:g} %) is below the funnel's "
                f"99.8 % limit around the sites' pooled {funnel['target']:.1f} %, more missed "
                "than chance would explain."
            )
    return lines
