"""Running metrics: grouped by site, team or an equity group, with the total, in the database.

Only aggregates reach Python: one row per group and metric.

Medians and percentiles are computed by integer rank and linear interpolation (the definition of
PostgreSQL's ``percentile_cont``, without its floating-point rank) because SQLite has no percentile
function and the two engines must agree to the last digit: ROW_NUMBER()/COUNT() windows give the
ranks; on PostgreSQL a report's batch picks them from each group's ordered ARRAY_AGG instead.

Two ways to the same figures:

- ``compute``: one metric, from its published unit query joined to the patient's group. The
  plain reading of the definition, and what the tests hold the batch to.
- ``compute_all``: every metric of a month in one statement, as reports need them. Each family's
  rows are read once, with the group added to the family's own query, and aggregated once for all
  its metrics (one column per metric); medians and percentiles rank the values their metrics pick
  from those rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    case,
    cast,
    distinct,
    func,
    literal,
    literal_column,
    null,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from service.db.capabilities import tune_for_reports
from service.db.dialect import name_of
from service.models import Patient, Team
from service.reports.context import Ctx
from service.reports.families import Family
from service.reports.groups import Grouping, group_key, group_params, scoped, with_group
from service.reports.metrics import REGISTRY, Metric
from service.reports.period import Period


@dataclass(frozen=True, slots=True)
class MetricValue:
    numerator: float | None
    denominator: float | None
    value: float | None
    # Distinct patients behind the figure: medians and rates of 1-7 people are suppressed.
    n: int


EMPTY = MetricValue(None, None, None, 0)


@dataclass(frozen=True)
class Grouped:
    groups: dict[Any, MetricValue]
    total: MetricValue


def _value(metric: Metric, num: Any, den: Any, val: Any, n: int) -> MetricValue:
    numerator = float(num) if num is not None else None
    denominator = float(den) if den is not None else None
    if metric.kind in ("count", "sum"):
        return MetricValue(numerator or 0.0, None, numerator or 0.0, n)
    if metric.kind in ("proportion", "rate"):
        value = (
            metric.scale * numerator / denominator
            if numerator is not None and denominator
            else None
        )
        return MetricValue(numerator or 0.0, denominator or 0.0, value, n)
    return MetricValue(None, denominator or 0.0, float(val) if val is not None else None, n)


def _params(period: Period, ctx: Ctx, grouping: Grouping) -> dict[str, Any]:
    return {**ctx.params(), **group_params(period, grouping)}


def _interpolated(v_lo: Any, v_hi: Any, frac: Any) -> Any:
    """The value at 0-based position h between ranks lo and lo + 1, ``frac`` = 100 * (h - lo)."""
    return case(
        (frac == 0, v_lo),
        else_=v_lo + (v_hi - v_lo) * cast(frac, Float) / literal(100.0, Float),
    )


def _rank_parts(ranked: Any, k: Any, rn: Any, cnt: Any) -> list[Any]:
    """Aggregates over ``ranked`` rows (``val``, ``patient_id``, rank ``rn`` of ``cnt``) giving
    the values either side of the k-th percentile's position and where it falls between them.

    The 0-based position h = k/100 * (cnt - 1) is kept in integers: ranks lo+1 and lo+2 bracket
    it, and ``frac`` is 100 * (h - lo).
    """
    position = k * (cnt - 1)
    lo = position // 100 + 1
    return [
        func.max(cnt).label("cnt"),
        func.max(case((rn == lo, ranked.c.val))).label("v_lo"),
        func.max(case((rn == lo + 1, ranked.c.val))).label("v_hi"),
        func.max(position % 100).label("frac"),
        func.count(distinct(ranked.c.patient_id)).label("n"),
    ]


# --- one metric -------------------------------------------------------------------------------


def _grouped_units(metric: Metric, ctx: Ctx, grouping: Grouping) -> Any:
    units = metric.units(ctx).subquery("units")
    key = group_key(grouping.by, ctx.period).label("grp")
    query = (
        select(key, units)
        .select_from(units)
        .join(Patient, Patient.id == units.c.patient_id)
        .join(Team, Team.id == Patient.team_id)
    )
    return scoped(query, grouping).cte("grouped_units")


def _additive_statement(g: Any) -> Any:
    den = func.sum(g.c.den) if "den" in g.c else null()

    def aggregate(key: ColumnElement[Any]) -> Any:
        return select(
            key.label("grp"),
            func.coalesce(func.sum(g.c.num), 0).label("num"),
            den.label("den"),
            func.count(distinct(g.c.patient_id)).label("n"),
        )

    by_group = aggregate(g.c.grp).group_by(g.c.grp)
    total = aggregate(cast(null(), g.c.grp.type))
    return union_all(by_group, total)


def _percentile_statement(metric: Metric, g: Any) -> Any:
    k = metric.percentile
    ranked = (
        select(
            g.c.grp,
            g.c.patient_id,
            g.c.val,
            func.row_number().over(partition_by=g.c.grp, order_by=g.c.val).label("rn"),
            func.count().over(partition_by=g.c.grp).label("cnt"),
            func.row_number().over(order_by=g.c.val).label("trn"),
            func.count().over().label("tcnt"),
        )
        .where(g.c.val.is_not(None))
        .subquery("ranked")
    )

    def aggregate(key: ColumnElement[Any], rn: Any, cnt: Any) -> Any:
        return select(key.label("grp"), *_rank_parts(ranked, literal(k, Integer), rn, cnt))

    by_group = aggregate(ranked.c.grp, ranked.c.rn, ranked.c.cnt).group_by(ranked.c.grp)
    total = aggregate(cast(null(), g.c.grp.type), ranked.c.trn, ranked.c.tcnt)
    parts = union_all(by_group, total).subquery("parts")
    value = _interpolated(parts.c.v_lo, parts.c.v_hi, parts.c.frac)
    return select(
        parts.c.grp, null().label("num"), parts.c.cnt.label("den"), parts.c.n, value.label("val")
    )


def statement(metric: Metric, ctx: Ctx, grouping: Grouping) -> Any:
    g = _grouped_units(metric, ctx, grouping)
    if metric.additive:
        return _additive_statement(g)
    return _percentile_statement(metric, g)


# Building a statement costs more Python than running it on a month of data: build each shape
# once per process and run it with the period's values as parameters.
_STATEMENTS: dict[tuple[str, str, bool, bool], Any] = {}


def _cached_statement(metric: Metric, ctx: Ctx, grouping: Grouping) -> Any:
    key = (metric.id, grouping.by, grouping.site_id is not None, grouping.team_id is not None)
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        stmt = _STATEMENTS[key] = statement(metric, ctx, grouping)
    return stmt


def compute(session: Session, metric: Metric, period: Period, grouping: Grouping) -> Grouped:
    """One metric for one period, by group, with the total over all groups in scope."""
    ctx = Ctx.build(period)
    groups: dict[Any, MetricValue] = {}
    total = _value(metric, None, None, None, 0)
    params = _params(period, ctx, grouping)
    for row in session.execute(_cached_statement(metric, ctx, grouping), params).all():
        val = None if metric.additive else row.val
        result = _value(metric, row.num, row.den, val, int(row.n or 0))
        if row.grp is None:
            total = result
        else:
            groups[row.grp] = result
    return Grouped(groups, total)


# --- every metric of a month in one statement ---------------------------------------------------
#
# Each patient belongs to exactly one group (the key is a column of the patient or of its team),
# so an additive metric's total is the sum of its groups, people included: the statement returns
# the groups, and Python adds up the few rows. Medians and percentiles get their totals from the
# statement.

Tagged = list[tuple[int, Metric]]


def _family_rows(family: Family, ctx: Ctx, grouping: Grouping) -> Any:
    return ctx.cte(family.name, lambda c: with_group(family.rows(c), grouping, c.period))


def _tag(number: int) -> ColumnElement[int]:
    return literal_column(str(number), Integer)


def _picked(where: ColumnElement[bool] | None, value: Any) -> Any:
    """``value`` on the metric's own rows, NULL (which aggregates skip) on the family's others."""
    return value if where is None else case((where, value))


def _family_additive(family: Family, metrics: Tagged, ctx: Ctx, grouping: Grouping) -> list[Any]:
    """The family's additive metrics by group: one aggregate over its rows, a column per metric,
    then a row per metric and group (a group without units of a metric has no row)."""
    rows = _family_rows(family, ctx, grouping)
    columns: list[Any] = [rows.c.grp]
    # Per metric: its position, and the names of its people, numerator and denominator columns.
    shapes: list[tuple[int, str, str, str | None]] = []
    for j, (i, metric) in enumerate(metrics):
        where = metric.where(ctx, rows.c)
        people = f"n_{j}"
        if family.per_patient:
            columns.append(func.count(_picked(where, _tag(1))).label(people))
        else:
            columns.append(func.count(distinct(_picked(where, rows.c.patient_id))).label(people))
        # A count over a family with a row per patient: each unit is one person and adds 1.
        numerator = people
        if not (family.per_patient and metric.measure.num is None):
            numerator = f"num_{j}"
            columns.append(func.sum(_picked(where, metric.num(ctx, rows.c))).label(numerator))
        den = metric.den(ctx, rows.c)
        denominator = None
        if den is not None:
            denominator = f"den_{j}"
            columns.append(func.sum(_picked(where, den)).label(denominator))
        shapes.append((i, people, numerator, denominator))
    by_group = select(*columns).group_by(rows.c.grp).cte(f"{family.name}_by_group")
    no_den = cast(null(), Integer)
    no_value = cast(null(), Float).label("val")
    return [
        select(
            _tag(i).label("m"),
            by_group.c.grp,
            func.coalesce(by_group.c[numerator], 0).label("num"),
            (no_den if denominator is None else by_group.c[denominator]).label("den"),
            by_group.c[people].label("n"),
            no_value,
        ).where(by_group.c[people] > 0)
        for i, people, numerator, denominator in shapes
    ]


def _percentile_units(metrics: Tagged, ctx: Ctx, grouping: Grouping) -> Any:
    """Each metric's values with the metric's position ``m``, its percentile ``k``, the patient
    and the group."""
    branches = []
    for i, metric in metrics:
        rows = _family_rows(metric.measure.family, ctx, grouping)
        units = select(
            _tag(i).label("m"),
            _tag(metric.percentile).label("k"),
            rows.c.patient_id,
            metric.val(ctx, rows.c).label("val"),
            rows.c.grp,
        )
        where = metric.where(ctx, rows.c)
        branches.append(units if where is None else units.where(where))
    together = union_all(*branches) if len(branches) > 1 else branches[0]
    return together.cte("percentile_units")


def _percentile_rows(parts: Any) -> Any:
    """The batch's row shape from the parts (m, grp, cnt, n, v_lo, v_hi, frac)."""
    return select(
        parts.c.m,
        parts.c.grp,
        null().label("num"),
        parts.c.cnt.label("den"),
        parts.c.n,
        _interpolated(parts.c.v_lo, parts.c.v_hi, parts.c.frac).label("val"),
    )


