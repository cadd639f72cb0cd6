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

from service.models import Site, Team
from service.reports import disclosure
from service.reports.disclosure import Cell, RawCell
from service.reports.funnel import funnel_limits
from service.reports.groups import EQUITY_DIMENSIONS, GROUP_ORDER, Grouping
from service.reports.metrics import REGISTRY, Metric
from service.reports.models import ReportSnapshot
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
    """Figures already read in this request or pack run, so a month is computed once."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now
        self._cache: dict[tuple[str, str], Figures] = {}

    def get(self, months: list[str], by: str = "site") -> dict[str, Figures]:
        missing = [m for m in months if (m, by) not in self._cache]
        if missing:
            for month, figs in figures(self.session, missing, self.now, by).items():
                self._cache[(month, by)] = figs
        return {m: self._cache[(m, by)] for m in months}


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
            "where cells add up to a published total and one is suppressed, the next smallest "
            "non-zero cell is suppressed too",
        ],
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


def disclosed_by_site(
    metric: Metric, grouped: Grouped, site_ids: list[uuid.UUID]
) -> tuple[dict[uuid.UUID, Cell], Cell]:
    empty = MetricValue(None, None, None, 0)
    cells, total = disclosure.disclose_table(
        metric.kind, [raw(grouped.groups.get(s, empty)) for s in site_ids], raw(grouped.total)
    )
    return dict(zip(site_ids, cells, strict=True)), total


# --- the network report ---------------------------------------------------------------------


def network_report(
    store: FigureStore, month: str, trend_months: int = DEFAULT_TREND_MONTHS
) -> dict[str, Any]:
    session, now = store.session, store.now
    months = last_months(month, max(trend_months, 1))
    all_sites = sites(session)
    site_ids = [s.id for s in all_sites]
    codes = {s.id: s.code for s in all_sites}
    by_month = store.get(months)
    metrics_out = []
    for metric in REGISTRY.values():
        disclosed = {
            m: disclosed_by_site(metric, by_month[m].by_metric[metric.id], site_ids) for m in months
        }
        site_cells, network = disclosed[month]
        trend = [
            {
                "month": m,
                "network": total.value,
                "sites": {codes[s]: cells[s].value for s in site_ids},
            }
            for m, (cells, total) in disclosed.items()
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
    session = store.session
    """Tidy rows: one per site (and the network) x metric x month of the trend."""
    months = last_months(month, max(trend_months, 1))
    all_sites = sites(session)
    site_ids = [s.id for s in all_sites]
    codes = {s.id: s.code for s in all_sites}
    by_month = store.get(months)
    rows: list[dict[str, Any]] = []
    for m in months:
        for metric in REGISTRY.values():
            cells, total = disclosed_by_site(metric, by_month[m].by_metric[metric.id], site_ids)
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
    all_sites = sites(session)
    site_ids = [s.id for s in all_sites]
    site_teams = teams(session, site.id)
    team_ids = [t.id for t in site_teams]
    by_month = store.get(months)
    by_team = store.get([month], "team")[month]
    metrics_out = []
    for metric in REGISTRY.values():
        grouped = by_month[month].by_metric[metric.id]
        disclosed = {
            m: disclosed_by_site(metric, by_month[m].by_metric[metric.id], site_ids) for m in months
        }
        site_cells, network = disclosed[month]
        team_grouped = by_team.by_metric[metric.id]
        empty = MetricValue(None, None, None, 0)
        # Teams add up to the site: protect them against the site's own total.
        team_cells, _ = disclosure.disclose_table(
            metric.kind,
            [raw(team_grouped.groups.get(t, empty)) for t in team_ids],
            raw(grouped.groups.get(site.id, empty)),
        )
        team_cells = disclosure.within_parent(team_cells, site_cells[site.id])
        trend = [
            {"month": m, "site": cells[site.id].value, "network": total.value}
            for m, (cells, total) in disclosed.items()
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
    site_ids = [s.id for s in sites(session)]
    by_site = store.get([month])[month]
    order = GROUP_ORDER[by]
    metrics_out = []
    for metric in REGISTRY.values():
        grouped = results[metric.id]
        empty = MetricValue(None, None, None, 0)
        cells, total = disclosure.disclose_table(
            metric.kind, [raw(grouped.groups.get(g, empty)) for g in order], raw(grouped.total)
        )
        site_cell = disclosed_by_site(metric, by_site.by_metric[metric.id], site_ids)[0][site.id]
        cells = disclosure.within_parent(cells, site_cell)
        (total,) = disclosure.within_parent([total], site_cell)
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
    all_sites = sites(store.session)
    site_ids = [s.id for s in all_sites]
    current = store.get([month])[month]
    cells, network = disclosed_by_site(metric, current.by_metric[metric.id], site_ids)
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
    all_sites = sites(store.session)
    site_ids = [s.id for s in all_sites]
    by_month = store.get(report_months)
    series: dict[str, list[Any]] = {NETWORK_KEY: []}
    for s in all_sites:
        series[s.code] = []
    for m in report_months:
        cells, total = disclosed_by_site(metric, by_month[m].by_metric[metric.id], site_ids)
        series[NETWORK_KEY].append(total.value)
        for s in all_sites:
            series[s.code].append(cells[s.id].value)
    return {"metric": metric_header(metric), "months": report_months, "series": series}


def current_month(now: datetime) -> str:
    return month_of(as_of_date(now))
