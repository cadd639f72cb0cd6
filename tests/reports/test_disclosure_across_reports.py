"""A programme lead's differencing attack across every table released for a month.

The lead takes the network report (every site and the network, the month and its trend), each
site's report (its teams), each site's equity splits and the CSV, writes down every relation
between their figures (network = sites, site = teams, site = groups of each split, numerator at
most denominator) and solves for each hidden figure. No count of 1-7 may come out as one value.
Runs on SQLite and PostgreSQL (the ``session`` fixture).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal

import pytest

from service.reports import build
from service.reports.csv_export import network_csv_rows
from service.reports.disclosure import LARGEST_SUPPRESSED, SUPPRESSED, whole
from service.reports.figures import FigureStore
from service.reports.groups import EQUITY_DIMENSIONS, GROUP_ORDER, Grouping
from service.reports.metrics import REGISTRY
from service.reports.period import check_month
from service.reports.runner import compute_all
from tests.reports.builders import Data, build_network
from tests.reports.reader import Reader

MONTH = "2026-10"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
COLUMNS: tuple[Literal["numerator", "denominator"], ...] = ("numerator", "denominator")


def small_sites(data: Data) -> None:
    """Small counts at every level: the shape of the first build's leak under a shown site.

    Site S1 has 12 patients (shown as 10): IMD quintiles 1-4 one each and eight in quintile 5,
    which the first method published as *, *, *, *, 10, pinning each hidden 1. S2 has 2.
    """
    data.site("S1", teams=("T1a", "T1b"))
    data.site("S2", teams=("T2a", "T2b"))
    data.site("S3", teams=("T3a",))
    for quintile in (1, 2, 3):
        data.patient("T1a", "2026-09-01", imd_quintile=quintile)
    for quintile in (4, 5, 5, 5, 5, 5, 5, 5, 5):
        data.patient("T1b", "2026-09-01", imd_quintile=quintile)
    data.patient("T2a", "2026-09-01")
    data.patient("T2b", "2026-09-01", sex="male")
    for i in range(30):
        data.patient("T3a", "2026-09-01", imd_quintile=5, sex="male" if i % 3 else "female")


class Attack:
    """The reader's system over the released tables, with the true figure behind each name."""

    def __init__(self) -> None:
        self.reader = Reader()
        self.truth: dict[str, int] = {}

    def see(self, name: str, shown: object, raw: object, column: str) -> None:
        self.reader.sees(name, shown)
        self.truth[name] = whole(getattr(raw, column) or 0) if raw is not None else 0

    def pinned(self) -> list[str]:
        """Every count of 1-7 that is shown, or hidden but narrowed to one value."""
        out = []
        for name, true in self.truth.items():
            if not 1 <= true <= LARGEST_SUPPRESSED:
                continue
            if self.reader.bounds[name][1] != float("inf"):
                out.append(f"{name} (true {true}) is shown")
            elif self.reader.possible_values(name) < 2:
                out.append(f"{name} (true {true}) is pinned")
        return out


def released(session) -> list[Attack]:
    """Every table a programme lead can take for the month: one system per metric (no relation
    joins two metrics), each over every released table."""
    store = FigureStore(session, NOW)
    sites = store.sites()
    period = check_month(MONTH, NOW)
    network = {m["id"]: m for m in build.network_report(store, MONTH, trend_months=2)["metrics"]}
    csv = {
        (r["site_code"], r["metric_id"]): r
        for r in network_csv_rows(store, MONTH, trend_months=2)
        if r["month"] == MONTH
    }
    site_reports = {
        s.code: {m["id"]: m for m in build.site_report(store, s, MONTH, 2)["metrics"]}
        for s in sites
    }
    equity = {
        (s.code, by): {m["id"]: m for m in build.equity_report(store, s, MONTH, by)["metrics"]}
        for s in sites
        for by in EQUITY_DIMENSIONS
    }
    raw_equity = {
        (s.code, by): compute_all(session, period, Grouping(by, site_id=s.id))
        for s in sites
        for by in EQUITY_DIMENSIONS
    }
    raw_sites = store.get([MONTH])[MONTH].by_metric
    raw_teams = store.get([MONTH], "team")[MONTH].by_metric
    attacks = []
    for metric in (m for m in REGISTRY.values() if m.additive):
        attack = Attack()
        attacks.append(attack)
        for column in COLUMNS:
            if network[metric.id]["network"][column] is None:
                continue  # a count has no denominator
            name = f"{metric.id}:{column}:".__add__
            attack.see(
                name("network"),
                network[metric.id]["network"][column],
                raw_sites[metric.id].total,
                column,
            )
            for site, cell in zip(sites, network[metric.id]["sites"], strict=True):
                attack.see(
                    name(site.code), cell[column], raw_sites[metric.id].groups.get(site.id), column
                )
                # the CSV, the trend and the site's own report carry the same cell
                assert str(csv[(site.code, metric.id)][column]) == str(cell[column])
                assert site_reports[site.code][metric.id]["site"][column] == cell[column]
            attack.reader.adds_up(name("network"), [name(s.code) for s in sites])
            for site in sites:
                teams = site_reports[site.code][metric.id]["teams"]
                for team in teams:
                    raw = raw_teams[metric.id].groups.get(uuid.UUID(team["team_id"]))
                    attack.see(name(f"{site.code}/{team['name']}"), team[column], raw, column)
                attack.reader.adds_up(
                    name(site.code), [name(f"{site.code}/{t['name']}") for t in teams]
                )
                for by in EQUITY_DIMENSIONS:
                    groups = equity[(site.code, by)][metric.id]
                    assert (
                        groups["total"][column]
                        == network[metric.id]["sites"][sites.index(site)][column]
                    )
                    raw_groups = raw_equity[(site.code, by)][metric.id].groups
                    for group in groups["groups"]:
                        key = name(f"{site.code}/{by}={group['group']}")
                        attack.see(key, group[column], raw_groups.get(group["group"]), column)
                    attack.reader.adds_up(
                        name(site.code), [name(f"{site.code}/{by}={g}") for g in GROUP_ORDER[by]]
                    )
        if metric.is_proportion:
            for key in [k for k in attack.truth if k.startswith(f"{metric.id}:numerator:")]:
                attack.reader.at_most(key, key.replace(":numerator:", ":denominator:"))
    return attacks


@pytest.mark.parametrize("dataset", ["small_sites", "seeded_network"])
def test_no_small_count_falls_to_differencing_across_the_months_reports(session, dataset):
    data = Data(session)
    if dataset == "small_sites":
        small_sites(data)
    else:
        build_network(data)
    session.flush()
    attacks = released(session)
    small = [n for a in attacks for n, true in a.truth.items() if 1 <= true <= LARGEST_SUPPRESSED]
    assert len(small) >= 10, "the dataset must have small counts for the attack to mean anything"
    assert [pinned for attack in attacks for pinned in attack.pinned()] == []


def test_the_first_methods_equity_split_falls_to_the_same_attack():
    """The attack can succeed: S1's split as the first method published it pins each 1."""
    attack = Attack()
    attack.reader.sees("S1", 10)
    for q, shown in zip("12345", [SUPPRESSED] * 4 + [10], strict=True):
        attack.reader.sees(f"S1/imd={q}", shown)
        attack.truth[f"S1/imd={q}"] = 1 if q != "5" else 8
    attack.reader.adds_up("S1", [f"S1/imd={q}" for q in "12345"])
    assert attack.pinned() == [f"S1/imd={q} (true 1) is pinned" for q in "1234"]
