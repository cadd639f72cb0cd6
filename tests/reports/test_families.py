"""What the report batch relies on in every family's rows (both databases).

The batch adds each row's group to the family's own query (so ``patients`` must be in its FROM
already, or the group would multiply the rows), and counts the people behind a figure of a
family marked ``per_patient`` by its rows (so no patient may have two).
"""

from __future__ import annotations

from sqlalchemy import distinct, func, select

from service.models.patients import PILLARS
from service.reports.context import Ctx
from service.reports.groups import EQUITY_DIMENSIONS, Grouping, with_group
from service.reports.metrics import REGISTRY
from service.reports.period import Period
from tests.reports.builders import AS_OF, Data, build_network

FAMILIES = {m.measure.family.name: m.measure.family for m in REGISTRY.values()}


def test_family_rows_keep_their_number_with_the_group_and_per_patient_means_it(session):
    data = Data(session)
    build_network(data)
    # The random network optimises nobody in these months: one patient settles all four pillars.
    optimised = data.patient("A", "2026-09-01", hf_type="HFrEF")
    for pillar in PILLARS:
        data.med(optimised, pillar, "started", "2026-10-05", target=True)
    data.done()
    groupings = [Grouping("site"), Grouping("team")] + [
        Grouping(by, site_id=data.sites["S1"]) for by in EQUITY_DIMENSIONS
    ]
    read = set()
    for month in ("2026-03", "2026-10"):
        ctx = Ctx.build(Period.for_month(month, as_of=AS_OF))
        for family in FAMILIES.values():
            rows = family.rows(ctx).subquery()
            count, people = session.execute(
                select(func.count(), func.count(distinct(rows.c.patient_id)))
            ).one()
            if count:
                read.add(family.name)
            if family.per_patient:
                assert count == people, family.name
            for grouping in groupings:
                grouped = with_group(family.rows(ctx), grouping, ctx.period).subquery()
                by_group = session.execute(
                    select(grouped.c.grp, func.count()).group_by(grouped.c.grp)
                ).all()
                if grouping.site_id is None:
                    assert sum(n for _, n in by_group) == count, (family.name, grouping.by)
                assert all(key is not None for key, _ in by_group), (family.name, grouping.by)
    assert read == set(FAMILIES), "the network gives these nothing to read"
