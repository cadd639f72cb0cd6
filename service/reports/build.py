"""The reports as use cases: network, site, equity split, a team's own figures, funnel plots and
trends, shaped from the disclosed cells of ``service.reports.figures``.

The API (``service.reports.api``), the report pages and ``mhf report`` all build them here, so a
figure is published the same way wherever it is released. Shaping (the network median of the
published site values, funnel limits) happens after disclosure: nothing derived from a
suppressed figure is ever published.
"""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.deps import Principal
from service.models import Patient, ReportSnapshot, Site, Team
from service.problems import NotFound, Unprocessable, field_error
from service.reports import disclosure
from service.reports.disclosure import Cell, ShownValue
from service.reports.figures import Figures, FigureStore, disclose_breakdowns, teams
from service.reports.funnel import funnel_limits
from service.reports.groups import EQUITY_DIMENSIONS, GROUP_ORDER
from service.reports.metrics import REGISTRY, Metric
from service.reports.period import (
    check_month,
    current_month,
    last_months,
    month_of,
    report_month,
    shift_month,
)
from service.reports.runner import EMPTY, Grouped, MetricValue
from service.reports.shapes import (
    CellJson,
    DisclosureMeta,
    EquityMetric,
    EquityReport,
    FunnelData,
    FunnelPoint,
    MetricDefinition,
    MetricHeader,
    NetworkMetric,
    NetworkReport,
    ReportMeta,
    SiteMetric,
    SiteRef,
    SiteReport,
    TeamMetric,
    TeamReport,
    TeamTrendPoint,
    TrendSeries,
    UnsuppressedFigure,
)
from service.timeutil import LONDON

DEFAULT_TREND_MONTHS = 12
NETWORK_KEY = "network"


# --- what a request names ---------------------------------------------------------------------


def find_site(session: Session, site_id: uuid.UUID) -> Site:
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound("No such site.")
    return site


def own_team(session: Session, principal: Principal, team_id: uuid.UUID) -> Team:
    """One of the caller's own teams; any other team is not found, not forbidden."""
    team = session.get(Team, team_id) if team_id in principal.team_ids else None
    if team is None:
        raise NotFound("No such team.")
    return team


def find_metric(metric_id: str, *, proportion: bool = False) -> Metric:
    metric = REGISTRY.get(metric_id)
    if metric is None:
        raise field_error("metric", "unknown metric id (see GET /api/v1/reports/metrics)")
    if proportion and not metric.is_proportion:
        raise field_error("metric", "funnel plots are drawn for proportion metrics only")
    return metric


# --- parts every report shares ----------------------------------------------------------------


def cell_json(cell: Cell) -> CellJson:
    return {"numerator": cell.numerator, "denominator": cell.denominator, "value": cell.value}


def unsuppressed_json(metric: Metric, value: MetricValue) -> UnsuppressedFigure:
    shown = value.value if value.value is None else round(value.value, 2)
    return {
        "numerator": value.numerator,
        "denominator": value.denominator,
        "value": shown,
        "people": value.n,
    }


def metric_header(metric: Metric) -> MetricHeader:
    return {
        "id": metric.id,
        "title": metric.title,
        "section": metric.section,
        "kind": metric.kind,
        "unit": metric.unit,
    }


def definitions() -> list[MetricDefinition]:
    return [
        {
            **metric_header(m),
            "numerator": m.numerator,
            "denominator": m.denominator,
            "description": m.description,
            "higher_is_better": m.higher_is_better,
            "percentile": m.percentile if m.kind in ("median", "percentile") else None,
            "sql": m.sql(),
        }
        for m in REGISTRY.values()
    ]


PERCENT_RULE = (
    "every percentage or rate is its own row's shown numerator over its own shown denominator, "
    "and where every site's count is shown the network's count is the sum of the sites' shown "
    "counts: so the network's figure always lies within its sites' range and each can be "
    "checked from the counts beside it; where a site's count is *, the network's count is its "
    "own total rounded to the nearest 5"
)
MEDIAN_RULE = (
    "the median of sites is published only when every site's figure is published; when any "
    "site's figure is *, the median is not available"
)


