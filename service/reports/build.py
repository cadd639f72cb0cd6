"""Report assembly: figures for a month (frozen snapshot or live SQL), then disclosure and shape.

Only aggregates reach Python: one row per site, team or group and metric. Shaping them (network
median of the published site values, funnel limits, CSV rows) happens here, after disclosure, so
nothing derived from a suppressed figure is ever published.
"""

from __future__ import annotations

import csv
import io
import statistics
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import ReportSnapshot, Site, Team
from service.reports import disclosure
from service.reports.disclosure import Cell, RawCell
from service.reports.funnel import funnel_limits
from service.reports.groups import EQUITY_DIMENSIONS, GROUP_ORDER, Grouping
from service.reports.metrics import REGISTRY, Metric
from service.reports.period import Period, last_months, month_of
from service.reports.runner import Grouped, MetricValue, compute_all
from service.timeutil import LONDON

DEFAULT_TREND_MONTHS = 12
NETWORK_KEY = "network"


@dataclass(frozen=True)
class Figures:
    """One month's figures for one scope: by site (total = network) or by team."""

    month: str
    source: str  # "snapshot" or "live"
    by_metric: dict[str, Grouped]


def as_of_date(now: datetime) -> date:
    return now.astimezone(LONDON).date()


def check_month(month: str, now: datetime) -> Period:
    """The period for ``month``, cut at today; ValueError for a month not yet started."""
    return Period.for_month(month, as_of=as_of_date(now))


# --- reading figures: snapshot first --------------------------------------------------------


def _snapshot_rows(session: Session, months: list[str], scope: str) -> dict[str, list[Any]]:
    # Plain rows, not ORM objects: a year of figures is thousands of rows, read only to copy.
    snapshot = ReportSnapshot.__table__
    rows = session.execute(
        select(
            snapshot.c.month,
            snapshot.c.scope,
            snapshot.c.scope_id,
            snapshot.c.metric_id,
            snapshot.c.numerator,
            snapshot.c.denominator,
            snapshot.c.value,
            snapshot.c.n,
        ).where(snapshot.c.month.in_(months), snapshot.c.scope.in_((scope, "network")))
    ).all()
    by_month: dict[str, list[Any]] = {}
    for row in rows:
        by_month.setdefault(row.month, []).append(row)
    return by_month


def _from_snapshot(month: str, rows: list[Any], scope: str) -> Figures:
    by_metric: dict[str, Grouped] = {}
    groups: dict[str, dict[Any, MetricValue]] = {mid: {} for mid in REGISTRY}
    totals: dict[str, MetricValue] = {}
    # Unpacked, not read by attribute name: a year of figures is thousands of rows.
    for _month, row_scope, scope_id, metric_id, numerator, denominator, value, n in rows:
        if metric_id not in groups:
            continue  # a metric retired since the snapshot: nothing to show it against
        figure = MetricValue(numerator, denominator, value, n)
        if row_scope == "network":
            totals[metric_id] = figure
        elif row_scope == scope:
            groups[metric_id][scope_id] = figure
    for mid in REGISTRY:
        by_metric[mid] = Grouped(groups[mid], totals.get(mid, MetricValue(None, None, None, 0)))
    return Figures(month, "snapshot", by_metric)


def figures(
    session: Session, months: list[str], now: datetime, by: str = "site"
) -> dict[str, Figures]:
    """Figures per month by site or team (total: the network), frozen where snapshotted."""
    snapshots = _snapshot_rows(session, months, by)
    out: dict[str, Figures] = {}
    for month in months:
        if month in snapshots:
            out[month] = _from_snapshot(month, snapshots[month], by)
        else:
            period = check_month(month, now)
            out[month] = Figures(month, "live", compute_all(session, period, Grouping(by)))
    return out


