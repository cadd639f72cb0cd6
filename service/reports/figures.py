"""A month's figures for every metric, frozen snapshot or live SQL, and their disclosed cells.

Only aggregates reach Python: one row per site, team or group and metric. Disclosure control
runs here, over every metric of a month at once, before anything is shaped into a report, so
nothing derived from a suppressed figure is ever published.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import EquitySnapshot, ReportSnapshot, Site, Team
from service.reports import disclosure
from service.reports.disclosure import Cell, RawCell
from service.reports.groups import Grouping, site_and, split_site_key
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
    session: Session,
    months: list[str],
    now: datetime,
    by: str = "site",
    metric_ids: list[str] | None = None,
) -> dict[str, Figures]:
    """Figures per month by site or team (total: the network), frozen where snapshotted; a
    live month computes only ``metric_ids`` when named."""
    snapshots = _snapshot_rows(session, months, by)
    out: dict[str, Figures] = {}
    for month in months:
        if month in snapshots:
            out[month] = _from_snapshot(month, snapshots[month], by)
        else:
            period = check_month(month, now)
            computed = compute_all(session, period, Grouping(by), metric_ids)
            out[month] = Figures(month, "live", computed)
    return out


def sites(session: Session) -> list[Site]:
    return list(session.scalars(select(Site).order_by(Site.code)).all())


def teams(session: Session, site_id: uuid.UUID | None = None) -> list[Team]:
    query = select(Team).order_by(Team.name)
    if site_id is not None:
        query = query.where(Team.site_id == site_id)
    return list(session.scalars(query).all())


# --- equity groups: each site's groups of one split, frozen where snapshotted ----------------

SiteGroups = dict[uuid.UUID, dict[str, MetricValue]]


def equity_figures(
    session: Session, month: str, now: datetime, dimension: str, metric_ids: list[str]
) -> dict[str, SiteGroups]:
    """Each metric's groups of ``dimension`` at every site in ``month``, unsuppressed."""
    out: dict[str, SiteGroups] = {mid: {} for mid in metric_ids}
    frozen = EquitySnapshot.__table__
    rows = session.execute(
        select(
            frozen.c.metric_id,
            frozen.c.site_id,
            frozen.c.grp,
            frozen.c.numerator,
            frozen.c.denominator,
            frozen.c.value,
            frozen.c.n,
        ).where(
            frozen.c.month == month,
            frozen.c.dimension == dimension,
            frozen.c.metric_id.in_(metric_ids),
        )
    ).all()
    snapshotted = session.execute(
        select(ReportSnapshot.id).where(ReportSnapshot.month == month).limit(1)
    ).first()
    if rows or (snapshotted is not None and _equity_frozen(session, month)):
        for metric_id, site_id, group, numerator, denominator, value, n in rows:
            out[metric_id].setdefault(site_id, {})[group] = MetricValue(
                numerator, denominator, value, n
            )
        return out
    period = check_month(month, now)
    computed = compute_all(session, period, Grouping(site_and(dimension)), metric_ids)
    for metric_id, grouped in computed.items():
        for key, figure in grouped.groups.items():
            site_id, group = split_site_key(str(key))
            out[metric_id].setdefault(site_id, {})[group] = figure
    return out


def _equity_frozen(session: Session, month: str) -> bool:
    """Whether the month's snapshot froze equity groups too (months frozen before they were
    are computed live, so an empty split is never mistaken for a frozen one)."""
    return (
        session.execute(
            select(EquitySnapshot.id).where(EquitySnapshot.month == month).limit(1)
        ).first()
        is not None
    )


class FigureStore:
    """Figures read and disclosed in this request or pack run, so a month is worked out once.

    Every report, CSV, chart and page of a month takes its disclosed cells from here, so the
    same figure is shown the same way wherever it is released (see ``disclosure``).
    """

    def __init__(
        self, session: Session, now: datetime, metric_ids: Iterable[str] | None = None
    ) -> None:
        """``metric_ids``: only these metrics (a value framework's), for a caller that shows
        nothing else. Each metric is disclosed on its own, so its cells are the same as in a
        store of every metric."""
        self.session = session
        self.now = now
        self.metric_ids = (
            None if metric_ids is None else [m for m in REGISTRY if m in set(metric_ids)]
        )
        self._cache: dict[tuple[str, str], Figures] = {}
        self._sites: list[Site] | None = None
        self._by_site: dict[str, dict[str, SiteCells]] = {}
        self._by_team: dict[str, dict[str, dict[uuid.UUID, Cell]]] = {}
        self._equity: dict[tuple[str, str, str], SiteGroups] = {}

    def get(self, months: list[str], by: str = "site") -> dict[str, Figures]:
        missing = [m for m in months if (m, by) not in self._cache]
        if missing:
            found = figures(self.session, missing, self.now, by, self.metric_ids)
            for month, figs in found.items():
                self._cache[(month, by)] = figs
        return {m: self._cache[(m, by)] for m in months}

    def equity(self, month: str, dimension: str, *metric_ids: str) -> SiteGroups:
        """The groups of ``dimension`` at each site for one metric (the first named); naming
        more reads them in the same pass, for the callers that want several."""
        wanted = [m for m in metric_ids if (month, dimension, m) not in self._equity]
        if wanted:
            found = equity_figures(self.session, month, self.now, dimension, wanted)
            for metric_id, groups in found.items():
                self._equity[(month, dimension, metric_id)] = groups
        return self._equity[(month, dimension, metric_ids[0])]

    def sites(self) -> list[Site]:
        if self._sites is None:
            self._sites = sites(self.session)
        return self._sites

    def by_site(self, months: list[str]) -> dict[str, dict[str, SiteCells]]:
        """Each month's disclosed site cells and network cell, per metric."""
        missing = [m for m in months if m not in self._by_site]
        if missing:
            site_ids = [s.id for s in self.sites()]
            found = self.get(missing)
            disclosed = disclose_months(list(found.values()), site_ids, self.metric_ids)
            self._by_site.update(disclosed)
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


def disclose_months(
    months: Sequence[Figures], site_ids: list[uuid.UUID], metric_ids: list[str] | None = None
) -> dict[str, dict[str, SiteCells]]:
    """Each month's metrics (every one, or those named) across the sites against the network.
    Each table is protected on its own, so a month's cells are the same whichever months are
    disclosed with it; all months share one linear programme per round."""
    chosen = list(REGISTRY) if metric_ids is None else metric_ids
    metrics = [REGISTRY[m] for m in chosen]
    requests = [
        disclosure.Request(
            metric.kind,
            tuple(raw(figs.by_metric[metric.id].groups.get(s, EMPTY)) for s in site_ids),
            raw(figs.by_metric[metric.id].total),
            scale=metric.scale,
        )
        for figs in months
        for metric in metrics
    ]
    disclosed = iter(disclosure.disclose_many(requests))
    out: dict[str, dict[str, SiteCells]] = {}
    for figs in months:
        cells_of: dict[str, SiteCells] = {}
        for metric in metrics:
            cells, total = next(disclosed)
            cells_of[metric.id] = SiteCells(dict(zip(site_ids, cells, strict=True)), total)
        out[figs.month] = cells_of
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
    for metric in (m for m in REGISTRY.values() if m.id in site_cells):
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