def _batched_percentile_postgresql(g: Any) -> Any:
    """As _batched_percentile, with the same integer ranks and interpolation, but each group's
    values gathered in order by one aggregate (the groups and the totals in one pass, by
    GROUPING SETS) instead of two ranking windows over every row: a third less work, the same
    figures to the last digit."""
    cnt = func.count()
    position = g.c.k * (cnt - 1)
    lo = position // 100 + 1
    values = func.array_agg(postgresql.aggregate_order_by(g.c.val, g.c.val), type_=ARRAY(Float))
    parts = (
        select(
            g.c.m,
            g.c.grp,
            cnt.label("cnt"),
            func.count(distinct(g.c.patient_id)).label("n"),
            values[lo].label("v_lo"),
            values[lo + 1].label("v_hi"),
            (position % 100).label("frac"),
        )
        .where(g.c.val.is_not(None))
        .group_by(func.grouping_sets(tuple_(g.c.m, g.c.k, g.c.grp), tuple_(g.c.m, g.c.k)))
        .subquery("percentile_parts")
    )
    return _percentile_rows(parts)


def _batched_percentile(g: Any) -> Any:
    ranked = (
        select(
            g.c.m,
            g.c.k,
            g.c.grp,
            g.c.patient_id,
            g.c.val,
            func.row_number().over(partition_by=(g.c.m, g.c.grp), order_by=g.c.val).label("rn"),
            func.count().over(partition_by=(g.c.m, g.c.grp)).label("cnt"),
            func.row_number().over(partition_by=g.c.m, order_by=g.c.val).label("trn"),
            func.count().over(partition_by=g.c.m).label("tcnt"),
        )
        .where(g.c.val.is_not(None))
        .subquery("percentile_ranked")
    )

    def aggregate(key: ColumnElement[Any], rn: Any, cnt: Any, *group_by: Any) -> Any:
        parts = _rank_parts(ranked, ranked.c.k, rn, cnt)
        return select(ranked.c.m, key.label("grp"), *parts).group_by(ranked.c.m, *group_by)

    by_group = aggregate(ranked.c.grp, ranked.c.rn, ranked.c.cnt, ranked.c.grp)
    total = aggregate(cast(null(), g.c.grp.type), ranked.c.trn, ranked.c.tcnt)
    parts = union_all(by_group, total).subquery("percentile_parts")
    return _percentile_rows(parts)


