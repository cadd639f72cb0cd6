"""Every metric, by every grouping, gives identical results on SQLite and PostgreSQL.

One pseudo-random network (seeded) is built in both databases, with readings and alerts at
random seconds across both clock changes of 2026, and every metric is computed for March and
October (the months with a clock change) by site, team and each equity dimension.
"""

from __future__ import annotations

import pytest

from service.db import build_engine, build_sessionmaker, unit_of_work
from service.reports.groups import EQUITY_DIMENSIONS, Grouping
from service.reports.metrics import REGISTRY
from service.reports.period import Period
from service.reports.runner import compute, compute_all
from tests.reports.builders import AS_OF, Data, build_network
from tests.support.db import PG_URL, empty_database, migrated_url

pytestmark = pytest.mark.postgres

MONTHS = ("2026-03", "2026-10")


def all_results(
    data: Data, batched: bool = False
) -> dict[tuple[str, str, str, str], tuple[float | None, float | None, float | None, int]]:
    """Every metric by every grouping: one statement per metric, or (``batched``) the reports'
    way, every metric of the month at once."""
    names = {v: k for k, v in {**data.sites, **data.teams}.items()}
    out = {}
    for month in MONTHS:
        period = Period.for_month(month, as_of=AS_OF)
        groupings = [Grouping("site"), Grouping("team")] + [
            Grouping(by, site_id=data.sites["S1"]) for by in EQUITY_DIMENSIONS
        ]
        for grouping in groupings:
            together = compute_all(data.s, period, grouping) if batched else {}
            for metric in REGISTRY.values():
                result = (
                    together[metric.id] if batched else compute(data.s, metric, period, grouping)
                )
                for key, value in [*result.groups.items(), (None, result.total)]:
                    label = "total" if key is None else str(names.get(key, key))
                    out[(month, grouping.by, metric.id, label)] = (
                        value.numerator,
                        value.denominator,
                        value.value,
                        value.n,
                    )
    return out


def test_every_metric_agrees_on_sqlite_and_postgresql(database_urls, tmp_path_factory):
    if not PG_URL:
        pytest.skip("PostgreSQL leg: set MHF_TEST_DATABASE_URL to run it")
    results = {}
    for backend in ("sqlite", "postgres"):
        url = migrated_url(backend, database_urls, tmp_path_factory.getbasetemp())
        engine = build_engine(url)
        try:
            with unit_of_work(build_sessionmaker(engine)) as session:
                data = Data(session)
                build_network(data)
                results[backend] = all_results(data)
                # The report runs every metric in one statement: it must give the same figures.
                assert all_results(data, batched=True) == results[backend]
                session.rollback()
        finally:
            empty_database(engine)
            engine.dispose()
    sqlite, postgres = results["sqlite"], results["postgres"]
    assert sqlite.keys() == postgres.keys()
    differences = {k: (sqlite[k], postgres[k]) for k in sqlite if sqlite[k] != postgres[k]}
    assert differences == {}
    # the dataset exercises the metrics: most of them have something to count
    non_empty = {k[2] for k, v in sqlite.items() if v[3]}
    assert len(non_empty) >= 30, set(REGISTRY) - non_empty
