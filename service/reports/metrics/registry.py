"""What a metric is and the registry that holds them, in the order reports show them.

A metric reads the rows of one family (``service.reports.families``): which rows it counts
(``where``) and what each contributes, ``num`` and ``den`` for counts, sums, proportions and
rates, ``val`` for medians and percentiles. Its *unit query*, one row per thing counted with the
patient it belongs to, is that selection from the family's rows: it is the SQL published beside
the metric's values, and what ``service.reports.runner.compute`` groups one metric by. A report
reads each family once for all its metrics (``compute_all``).

The metrics themselves are registered by one module per report section, imported in order by
``service.reports.metrics``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from sqlalchemy import Float, Integer, Select, case, cast, literal_column, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ColumnElement

from service.reports.context import Ctx
from service.reports.families import Family
from service.reports.period import Period

Kind = Literal["count", "sum", "proportion", "rate", "median", "percentile"]
ADDITIVE_KINDS = ("count", "sum", "proportion", "rate")

# The report sections, in the order the pages show them.
CASELOAD, ADHERENCE, ALERTS, OUTCOMES, MEDICINES, KCCQ = (
    "caseload",
    "adherence",
    "alerts",
    "outcomes",
    "medicines",
    "patient_reported",
)
# Staff time and what it is spent on: what stewards cost (issue 20), after the clinical sections.
RESOURCES = "resources"

# An expression over the period and one row of a family (its CTE's columns).
RowExpression = Callable[[Ctx, Any], ColumnElement[Any]]


def one(ctx: Ctx, row: Any) -> ColumnElement[int]:
    return literal_column("1", Integer)


@dataclass(frozen=True)
class Measure:
    """What a metric reads from its family's rows."""

    family: Family
    # The rows that are units of the metric; every row when None.
    where: RowExpression | None = None
    # What a unit adds to the numerator (1 when None) and the denominator (none when None).
    num: RowExpression | None = None
    den: RowExpression | None = None
    # A median's or percentile's value of a unit.
    val: RowExpression | None = None


@dataclass(frozen=True)
class Metric:
    id: str
    title: str
    section: str
    kind: Kind
    unit: str
    numerator: str
    denominator: str | None
    description: str
    measure: Measure = field(repr=False)
    percentile: int = 50
    # For charts and reading: None where neither direction is good in itself (e.g. referrals).
    higher_is_better: bool | None = None
    # A proportion's or rate's value is ``scale * num / den``: percentages and "per 100
    # patient-days" take 100; a rate read per one unit (minutes per alert) takes 1.
    scale: float = 100.0

    @property
    def is_proportion(self) -> bool:
        return self.kind == "proportion"

    @property
    def comparable(self) -> bool:
        """Whether groups of different sizes can be compared on it (not a count or a sum)."""
        return self.kind not in ("count", "sum")

    @property
    def additive(self) -> bool:
        return self.kind in ADDITIVE_KINDS

    def where(self, ctx: Ctx, row: Any) -> ColumnElement[bool] | None:
        return None if self.measure.where is None else self.measure.where(ctx, row)

    def num(self, ctx: Ctx, row: Any) -> ColumnElement[Any]:
        return (self.measure.num or one)(ctx, row)

    def den(self, ctx: Ctx, row: Any) -> ColumnElement[Any] | None:
        return None if self.measure.den is None else self.measure.den(ctx, row)

    def val(self, ctx: Ctx, row: Any) -> ColumnElement[Any]:
        if self.measure.val is None:
            raise ValueError(f"{self.id} is a {self.kind}: it needs a value per unit")
        return cast(self.measure.val(ctx, row), Float)

    def units(self, ctx: Ctx) -> Select[Any]:
        """One row per thing counted: ``patient_id`` and ``num`` (and ``den``), or ``val``."""
        row = self.measure.family.cte(ctx).c
        columns: list[Any] = [row.patient_id]
        if self.additive:
            columns.append(self.num(ctx, row).label("num"))
            den = self.den(ctx, row)
            if den is not None:
                columns.append(den.label("den"))
        else:
            columns.append(self.val(ctx, row).label("val"))
        units = select(*columns)
        where = self.where(ctx, row)
        return units if where is None else units.where(where)

    def sql(self) -> str:
        """The unit query as PostgreSQL, with the period as named parameters."""
        return _published_sql(self.id)


REGISTRY: dict[str, Metric] = {}


def register(metric: Metric) -> Metric:
    if metric.id in REGISTRY:
        raise ValueError(f"metric {metric.id} registered twice")
    if metric.additive == (metric.measure.val is not None):
        raise ValueError(
            f"metric {metric.id}: a {metric.kind} needs {'num' if metric.additive else 'val'}"
        )
    REGISTRY[metric.id] = metric
    return metric


@cache
def _published_sql(metric_id: str) -> str:
    metric = REGISTRY[metric_id]
    ctx = Ctx.build(Period.for_month("2026-10"))
    compiled = metric.units(ctx).compile(dialect=postgresql.dialect())  # type: ignore[no-untyped-call]
    return str(compiled)


def flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)