def batched_statement(
    metrics: list[Metric], ctx: Ctx, grouping: Grouping, dialect: str = "sqlite"
) -> Any:
    """Rows (m, grp, num, den, n, val): m the position in ``metrics``; grp NULL for the total of
    a median or percentile (additive totals are the sums of their groups)."""
    tagged = list(enumerate(metrics))
    families: dict[str, tuple[Family, Tagged]] = {}
    for i, metric in tagged:
        if metric.additive:
            family = metric.measure.family
            families.setdefault(family.name, (family, []))[1].append((i, metric))
    # One flat UNION ALL: SQLite allows no parenthesised compound inside another.
    parts: list[Any] = []
    for family, members in families.values():
        parts += _family_additive(family, members, ctx, grouping)
    percentile = [(i, m) for i, m in tagged if not m.additive]
    if percentile:
        units = _percentile_units(percentile, ctx, grouping)
        if dialect == "postgresql":
            parts.append(_batched_percentile_postgresql(units))
        else:
            parts.append(_batched_percentile(units))
    return union_all(*parts) if len(parts) > 1 else parts[0]


REPORT_WORK_MEM = "32MB"
_BATCHES: dict[tuple[tuple[str, ...], str, bool, bool, str], Any] = {}


def _cached_batch(metrics: list[Metric], ctx: Ctx, grouping: Grouping, dialect: str) -> Any:
    key = (
        tuple(m.id for m in metrics),
        grouping.by,
        grouping.site_id is not None,
        grouping.team_id is not None,
        dialect,
    )
    stmt = _BATCHES.get(key)
    if stmt is None:
        stmt = _BATCHES[key] = batched_statement(metrics, ctx, grouping, dialect)
    return stmt