class FigureStore:
    """Figures read and disclosed in this request or pack run, so a month is worked out once.

    Every report, CSV, chart and page of a month takes its disclosed cells from here, so the
    same figure is shown the same way wherever it is released (see ``disclosure``).
    """

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now
        self._cache: dict[tuple[str, str], Figures] = {}
        self._sites: list[Site] | None = None
        self._by_site: dict[str, dict[str, SiteCells]] = {}
        self._by_team: dict[str, dict[str, dict[uuid.UUID, Cell]]] = {}

    def get(self, months: list[str], by: str = "site") -> dict[str, Figures]:
        missing = [m for m in months if (m, by) not in self._cache]
        if missing:
            for month, figs in figures(self.session, missing, self.now, by).items():
                self._cache[(month, by)] = figs
        return {m: self._cache[(m, by)] for m in months}

    def sites(self) -> list[Site]:
        if self._sites is None:
            self._sites = sites(self.session)
        return self._sites

    def by_site(self, months: list[str]) -> dict[str, dict[str, SiteCells]]:
        """Each month's disclosed site cells and network cell, per metric."""
        missing = [m for m in months if m not in self._by_site]
        if missing:
            site_ids = [s.id for s in self.sites()]
            for month, figs in self.get(missing).items():
                self._by_site[month] = disclose_sites(figs, site_ids)
        return {m: self._by_site[m] for m in months}

    def by_team(self, month: str) -> dict[str, dict[uuid.UUID, Cell]]:
        """The month's disclosed team cells per metric, each site's teams under its site cell."""
        if month not in self._by_team:
            site_cells = self.by_site([month])[month]
            team_figures = self.get([month], "team")[month]
            site_figures = self.get([month])[month]
            all_teams = teams(self.session)
            self._by_team[month] = disclose_breakdowns(
                site_figures.by_metric,
                team_figures.by_metric,
                site_cells,
                {s.id: [t.id for t in all_teams if t.site_id == s.id] for s in self.sites()},
            )
        return self._by_team[month]


# --- helpers --------------------------------------------------------------------------------


def raw(value: MetricValue) -> RawCell:
    return RawCell(value.numerator, value.denominator, value.value, value.n)


def cell_json(cell: Cell) -> dict[str, Any]:
    return {"numerator": cell.numerator, "denominator": cell.denominator, "value": cell.value}


def unsuppressed_json(metric: Metric, value: MetricValue) -> dict[str, Any]:
    shown = value.value if value.value is None else round(value.value, 2)
    return {
        "numerator": value.numerator,
        "denominator": value.denominator,
        "value": shown,
        "people": value.n,
    }


def metric_header(metric: Metric) -> dict[str, Any]:
    return {
        "id": metric.id,
        "title": metric.title,
        "section": metric.section,
        "kind": metric.kind,
        "unit": metric.unit,
    }


def definitions() -> list[dict[str, Any]]:
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


def disclosure_meta() -> dict[str, Any]:
    return {
        "applied": True,
        "suppressed_symbol": disclosure.SUPPRESSED,
        "suppressed_counts": [disclosure.SMALLEST_SUPPRESSED, disclosure.LARGEST_SUPPRESSED],
        "rounding_base": disclosure.ROUNDING_BASE,
        "percent_decimals": disclosure.PERCENT_DECIMALS,
        "rules": [
            "counts of 1-7 shown as *; other counts rounded to the nearest 5",
            "percentages and rates computed from the rounded figures",
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
        },
        "least_possible_values": disclosure.LEAST_POSSIBLE_VALUES,
    }


def _median_of_shown(values: Iterable[Any]) -> float | None:
    numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return round(statistics.median(numbers), 2) if numbers else None


def sites(session: Session) -> list[Site]:
    return list(session.scalars(select(Site).order_by(Site.code)).all())


def teams(session: Session, site_id: uuid.UUID | None = None) -> list[Team]:
    query = select(Team).order_by(Team.name)
    if site_id is not None:
        query = query.where(Team.site_id == site_id)
    return list(session.scalars(query).all())