def disclosure_meta() -> DisclosureMeta:
    return {
        "applied": True,
        "suppressed_symbol": disclosure.SUPPRESSED,
        "suppressed_counts": [disclosure.SMALLEST_SUPPRESSED, disclosure.LARGEST_SUPPRESSED],
        "rounding_base": disclosure.ROUNDING_BASE,
        "percent_decimals": disclosure.PERCENT_DECIMALS,
        "rules": [
            "counts of 1-7 shown as *; other counts rounded to the nearest 5",
            "percentages and rates computed from the rounded figures",
            PERCENT_RULE,
            MEDIAN_RULE,
            "any figure resting on 1-7 people shown as *",
            "where a reader could narrow a hidden figure to one value from the published figures "
            "and the relations between them (parts add up to their total, a numerator is at "
            "most its denominator), the smallest shown non-zero figure beside it is hidden too, "
            "until every hidden figure keeps at least two possible values (a linear-programming "
            "audit)",
            "teams and equity groups are published only under a site whose figure is shown, and "
            "never narrow what the site's own figure says",
        ],
        "reader_model": {
            "shown_count": "a shown count v means the true count is between max(8, v-2) and v+2",
            "suppressed": "* means at least 1 (a small count or a complementary suppression)",
            "zero": "0 means 0",
            "null": "in a team or group breakdown: not published (the site's figure is hidden)",
            "network": "where every site's count is shown, the network's count is their sum (the "
            "true total lies within 2 per site of it); otherwise a shown count as above",
        },
        "least_possible_values": disclosure.LEAST_POSSIBLE_VALUES,
    }


def _site_ref(site: Site) -> SiteRef:
    return {"id": str(site.id), "code": site.code, "name": site.name}


def _median_of_shown(values: Iterable[ShownValue]) -> float | None:
    """The median of the sites' published values, only when no site's value is hidden: a median
    over the shown sites alone would describe a different set of sites (two of three hidden,
    the "median" is the third site's figure) and could narrow what the hidden ones are."""
    shown = list(values)
    if any(isinstance(v, str) for v in shown):
        return None
    numbers = [float(v) for v in shown if isinstance(v, int | float) and not isinstance(v, bool)]
    return round(statistics.median(numbers), 2) if numbers else None


def _meta(month: str, now: datetime, by_month: dict[str, Figures]) -> ReportMeta:
    period = check_month(month, now)
    return {
        "generated_at": now.isoformat(),
        "period": {
            "first_day": period.first_day.isoformat(),
            "last_day": period.last_day.isoformat(),
        },
        "complete_month": period.complete,
        "trend_months": [m for m in by_month],
        "sources": {m: f.source for m, f in by_month.items()},
    }


# --- the network report ---------------------------------------------------------------------


def network_report(
    store: FigureStore, month: str, trend_months: int = DEFAULT_TREND_MONTHS
) -> NetworkReport:
    months = last_months(month, max(trend_months, 1))
    all_sites = store.sites()
    site_ids = [s.id for s in all_sites]
    codes = {s.id: s.code for s in all_sites}
    by_month = store.get(months)
    disclosed = store.by_site(months)
    metrics_out: list[NetworkMetric] = []
    for metric in REGISTRY.values():
        cells = disclosed[month][metric.id]
        metrics_out.append(
            {
                **metric_header(metric),
                "network": cell_json(cells.network),
                "network_median": _median_of_shown(c.value for c in cells.sites.values()),
                "sites": [
                    {"site_id": str(s), "code": codes[s], **cell_json(cells.sites[s])}
                    for s in site_ids
                ],
                "trend": [
                    {
                        "month": m,
                        "network": disclosed[m][metric.id].network.value,
                        "sites": {
                            codes[s]: disclosed[m][metric.id].sites[s].value for s in site_ids
                        },
                    }
                    for m in months
                ],
            }
        )
    meta = _meta(month, store.now, by_month)
    meta["site_count"] = len(all_sites)
    return {
        "month": month,
        "source": by_month[month].source,
        "sites": [_site_ref(s) for s in all_sites],
        "metrics": metrics_out,
        "disclosure": disclosure_meta(),
        "meta": meta,
    }


# --- the site report ------------------------------------------------------------------------


