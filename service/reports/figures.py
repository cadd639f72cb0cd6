"""A month's figures for every metric, frozen snapshot or live SQL, and their disclosed cells.

Only aggregates reach Python: one row per site, team or group and metric. Disclosure control
runs here, over every metric of a month at once, before anything is shaped into a report, so
nothing derived from a suppressed figure is ever published.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import ReportSnapshot, Site, Team
from service.reports import disclosure
from service.reports.disclosure import Cell, RawCell
from service.reports.groups import Grouping
from service.reports.metrics import REGISTRY
from service.reports.period import check_month
from service.reports.runner import EMPTY, Grouped, MetricValue, compute_all


@dataclass(frozen=True)
class Figures:
    """One month's figures for one scope: by site (total = network) or by team."""

    month: str
    source: str  # "snapshot" or "live"
    by_metric: dict[str, Grouped]


@dataclass(frozen=True)
class SiteCells:
    """One metric's disclosed month: each site's cell and the network's."""

    sites: dict[uuid.UUID, Cell]
    network: Cell


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
        by_metric[mid] = Grouped(groups[mid], totals.get(mid, EMPTY))
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


def sites(session: Session) -> list[Site]:
    return list(session.scalars(select(Site).order_by(Site.code)).all())


def teams(session: Session, site_id: uuid.UUID | None = None) -> list[Team]:
    query = select(Team).order_by(Team.name)
    if site_id is not None:
        query = query.where(Team.site_id == site_id)
    return list(session.scalars(query).all())


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


# --- disclosure -------------------------------------------------------------------------------


def raw(value: MetricValue) -> RawCell:
    return RawCell(value.numerator, value.denominator, value.value, value.n)


def disclose_sites(figs: Figures, site_ids: list[uuid.UUID]) -> dict[str, SiteCells]:
    """Every metric's sites against the network, audited in one programme."""
    metrics = list(REGISTRY.values())
    requests = [
        disclosure.Request(
            metric.kind,
            tuple(raw(figs.by_metric[metric.id].groups.get(s, EMPTY)) for s in site_ids),
            raw(figs.by_metric[metric.id].total),
            scale=metric.scale,
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
                    tuple(raw(grouped.groups.get(p, EMPTY)) for p in parts),
                    raw(site_figures[metric.id].groups.get(site_id, EMPTY)),
                    parent=site_cells[metric.id].sites[site_id],
                    scale=metric.scale,
                )
            )
    out: dict[str, dict[Any, Cell]] = {metric_id: {} for metric_id in REGISTRY}
    for (metric_id, site_id), (cells, _parent) in zip(
        keys, disclosure.disclose_many(requests), strict=True
    ):
        out[metric_id].update(zip(parts_of[site_id], cells, strict=True))
    return out
