"""Small-number disclosure control for figures shown to programme leads.

After NHS Digital's HES rules: counts of 1-7 are shown as ``*``, other counts are rounded to the
nearest 5, percentages are worked out from the rounded figures, and figures resting on 1-7
people (a rate, a median, an adherence percentage) are suppressed whole.

Rounding alone does not protect a hidden count: a reader who knows the rules can subtract.
``[1, 1, 1, 1, 23]`` published as ``*, *, *, *, 25`` with total ``25`` gives a total of at most
27 and a fifth cell of at least 23, so each hidden cell is exactly 1. So:

**The reader's model** (published in every report's ``disclosure`` block): a shown count ``v``
means the true count is in ``[max(8, v - 2), v + 2]``; ``*`` means at least 1 (a small count or a
complementary suppression); ``0`` means 0; ``null`` in a breakdown means not published. A
total whose cells are all shown is published as their sum, so a network figure never
contradicts its sites (see ``_consistent_total``).

**The audit** (``disclosure_audit``): for every hidden cell resting on 1-7 people or counting 1-7,
the smallest and largest value it can take under every relation a reader sees in the table
(parts add up to the total, a numerator is at most its denominator) is found by linear
programming. Each must keep at least two possible values; until they all do, the smallest shown
non-zero cell of the failing column is hidden as well (complementary suppression).

**Relations across tables.** Every report publishes slices of one hierarchy: the network and its
sites (per month; the trend shows the same months' cells), and under each site its teams and its
equity groups. Sites are protected against the network total. A breakdown (teams, or the groups
of one equity split) is published only under a site whose figure is shown, and is protected
twice: its small cells are audited as if the reader knew the site's true count exactly, and the
breakdown must allow every value of the site's own published interval, so it tells a reader
nothing about the site (nor, through it, about the other sites or the other breakdowns) beyond
what the site's row already did. Under a hidden site the breakdown is withheld whole. So any
combination of released tables (network and site reports, equity splits, a month and its trend,
the CSV and the JSON of the same figures) reveals no more than each of them does alone.

Everything here is pure: numbers in, what may be shown out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from service.reports import disclosure_audit
from service.reports.disclosure_audit import Question, Relation, View

SUPPRESSED = "*"
SMALLEST_SUPPRESSED = 1
LARGEST_SUPPRESSED = 7
ROUNDING_BASE = 5
PERCENT_DECIMALS = 1
STATISTIC_DECIMALS = 1
# A hidden figure must keep at least this many possible whole values in the reader's eyes.
LEAST_POSSIBLE_VALUES = 2

Shown = int | str
ShownValue = float | str | None
Interval = tuple[float, float]


def is_small(count: float) -> bool:
    """A count that could identify people: 1 to 7 (zero is not disclosive)."""
    return SMALLEST_SUPPRESSED <= count <= LARGEST_SUPPRESSED


def round_to_base(count: float, base: int = ROUNDING_BASE) -> int:
    """Nearest multiple of ``base``, halves rounded up (Python's round() rounds halves to even)."""
    return ((whole(count) + base // 2) // base) * base


def whole(count: float) -> int:
    """A count or sum as the whole number the rules work on (halves up)."""
    return int(count + 0.5) if count >= 0 else -int(-count + 0.5)


def disclose_count(count: float) -> Shown:
    if count == 0:
        return 0
    if is_small(count):
        return SUPPRESSED
    return round_to_base(count)


def reader_interval(shown: Shown) -> Interval:
    """What a reader who knows the rules can tell about the true count from what is shown."""
    if shown == SUPPRESSED:
        return (float(SMALLEST_SUPPRESSED), math.inf)
    assert isinstance(shown, int)
    if shown == 0:
        return (0.0, 0.0)
    half = ROUNDING_BASE // 2
    return (float(max(LARGEST_SUPPRESSED + 1, shown - half)), float(shown + half))


def possible_values(interval: Interval) -> float:
    """How many whole values lie in ``interval`` (infinite when unbounded above)."""
    lo, hi = interval
    if math.isnan(lo) or math.isnan(hi):
        return 0
    if hi == math.inf:
        return math.inf
    return max(0, math.floor(hi + 1e-9) - math.ceil(lo - 1e-9) + 1)


# --- the protection of one column of counts -----------------------------------------------


@dataclass(slots=True)
class Column:
    """One column of counts (numerators, or denominators) of a table, and what is shown of it.

    ``parent`` is the interval a reader already has for the total from the table above, where
    the total is published there (a breakdown); ``None`` where this table publishes its total.
    """

    counts: list[int]
    total: int
    sensitive: list[bool]
    total_sensitive: bool
    parent: Interval | None = None
    shown: list[Shown] = field(init=False)
    shown_total: Shown = field(init=False)

    def __post_init__(self) -> None:
        self.shown = [
            SUPPRESSED if must and count != 0 else disclose_count(count)
            for count, must in zip(self.counts, self.sensitive, strict=True)
        ]
        if self.parent is not None:
            self.shown_total = self.total  # published above; the audit uses the true count
        elif self.total_sensitive and self.total != 0:
            self.shown_total = SUPPRESSED
        else:
            self.shown_total = disclose_count(self.total)

    def protected(self, i: int) -> bool:
        """A hidden part the audit must keep uncertain: a small count or a forced one."""
        return self.shown[i] == SUPPRESSED and (is_small(self.counts[i]) or self.sensitive[i])

    def total_protected(self) -> bool:
        return (
            self.parent is None
            and self.shown_total == SUPPRESSED
            and (is_small(self.total) or self.total_sensitive)
        )

    def shown_parts(self) -> list[int]:
        return [
            i for i, shown in enumerate(self.shown) if shown != SUPPRESSED and self.counts[i] != 0
        ]

    def hide_total(self) -> bool:
        """Hide a total this table publishes; False where it is published above or is 0."""
        if self.parent is None and self.shown_total not in (SUPPRESSED, 0):
            self.shown_total = SUPPRESSED
            return True
        return False


@dataclass(slots=True)
class Table:
    """Columns of one table that a reader sees together; ``ordered``: numerator <= denominator."""

    columns: list[Column]
    ordered: bool = False
    withheld: bool = False

    def hide_next(self) -> bool:
        """Hide the smallest shown non-zero part (or, last, a total); False if none is left.

        The candidates are every part of the table, not only the failing cell's column: in a
        numerator and denominator table a hidden count can be pinned through its row partner.
        """
        candidates = [
            (col.counts[i], c, i) for c, col in enumerate(self.columns) for i in col.shown_parts()
        ]
        if candidates:
            _, c, i = min(candidates)
            self.columns[c].shown[i] = SUPPRESSED
            return True
        return any(col.hide_total() for col in self.columns)

    def _variables(self) -> list[tuple[int, int]]:
        """(column, position) of each variable: the parts, then the total (position -1)."""
        return [(c, i) for c, col in enumerate(self.columns) for i in [*range(len(col.counts)), -1]]

    def views(self) -> tuple[list[View], list[tuple[Question, Interval | None]]]:
        """The reader's views of this table and the questions the audit asks of them.

        Each question comes with, for a breakdown's total, the interval the answer must equal
        (the breakdown may not narrow its published parent). No questions, no views: most
        tables of a large network hide nothing.
        """
        variables = self._variables()
        questions: list[tuple[Question, Interval | None]] = [
            (Question(0, k), None)
            for k, (c, i) in enumerate(variables)
            if (self.columns[c].protected(i) if i >= 0 else self.columns[c].total_protected())
        ]
        breakdown = any(col.parent is not None for col in self.columns)
        if not questions and not breakdown:
            return [], []
        index = {v: k for k, v in enumerate(variables)}
        relations = [
            Relation.total(index[(c, -1)], [index[(c, i)] for i in range(len(col.counts))])
            for c, col in enumerate(self.columns)
        ]
        if self.ordered and len(self.columns) == 2:
            relations += [
                Relation.at_most(index[(0, i)], index[(1, i)])
                for i in [*range(len(self.columns[0].counts)), -1]
            ]

        def bounds(parent_as: str) -> list[Interval]:
            out = []
            for c, i in variables:
                col = self.columns[c]
                if i >= 0:
                    out.append(reader_interval(col.shown[i]))
                elif col.parent is None:
                    out.append(reader_interval(col.shown_total))
                elif parent_as == "true":
                    out.append((float(col.total), float(col.total)))
                else:
                    out.append(col.parent)
            return out

        views = [View(bounds("true"), relations)]
        if breakdown:
            views.append(View(bounds("published"), relations))
            questions += [
                (Question(1, index[(c, -1)]), col.parent)
                for c, col in enumerate(self.columns)
                if col.parent is not None
            ]
        return views, questions


def passes(answer: Interval, required: Interval | None) -> bool:
    if required is not None:
        return answer == required
    return possible_values(answer) >= LEAST_POSSIBLE_VALUES


def protect(tables: Sequence[Table]) -> None:
    """Add complementary suppressions to every table until the audit passes for all of them.

    Tables are independent of one another (see the module's note on relations across tables),
    so each round asks every open table's questions in one programme, then hides one more cell
    in each failing table. A table that cannot pass is withheld: a breakdown sometimes, a table
    that publishes its own total only when its figures contradict the reader's model (with
    everything non-zero hidden, no hidden cell has an upper bound).
    """
    open_tables = list(tables)
    while open_tables:
        views: list[View] = []
        asked: list[tuple[int, Question, Interval | None]] = []
        for t, table in enumerate(open_tables):
            table_views, questions = table.views()
            for question, required in questions:
                shifted = Question(question.view + len(views), question.variable)
                asked.append((t, shifted, required))
            views.extend(table_views)
        answers = disclosure_audit.ranges(views, [q for _, q, _ in asked])
        failing = sorted(
            {
                t
                for (t, _q, required), answer in zip(asked, answers, strict=True)
                if not passes(answer, required)
            }
        )
        still_open = []
        for t in failing:
            table = open_tables[t]
            if table.hide_next():
                still_open.append(table)
            else:
                table.withheld = True
        open_tables = still_open


# --- figures as programme leads see them -----------------------------------------------------


def percentage(
    numerator: Shown | None, denominator: Shown | None, scale: float = 100.0
) -> ShownValue:
    """A percentage (or a rate per ``scale``) from the disclosed (rounded) figures, never from
    the true ones."""
    if numerator is None or denominator is None:
        return None
    if SUPPRESSED in (numerator, denominator):
        return SUPPRESSED
    if denominator == 0:
        return None
    assert isinstance(numerator, int) and isinstance(denominator, int)
    return round(scale * numerator / denominator, PERCENT_DECIMALS)


def statistic(value: float | None, people: int) -> ShownValue:
    """A median, mean or percentile: hidden when it rests on 1-7 people."""
    if value is None or people == 0:
        return None
    if is_small(people):
        return SUPPRESSED
    return round(value, STATISTIC_DECIMALS)


@dataclass(frozen=True, slots=True)
class Cell:
    """One figure as a programme lead may see it."""

    numerator: Shown | None
    denominator: Shown | None
    value: ShownValue


WITHHELD = Cell(None, None, None)


@dataclass(frozen=True, slots=True)
class RawCell:
    numerator: float | None
    denominator: float | None
    value: float | None
    people: int


@dataclass(frozen=True, slots=True)
class Request:
    """One metric's cells that add up to ``total``: sites of the network, or a breakdown.

    ``parent``: for a breakdown (teams of a site, groups of an equity split), the site's cell as
    it is published in the site table; the breakdown is protected against it, and returned
    with it as its total.
    """

    kind: str
    cells: tuple[RawCell, ...]
    total: RawCell
    parent: Cell | None = None
    # The metric's ``scale``: a proportion or rate is shown as ``scale * num / den``.
    scale: float = 100.0


def _has_numerator(kind: str) -> bool:
    return kind not in ("median", "percentile")


def _has_denominator(kind: str) -> bool:
    return kind not in ("count", "sum")


def _parent_hidden(request: Request) -> bool:
    parent = request.parent
    return parent is not None and SUPPRESSED in (parent.numerator, parent.denominator, parent.value)


def _column(request: Request, attribute: str, parent: Shown | None) -> Column:
    forced = [is_small(cell.people) for cell in request.cells]
    return Column(
        counts=[whole(getattr(cell, attribute) or 0) for cell in request.cells],
        total=whole(getattr(request.total, attribute) or 0),
        sensitive=forced,
        total_sensitive=is_small(request.total.people),
        parent=None if request.parent is None else reader_interval(parent if parent else 0),
    )


def _table(request: Request) -> Table | None:
    if _parent_hidden(request):
        return None
    parent = request.parent
    columns: list[Column] = []
    if _has_numerator(request.kind):
        columns.append(_column(request, "numerator", parent.numerator if parent else None))
    if _has_denominator(request.kind):
        columns.append(_column(request, "denominator", parent.denominator if parent else None))
    return Table(columns, ordered=request.kind == "proportion")


def _value(
    kind: str, raw: RawCell, num: Shown | None, den: Shown | None, scale: float
) -> ShownValue:
    if kind in ("count", "sum"):
        return num
    if kind in ("proportion", "rate"):
        if is_small(raw.people):
            return SUPPRESSED
        return percentage(num, den, scale)
    if den == SUPPRESSED:
        return SUPPRESSED
    return statistic(raw.value, raw.people)


def _shown_cells(request: Request, table: Table | None) -> tuple[list[Cell], Cell]:
    if table is None or table.withheld:
        # A table with its own total passes once everything non-zero is hidden, unless its
        # figures contradict the reader's model (parts of a fractional sum rounded one by one
        # need not add up to their rounded total): then nothing of it is published.
        return [WITHHELD] * len(request.cells), request.parent or WITHHELD
    columns = iter(table.columns)
    nums = next(columns) if _has_numerator(request.kind) else None
    dens = next(columns) if _has_denominator(request.kind) else None
    cells = []
    for i, raw in enumerate(request.cells):
        num = nums.shown[i] if nums else None
        den = dens.shown[i] if dens else None
        cells.append(Cell(num, den, _value(request.kind, raw, num, den, request.scale)))
    if request.parent is not None:
        return cells, request.parent
    num_total = _consistent_total(nums)
    den_total = _consistent_total(dens)
    return cells, Cell(
        num_total,
        den_total,
        _value(request.kind, request.total, num_total, den_total, request.scale),
    )


def _consistent_total(column: Column | None) -> Shown | None:
    """The total as published: where every cell of the column is shown, the sum of the shown
    cells, so a network figure can always be checked against its sites (three sites at 10/10
    make 30/30, never a rounded 30/35); otherwise the total's own disclosed figure.

    The sum says no more than the cells beside it already do, and it is used only where the
    total itself may be shown.
    """
    if column is None:
        return None
    if column.shown_total == SUPPRESSED or any(not isinstance(v, int) for v in column.shown):
        return column.shown_total
    return sum(int(v) for v in column.shown)


def disclose_many(requests: Sequence[Request]) -> list[tuple[list[Cell], Cell]]:
    """Disclose many tables at once (every metric of a month): one audit programme per round."""
    tables = [_table(request) for request in requests]
    protect([t for t in tables if t is not None])
    return [_shown_cells(r, t) for r, t in zip(requests, tables, strict=True)]


def disclose_table(kind: str, cells: Sequence[RawCell], total: RawCell) -> tuple[list[Cell], Cell]:
    """Disclose one metric across cells that add up to ``total`` (sites, teams or groups).

    ``kind`` is the metric kind: count, sum, proportion, rate, median or percentile.
    """
    ((shown, shown_total),) = disclose_many([Request(kind, tuple(cells), total)])
    return shown, shown_total


def disclose_breakdown(
    kind: str, cells: Sequence[RawCell], total: RawCell, parent: Cell
) -> list[Cell]:
    """A breakdown of a figure published elsewhere as ``parent`` (see the module's note)."""
    ((shown, _),) = disclose_many([Request(kind, tuple(cells), total, parent)])
    return shown


def protect_cells(
    counts: Sequence[float],
    total: float,
    forced: Sequence[bool] | None = None,
    total_forced: bool = False,
) -> tuple[list[Shown], Shown]:
    """Disclose counts that add up to ``total``, so no small or forced count can be recovered.

    ``forced`` marks cells that must be hidden whatever their count (they rest on 1-7 people).
    """
    column = Column(
        counts=[whole(c) for c in counts],
        total=whole(total),
        sensitive=list(forced) if forced is not None else [False] * len(counts),
        total_sensitive=total_forced,
    )
    protect([Table([column])])
    return column.shown, column.shown_total