def site_report(
    store: FigureStore, site: Site, month: str, trend_months: int = DEFAULT_TREND_MONTHS
) -> SiteReport:
    months = last_months(month, max(trend_months, 1))
    all_sites = store.sites()
    site_teams = teams(store.session, site.id)
    by_month = store.get(months)
    disclosed = store.by_site(months)
    by_team = store.by_team(month)
    metrics_out: list[SiteMetric] = []
    for metric in REGISTRY.values():
        cells = disclosed[month][metric.id]
        team_cells = [by_team[metric.id][t.id] for t in site_teams]
        metrics_out.append(
            {
                **metric_header(metric),
                "site": cell_json(cells.sites[site.id]),
                "network": cell_json(cells.network),
                "network_median": _median_of_shown(c.value for c in cells.sites.values()),
                "teams": [
                    {"team_id": str(t.id), "name": t.name, **cell_json(c)}
                    for t, c in zip(site_teams, team_cells, strict=True)
                ],
                "trend": [
                    {
                        "month": m,
                        "site": disclosed[m][metric.id].sites[site.id].value,
                        "network": disclosed[m][metric.id].network.value,
                    }
                    for m in months
                ],
            }
        )
    meta = _meta(month, store.now, by_month)
    meta["site_count"] = len(all_sites)
    meta["team_count"] = len(site_teams)
    return {
        "month": month,
        "source": by_month[month].source,
        "site": _site_ref(site),
        "metrics": metrics_out,
        "disclosure": disclosure_meta(),
        "meta": meta,
    }


# --- equity ---------------------------------------------------------------------------------


def equity_report(store: FigureStore, site: Site, month: str, by: str) -> EquityReport:
    """A site's metrics by equity group, from the month-end snapshot where it is frozen."""
    if by not in EQUITY_DIMENSIONS:
        raise ValueError(f"by must be one of {', '.join(EQUITY_DIMENSIONS)}")
    now = store.now
    period = check_month(month, now)
    store.equity(month, by, *REGISTRY)  # every metric's groups in one pass
    results = {
        mid: Grouped(store.equity(month, by, mid).get(site.id, {}), EMPTY) for mid in REGISTRY
    }
    order = GROUP_ORDER[by]
    site_cells = store.by_site([month])[month]
    # Groups are protected under the site's published cell, like teams: the same rules make
    # every equity split safe alongside the site report and the other splits.
    groups = disclose_breakdowns(
        store.get([month])[month].by_metric, results, site_cells, {site.id: list(order)}
    )
    metrics_out: list[EquityMetric] = []
    for metric in REGISTRY.values():
        cells = [groups[metric.id][g] for g in order]
        total = site_cells[metric.id].sites[site.id]
        metrics_out.append(
            {
                **metric_header(metric),
                "total": cell_json(total),
                "groups": [{"group": g, **cell_json(c)} for g, c in zip(order, cells, strict=True)],
            }
        )
    return {
        "month": month,
        "site": _site_ref(site),
        "by": by,
        "groups": order,
        "metrics": metrics_out,
        "disclosure": disclosure_meta(),
        "meta": {
            "generated_at": now.isoformat(),
            "source": "live",
            "group_count": len(order),
            "age_on": period.last_day.isoformat(),
        },
    }


# --- the team report (clinicians: their own team, unsuppressed) -------------------------------


def team_report(
    store: FigureStore, team: Team, month: str, trend_months: int = DEFAULT_TREND_MONTHS
) -> TeamReport:
    months = last_months(month, max(trend_months, 1))
    by_month = store.get(months, "team")
    metrics_out: list[TeamMetric] = []
    for metric in REGISTRY.values():
        current = by_month[month].by_metric[metric.id].groups.get(team.id, EMPTY)
        trend: list[TeamTrendPoint] = []
        for m in months:
            value = by_month[m].by_metric[metric.id].groups.get(team.id, EMPTY)
            trend.append(
                {"month": m, "value": None if value.value is None else round(value.value, 2)}
            )
        metrics_out.append(
            {**metric_header(metric), "team": unsuppressed_json(metric, current), "trend": trend}
        )
    return {
        "month": month,
        "source": by_month[month].source,
        "team": {"id": str(team.id), "name": team.name, "site_id": str(team.site_id)},
        "metrics": metrics_out,
        # The caller's own team: small numbers are their own patients, shown as they are.
        "disclosure": {"applied": False},
        "meta": _meta(month, store.now, by_month),
    }


# --- funnel plots and trends ----------------------------------------------------------------


# Proportions of days, not of people: their funnels are drawn against the patients.
PEOPLE_AXIS = frozenset({"weight_adherence"})
CASE_MIX_NOTE = (
    "Funnels compare sites as if their patients were alike; differences in case mix are not "
    "adjusted for."
)


def proportion_axis(metric: Metric) -> str:
    """The x-axis in words: what the proportion's denominator counts."""
    return f"{metric.denominator} (denominator)" if metric.denominator else "Denominator"


