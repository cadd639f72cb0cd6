"""A framework's figures for its scope (the network, one site, or several), as disclosed cells.

The network and a single site are cells the site and network reports already publish, taken from
the same ``FigureStore``. A scope of several sites publishes nothing new about people:

- an additive figure (count, sum, proportion, rate) is the sum of its sites' *published*
  numerators and denominators, so it is shown only where every site's figure is, and it can be
  worked out by any reader of the site report;
- a median or percentile is the median of the scope's patients (computed live), shown only where
  every site's figure is shown and it rests on enough people.

So the dashboard and the site reports can never contradict each other, and a hidden site figure
is never pinned by subtracting the other sites from a scope's total.

Inequality outcomes read a metric's equity groups per site, protected under each site's
published cell exactly as the site's equity report protects them, and add the published groups
up across the scope's sites in the same way.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from service.models import Site
from service.reports import disclosure
from service.reports.disclosure import SUPPRESSED, WITHHELD, Cell, Request, Shown
from service.reports.figures import FigureStore, raw
from service.reports.groups import GROUP_ORDER, IN_SITES, Grouping
from service.reports.metrics import REGISTRY, Metric
from service.reports.period import check_month
from service.reports.runner import EMPTY, compute


@dataclass(frozen=True)
class Scope:
    """The sites a framework covers; every site of the network when ``network``."""

    sites: tuple[Site, ...]
    network: bool

    @property
    def site_ids(self) -> list[uuid.UUID]:
        return [s.id for s in self.sites]

    @property
    def label(self) -> str:
        return "Network" if self.network else ", ".join(s.name for s in self.sites)


def scope_of(store: FigureStore, site_ids: Sequence[uuid.UUID]) -> Scope:
    if not site_ids:
        return Scope(tuple(store.sites()), True)
    wanted = set(site_ids)
    return Scope(tuple(s for s in store.sites() if s.id in wanted), False)


def _add(parts: Sequence[Shown | None]) -> Shown | None:
    if any(p == SUPPRESSED for p in parts):
        return SUPPRESSED
    numbers = [p for p in parts if isinstance(p, int)]
    return sum(numbers) if numbers else None


def sum_of_published(metric: Metric, cells: Sequence[Cell]) -> Cell:
    """An additive figure over several published cells: their sum, ``*`` if any is hidden."""
    published = [c for c in cells if c.numerator is not None]
    if not published:
        return WITHHELD
    # A part withheld (a breakdown under a hidden site) hides the sum as a hidden part does.
    if len(published) < len(cells) or any(c.value == SUPPRESSED for c in cells):
        return Cell(SUPPRESSED, SUPPRESSED if metric.measure.den else None, SUPPRESSED)
    numerator = _add([c.numerator for c in cells])
    if metric.kind in ("count", "sum"):
        return Cell(numerator, None, numerator)
    denominator = _add([c.denominator for c in cells])
    return Cell(numerator, denominator, disclosure.percentage(numerator, denominator, metric.scale))


def cell(store: FigureStore, metric: Metric, month: str, scope: Scope) -> Cell:
    """``metric`` for ``scope`` in ``month`` as a programme lead may see it."""
    site_cells = store.by_site([month])[month][metric.id]
    if scope.network:
        return site_cells.network
    members = [site_cells.sites[s] for s in scope.site_ids]
    if len(members) == 1:
        return members[0]
    if metric.additive:
        return sum_of_published(metric, members)
    if any(c.value == SUPPRESSED for c in members):
        return Cell(None, SUPPRESSED, SUPPRESSED)
    period = check_month(month, store.now)
    grouped = compute(
        store.session, metric, period, Grouping(IN_SITES, site_ids=tuple(scope.site_ids))
    )
    inside = grouped.groups.get("in", EMPTY)
    value = disclosure.statistic(inside.value, inside.n)
    return Cell(None, disclosure.disclose_count(inside.denominator or 0), value)


def equity_groups(
    store: FigureStore, metric: Metric, months: Sequence[str], scope: Scope, by: str
) -> dict[str, dict[str, Cell]]:
    """The metric's equity groups over the scope, for each of ``months``: each site's groups
    protected under its published cell (as ``build.equity_report`` does), then added up across
    the scope's sites. Medians and percentiles cannot be added up, so over several sites they
    are not published. Every month's tables are audited in one programme."""
    order = GROUP_ORDER[by]
    cells_of = store.by_site(list(months))
    requests: list[Request] = []
    for month in months:
        by_site = store.equity(month, by, metric.id)
        totals = store.get([month])[month].by_metric[metric.id].groups
        site_cells = cells_of[month][metric.id]
        requests.extend(
            Request(
                metric.kind,
                tuple(raw(by_site.get(s, {}).get(g, EMPTY)) for g in order),
                raw(totals.get(s, EMPTY)),
                parent=site_cells.sites[s],
                scale=metric.scale,
            )
            for s in scope.site_ids
        )
    disclosed = iter(cells for cells, _parent in disclosure.disclose_many(requests))
    out: dict[str, dict[str, Cell]] = {}
    for month in months:
        per_site = [next(disclosed) for _ in scope.site_ids]
        if len(per_site) == 1:
            out[month] = dict(zip(order, per_site[0], strict=True))
        elif not metric.additive:
            out[month] = dict.fromkeys(order, WITHHELD)
        else:
            out[month] = {
                g: sum_of_published(metric, [cells[i] for cells in per_site])
                for i, g in enumerate(order)
            }
    return out


def metric(metric_id: str) -> Metric | None:
    return REGISTRY.get(metric_id)
