"""Every metric, by every grouping, gives identical results on SQLite and PostgreSQL.

One pseudo-random network (seeded) is built in both databases, with readings and alerts at
random seconds across both clock changes of 2026, and every metric is computed for March and
October (the months with a clock change) by site, team and each equity dimension.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from service.db import build_engine, build_sessionmaker, unit_of_work
from service.reports.metrics import EQUITY_DIMENSIONS, REGISTRY, Grouping, compute, compute_all
from service.reports.models import PILLARS
from service.reports.period import Period
from tests.conftest import PG_URL, _empty, _migrated_url
from tests.reports.builders import AS_OF, Data, utc

pytestmark = pytest.mark.postgres

MONTHS = ("2026-03", "2026-10")


def build_network(data: Data, seed: int = 5) -> None:
    rng = random.Random(seed)
    data.site("S1", teams=("A", "B"))
    data.site("S2", teams=("C", "D"))
    start = utc("2026-02-01T00:00")
    for i in range(40):
        team = rng.choice("ABCD")
        enrolled = (start + timedelta(days=rng.randrange(0, 260))).date()
        discharged = (
            enrolled + timedelta(days=rng.randrange(0, 120)) if rng.random() < 0.6 else None
        )
        if discharged and discharged > AS_OF:
            discharged = None
        pid = data.patient(
            team,
            enrolled.isoformat(),
            discharged.isoformat() if discharged else None,
            rng.choice(["stable_optimised", "admitted", "died", "withdrew", "other"])
            if discharged
            else None,
            created=(start + timedelta(seconds=rng.randrange(0, 260 * 86400))).isoformat(
                timespec="seconds"
            )[:19],
            nhs=None if i % 7 else "9434765919" if i % 14 else None,
            hf_type=rng.choice(["HFrEF", "HFrEF", "HFpEF", None]),
            ethnicity=rng.choice(["A", "H", "M", "Z", "99", None, "R", "E"]),
            imd_quintile=rng.choice([1, 2, 3, 4, 5, None]),
            sex=rng.choice(["female", "male", "other", "unknown"]),
            date_of_birth=(start - timedelta(days=rng.randrange(50 * 365, 95 * 365))).date(),
            expects_daily_weight=rng.random() < 0.9,
        )
        for _ in range(rng.randrange(0, 50)):
            at = start + timedelta(seconds=rng.randrange(0, 280 * 86400))
            data.reading(pid, at.isoformat()[:19], rng.choice(["weight", "weight", "heart_rate"]))
        for _ in range(rng.randrange(0, 4)):
            raised = start + timedelta(seconds=rng.randrange(0, 280 * 86400))
            action = (
                raised + timedelta(seconds=rng.randrange(60, 3 * 86400))
                if rng.random() < 0.8
                else None
            )
            resolved = (
                action + timedelta(hours=rng.randrange(1, 48))
                if action and rng.random() < 0.7
                else None
            )
            data.alert(
                pid,
                rng.choice(["red", "amber"]),
                raised.isoformat()[:19],
                due=(raised + timedelta(hours=4)).isoformat()[:19],
                action=action.isoformat()[:19] if action else None,
                resolved=resolved.isoformat()[:19] if resolved else None,
                outcome=rng.choice(["no_action_needed", "advice_given"]) if resolved else None,
            )
        for _ in range(rng.randrange(0, 3)):
            on = enrolled + timedelta(days=rng.randrange(-10, 90))
            if on > AS_OF:
                continue
            out = on + timedelta(days=rng.randrange(0, 12)) if rng.random() < 0.8 else None
            data.admission(
                pid,
                on.isoformat(),
                out.isoformat() if out and out <= AS_OF else None,
                hf=rng.random() < 0.5,
                emergency=rng.random() < 0.9,
            )
        if rng.random() < 0.3:
            data.event(
                pid, "ae_attendance", (enrolled + timedelta(days=rng.randrange(0, 60))).isoformat()
            )
        for pillar in PILLARS:
            for _ in range(rng.randrange(0, 3)):
                status = rng.choice(
                    ["started", "started", "stopped", "not_tolerated", "contraindicated"]
                )
                on = enrolled + timedelta(days=rng.randrange(-5, 80))
                data.med(
                    pid,
                    pillar,
                    status,
                    on.isoformat(),
                    target=status == "started" and rng.random() < 0.5,
                )
        for timepoint in ("start", "discharge", "other"):
            if rng.random() < 0.7:
                on = enrolled + timedelta(days=rng.randrange(0, 100))
                data.kccq(pid, rng.randrange(0, 1001) / 10, timepoint, on.isoformat())
    data.done()


def all_results(
    data: Data, batched: bool = False
) -> dict[tuple[str, str, str, str], tuple[object, ...]]:
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
        url = _migrated_url(backend, database_urls, tmp_path_factory.getbasetemp())
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
            _empty(engine)
            engine.dispose()
    sqlite, postgres = results["sqlite"], results["postgres"]
    assert sqlite.keys() == postgres.keys()
    differences = {k: (sqlite[k], postgres[k]) for k in sqlite if sqlite[k] != postgres[k]}
    assert differences == {}
    # the dataset exercises the metrics: most of them have something to count
    non_empty = {k[2] for k, v in sqlite.items() if v[3]}
    assert len(non_empty) >= 30, set(REGISTRY) - non_empty