def funnel_data(store: FigureStore, metric: Metric, month: str) -> FunnelData:
    """Sites against the network proportion, from the disclosed (rounded) figures.

    The limits are drawn against each site's ``x``: its denominator, except for a proportion
    of days (``PEOPLE_AXIS``), whose days cluster within patients: there the limits use the
    patients behind the figure (rounded like any count), else they would be as tight as if
    every day were an independent patient."""
    if not metric.is_proportion:
        raise ValueError("funnel plots are for proportion metrics")
    all_sites = store.sites()
    cells = store.by_site([month])[month][metric.id]
    people_axis = metric.id in PEOPLE_AXIS
    raw = store.get([month])[month].by_metric[metric.id].groups if people_axis else {}
    network = cells.network
    points: list[FunnelPoint] = []
    suppressed: list[str] = []
    for site in all_sites:
        cell = cells.sites[site.id]
        if (
            isinstance(cell.numerator, int)
            and isinstance(cell.denominator, int)
            and cell.denominator > 0
        ):
            x: float = cell.denominator
            if people_axis:
                # Only beside a published value, which already rests on 8 or more people.
                people = raw[site.id].n if site.id in raw else 0
                if not isinstance(cell.value, float | int) or disclosure.is_small(people):
                    suppressed.append(site.code)
                    continue
                x = disclosure.round_to_base(people)
            points.append(
                {
                    "code": site.code,
                    "numerator": cell.numerator,
                    "denominator": cell.denominator,
                    "x": x,
                    "value": cell.value,
                }
            )
        else:
            suppressed.append(site.code)
    target = None
    if (
        isinstance(network.numerator, int)
        and isinstance(network.denominator, int)
        and network.denominator
    ):
        target = network.numerator / network.denominator
    max_den = max((p["x"] for p in points), default=0)
    return {
        "metric": metric_header(metric),
        "month": month,
        "kind": "proportion",
        "x_label": "Patients behind the figure" if people_axis else proportion_axis(metric),
        "y_label": f"{metric.title} (%)",
        "case_mix": CASE_MIX_NOTE,
        "network": {
            "numerator": network.numerator,
            "denominator": network.denominator,
            "value": network.value,
        },
        "points": points,
        "suppressed_sites": suppressed,
        "limits": funnel_limits(target, max_den) if target is not None else [],
        "disclosure": disclosure_meta(),
        "meta": {
            "site_count": len(all_sites),
            "limits": ["95%", "99.8%"],
            "generated_at": store.now.isoformat(),
        },
    }


def trend_series(store: FigureStore, metric: Metric, month: str, trend_months: int) -> TrendSeries:
    report_months = last_months(month, max(trend_months, 1))
    all_sites = store.sites()
    disclosed = store.by_site(report_months)
    series: dict[str, list[ShownValue]] = {NETWORK_KEY: []}
    for s in all_sites:
        series[s.code] = []
    for m in report_months:
        cells = disclosed[m][metric.id]
        series[NETWORK_KEY].append(cells.network.value)
        for s in all_sites:
            series[s.code].append(cells.sites[s.id].value)
    return {"metric": metric_header(metric), "months": report_months, "series": series}


# --- which months have data -----------------------------------------------------------------


def first_month(session: Session, now: datetime) -> str:
    """The first month with data: the earliest patient enrolment or record creation, or the
    earliest frozen snapshot; the current month when there is none yet."""
    enrolled, created = session.execute(
        select(func.min(Patient.enrolled_on), func.min(Patient.created_at))
    ).one()
    snapshot = session.scalar(select(func.min(ReportSnapshot.month)))
    candidates = [current_month(now)]
    if enrolled is not None:
        candidates.append(month_of(enrolled))
    if created is not None:
        candidates.append(month_of(created.astimezone(LONDON).date()))
    if snapshot is not None:
        candidates.append(snapshot)
    return min(candidates)


def months_with_data(session: Session, now: datetime) -> list[str]:
    """The months a report can be read for, newest first, from the first month with data."""
    first, current = first_month(session, now), current_month(now)
    months = [current]
    while months[-1] > first:
        months.append(shift_month(months[-1], -1))
    return months


def data_month(session: Session, month: str | None, now: datetime) -> str:
    """``report_month``, and 422 naming ``month`` for a month before the first with data."""
    chosen = report_month(month, now)
    first = first_month(session, now)
    if month is not None and chosen < first:
        message = f"is before the first month with data ({first})"
        raise Unprocessable(
            f"month: {message}",
            extra={"errors": [{"field": "month", "message": message, "type": "value_error"}]},
        )
    return chosen