def _summed(metric: Metric, groups: Iterable[MetricValue]) -> MetricValue:
    """An additive metric's total from its groups: sums of numerators, denominators, people."""
    values = list(groups)
    if not values:
        return _value(metric, None, None, None, 0)
    dens = [v.denominator for v in values if v.denominator is not None]
    return _value(
        metric,
        sum(v.numerator or 0.0 for v in values),
        sum(dens) if dens else None,
        None,
        sum(v.n for v in values),
    )


def compute_all(
    session: Session, period: Period, grouping: Grouping, metric_ids: list[str] | None = None
) -> dict[str, Grouped]:
    """Every metric (or those named) for one period, as compute() gives them one by one."""
    metrics = [REGISTRY[mid] for mid in (metric_ids or list(REGISTRY))]
    ctx = Ctx.build(period)
    dialect = name_of(session)
    tune_for_reports(session, REPORT_WORK_MEM)
    groups: dict[str, dict[Any, MetricValue]] = {m.id: {} for m in metrics}
    totals: dict[str, MetricValue] = {}
    statement = _cached_batch(metrics, ctx, grouping, dialect)
    for row in session.execute(statement, _params(period, ctx, grouping)).all():
        metric = metrics[row.m]
        val = None if metric.additive else row.val
        result = _value(metric, row.num, row.den, val, int(row.n or 0))
        if row.grp is None:
            totals[metric.id] = result
        else:
            groups[metric.id][row.grp] = result
    return {
        m.id: Grouped(
            groups[m.id],
            totals.get(m.id, _value(m, None, None, None, 0))
            if not m.additive
            else _summed(m, groups[m.id].values()),
        )
        for m in metrics
    }