@dataclass(frozen=True)
class SiteCells:
    """One metric's disclosed month: each site's cell and the network's."""

    sites: dict[uuid.UUID, Cell]
    network: Cell


_EMPTY = MetricValue(None, None, None, 0)


def _cells(disclosed: SiteCells) -> tuple[dict[uuid.UUID, Cell], Cell]:
    return disclosed.sites, disclosed.network


def disclose_sites(figs: Figures, site_ids: list[uuid.UUID]) -> dict[str, SiteCells]:
    """Every metric's sites against the network, audited in one programme."""
    metrics = list(REGISTRY.values())
    requests = [
        disclosure.Request(
            metric.kind,
            tuple(raw(figs.by_metric[metric.id].groups.get(s, _EMPTY)) for s in site_ids),
            raw(figs.by_metric[metric.id].total),
        )
        for metric in metrics
    ]
    out = {}
    for metric, (cells, total) in zip(metrics, disclosure.disclose_many(requests), strict=True):
        out[metric.id] = SiteCells(dict(zip(site_ids, cells, strict=True)), total)
    return out


def disclose_breakdowns(
    site_figures: dict[str, Grouped],
    part_figures: dict[str, Grouped],
    site_cells: dict[str, SiteCells],
    parts_of: dict[uuid.UUID, list[Any]],
) -> dict[str, dict[Any, Cell]]:
    """Every metric's parts (teams, equity groups) under each site's published cell."""
    keys: list[tuple[str, uuid.UUID]] = []
    requests = []
    for metric in REGISTRY.values():
        for site_id, parts in parts_of.items():
            grouped = part_figures[metric.id]
            keys.append((metric.id, site_id))
            requests.append(
                disclosure.Request(
                    metric.kind,
                    tuple(raw(grouped.groups.get(p, _EMPTY)) for p in parts),
                    raw(site_figures[metric.id].groups.get(site_id, _EMPTY)),
                    parent=site_cells[metric.id].sites[site_id],
                )
            )
    out: dict[str, dict[Any, Cell]] = {metric_id: {} for metric_id in REGISTRY}
    for (metric_id, site_id), (cells, _parent) in zip(
        keys, disclosure.disclose_many(requests), strict=True
    ):
        out[metric_id].update(zip(parts_of[site_id], cells, strict=True))
    return out


# --- the network report ---------------------------------------------------------------------


def network_report(
    store: FigureStore, month: str, trend_months: int = DEFAULT_TREND_MONTHS
) -> dict[str, Any]:
    now = store.now
    months = last_months(month, max(trend_months, 1))
    all_sites = store.sites()
    site_ids = [s.id for s in all_sites]
    codes = {s.id: s.code for s in all_sites}
    by_month = store.get(months)
    disclosed = store.by_site(months)
    metrics_out = []
    for metric in REGISTRY.values():
        site_cells, network = _cells(disclosed[month][metric.id])
        trend = [
            {
                "month": m,
                "network": disclosed[m][metric.id].network.value,
                "sites": {codes[s]: disclosed[m][metric.id].sites[s].value for s in site_ids},
            }
            for m in months
        ]
        metrics_out.append(
            {
                **metric_header(metric),
                "network": cell_json(network),
                "network_median": _median_of_shown(c.value for c in site_cells.values()),
                "sites": [
                    {"site_id": str(s), "code": codes[s], **cell_json(site_cells[s])}
                    for s in site_ids
                ],
                "trend": trend,
            }
        )
    return {
        "month": month,
        "source": by_month[month].source,
        "sites": [{"id": str(s.id), "code": s.code, "name": s.name} for s in all_sites],
        "metrics": metrics_out,
        "disclosure": disclosure_meta(),
        "meta": _meta(month, now, by_month, site_count=len(all_sites)),
    }


def _meta(month: str, now: datetime, by_month: dict[str, Figures], **extra: Any) -> dict[str, Any]:
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
        **extra,
    }


CSV_FIELDS = [
    "month",
    "scope",
    "site_code",
    "group",
    "metric_id",
    "unit",
    "numerator",
    "denominator",
    "value",
]


def network_csv_rows(
    store: FigureStore, month: str, trend_months: int = DEFAULT_TREND_MONTHS
) -> list[dict[str, Any]]:
    """Tidy rows: one per site (and the network) x metric x month of the trend."""
    months = last_months(month, max(trend_months, 1))
    all_sites = store.sites()
    site_ids = [s.id for s in all_sites]
    codes = {s.id: s.code for s in all_sites}
    disclosed = store.by_site(months)
    rows: list[dict[str, Any]] = []
    for m in months:
        for metric in REGISTRY.values():
            cells, total = _cells(disclosed[m][metric.id])
            for site_id in site_ids:
                rows.append(_csv_row(m, "site", codes[site_id], "", metric, cells[site_id]))
            rows.append(_csv_row(m, "network", "", "", metric, total))
    return rows


def _csv_row(
    month: str, scope: str, code: str, group: str, metric: Metric, cell: Cell
) -> dict[str, Any]:
    return {
        "month": month,
        "scope": scope,
        "site_code": code,
        "group": group,
        "metric_id": metric.id,
        "unit": metric.unit,
        "numerator": "" if cell.numerator is None else cell.numerator,
        "denominator": "" if cell.denominator is None else cell.denominator,
        "value": "" if cell.value is None else cell.value,
    }


CSV_MEDIA = "text/csv; charset=utf-8"


def to_csv(rows: list[dict[str, Any]], fields: list[str] = CSV_FIELDS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        # Spreadsheet formula injection: no cell may start with = + - @ unless it is a number.
        writer.writerow({k: _safe_csv(v) for k, v in row.items()})
    return out.getvalue()


def _safe_csv(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and not _is_number(value):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --- the site report ------------------------------------------------------------------------


def site_report(
    store: FigureStore, site: Site, month: str, trend_months: int = DEFAULT_TREND_MONTHS
) -> dict[str, Any]:
    session, now = store.session, store.now
    months = last_months(month, max(trend_months, 1))
    all_sites = store.sites()
    site_teams = teams(session, site.id)
    by_month = store.get(months)
    disclosed = store.by_site(months)
    by_team = store.by_team(month)
    metrics_out = []
    for metric in REGISTRY.values():
        site_cells, network = _cells(disclosed[month][metric.id])
        team_cells = [by_team[metric.id][t.id] for t in site_teams]
        trend = [
            {
                "month": m,
                "site": disclosed[m][metric.id].sites[site.id].value,
                "network": disclosed[m][metric.id].network.value,
            }
            for m in months
        ]
        metrics_out.append(
            {
                **metric_header(metric),
                "site": cell_json(site_cells[site.id]),
                "network": cell_json(network),
                "network_median": _median_of_shown(c.value for c in site_cells.values()),
                "teams": [
                    {"team_id": str(t.id), "name": t.name, **cell_json(c)}
                    for t, c in zip(site_teams, team_cells, strict=True)
                ],
                "trend": trend,
            }
        )
    return {
        "month": month,
        "source": by_month[month].source,
        "site": {"id": str(site.id), "code": site.code, "name": site.name},
        "metrics": metrics_out,
        "disclosure": disclosure_meta(),
        "meta": _meta(month, now, by_month, site_count=len(all_sites), team_count=len(site_teams)),
    }


def site_csv_rows(
    store: FigureStore, site: Site, month: str, trend_months: int
) -> list[dict[str, Any]]:
    report = site_report(store, site, month, trend_months)
    rows: list[dict[str, Any]] = []
    for metric_json in report["metrics"]:
        metric = REGISTRY[metric_json["id"]]
        cell = metric_json["site"]
        rows.append(
            _csv_row(
                month,
                "site",
                site.code,
                "",
                metric,
                Cell(cell["numerator"], cell["denominator"], cell["value"]),
            )
        )
        for team in metric_json["teams"]:
            rows.append(
                _csv_row(
                    month,
                    "team",
                    site.code,
                    team["name"],
                    metric,
                    Cell(team["numerator"], team["denominator"], team["value"]),
                )
            )
    return rows


# --- equity ---------------------------------------------------------------------------------


def equity_report(store: FigureStore, site: Site, month: str, by: str) -> dict[str, Any]:
    """A site's metrics by equity group (always live: snapshots hold sites and teams only)."""
    if by not in EQUITY_DIMENSIONS:
        raise ValueError(f"by must be one of {', '.join(EQUITY_DIMENSIONS)}")
    session, now = store.session, store.now
    period = check_month(month, now)
    results = compute_all(session, period, Grouping(by, site_id=site.id))
    order = GROUP_ORDER[by]
    site_cells = store.by_site([month])[month]
    # Groups are protected under the site's published cell, like teams: the same rules make
    # every equity split safe alongside the site report and the other splits.
    groups = disclose_breakdowns(
        store.get([month])[month].by_metric, results, site_cells, {site.id: list(order)}
    )
    metrics_out = []
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
        "site": {"id": str(site.id), "code": site.code, "name": site.name},
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


def equity_csv_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for metric_json in report["metrics"]:
        metric = REGISTRY[metric_json["id"]]
        for group in metric_json["groups"]:
            cell = Cell(group["numerator"], group["denominator"], group["value"])
            rows.append(
                _csv_row(
                    report["month"],
                    report["by"],
                    report["site"]["code"],
                    group["group"],
                    metric,
                    cell,
                )
            )
    return rows


# --- the team report (clinicians: their own team, unsuppressed) -------------------------------


def team_report(
    store: FigureStore, team: Team, month: str, trend_months: int = DEFAULT_TREND_MONTHS
) -> dict[str, Any]:
    now = store.now
    months = last_months(month, max(trend_months, 1))
    by_month = store.get(months, "team")
    empty = MetricValue(None, None, None, 0)
    metrics_out = []
    for metric in REGISTRY.values():
        current = by_month[month].by_metric[metric.id].groups.get(team.id, empty)
        trend = []
        for m in months:
            value = by_month[m].by_metric[metric.id].groups.get(team.id, empty)
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
        "meta": _meta(month, now, by_month),
    }


# --- funnel plots ---------------------------------------------------------------------------


def funnel_data(store: FigureStore, metric: Metric, month: str) -> dict[str, Any]:
    """Sites against the network proportion, from the disclosed (rounded) figures."""
    if not metric.is_proportion:
        raise ValueError("funnel plots are for proportion metrics")
    all_sites = store.sites()
    cells, network = _cells(store.by_site([month])[month][metric.id])
    points: list[dict[str, Any]] = []
    suppressed: list[str] = []
    for site in all_sites:
        cell = cells[site.id]
        if (
            isinstance(cell.numerator, int)
            and isinstance(cell.denominator, int)
            and cell.denominator > 0
        ):
            points.append(
                {
                    "code": site.code,
                    "numerator": cell.numerator,
                    "denominator": cell.denominator,
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
    max_den = max((int(p["denominator"]) for p in points), default=0)
    return {
        "metric": metric_header(metric),
        "month": month,
        "network": cell_json(network),
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


def trend_series(
    store: FigureStore, metric: Metric, month: str, trend_months: int
) -> dict[str, Any]:
    report_months = last_months(month, max(trend_months, 1))
    all_sites = store.sites()
    disclosed = store.by_site(report_months)
    series: dict[str, list[Any]] = {NETWORK_KEY: []}
    for s in all_sites:
        series[s.code] = []
    for m in report_months:
        cells, total = _cells(disclosed[m][metric.id])
        series[NETWORK_KEY].append(total.value)
        for s in all_sites:
            series[s.code].append(cells[s.id].value)
    return {"metric": metric_header(metric), "months": report_months, "series": series}


def current_month(now: datetime) -> str:
    return month_of(as_of_date(now))
