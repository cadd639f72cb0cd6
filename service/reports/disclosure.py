"""Small-number disclosure control for figures shown to programme leads.

After NHS Digital's HES rules: counts of 1-7 are shown as ``*``, other counts are rounded to the
nearest 5, percentages are worked out from the rounded figures, and medians of 1-7 people are
suppressed. Two additions close the gaps those rules leave:

- *Complementary suppression*: where cells add up to a published total (sites to the network,
  groups of an equity split to the site), one suppressed cell could be recovered by subtraction,
  so the next smallest non-zero cell is suppressed as well.
- *Figures resting on 1-7 people* (a rate, a median, an adherence percentage) are suppressed
  whole, even where the count itself (alerts, reading-days) is larger.

Everything here is pure: numbers in, what may be shown out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SUPPRESSED = "*"
SMALLEST_SUPPRESSED = 1
LARGEST_SUPPRESSED = 7
ROUNDING_BASE = 5
PERCENT_DECIMALS = 1
STATISTIC_DECIMALS = 1

Shown = int | str
ShownValue = float | str | None


def is_small(count: float) -> bool:
    """A count that could identify people: 1 to 7 (zero is not disclosive)."""
    return SMALLEST_SUPPRESSED <= count <= LARGEST_SUPPRESSED


def round_to_base(count: float, base: int = ROUNDING_BASE) -> int:
    """Nearest multiple of ``base``, halves rounded up (Python's round() rounds halves to even)."""
    whole = int(count + 0.5) if count >= 0 else -int(-count + 0.5)
    return ((whole + base // 2) // base) * base


def disclose_count(count: float) -> Shown:
    if count == 0:
        return 0
    if is_small(count):
        return SUPPRESSED
    return round_to_base(count)


def protect_cells(
    counts: Sequence[float],
    total: float,
    forced: Sequence[bool] | None = None,
    total_forced: bool = False,
) -> tuple[list[Shown], Shown]:
    """Disclose cells that add up to ``total``, so no suppressed cell can be recovered.

    ``forced`` marks cells that must be hidden whatever their count (they rest on 1-7 people).
    If the total is shown and exactly one cell is hidden, the smallest other non-zero cell is
    hidden too, so the total less the shown cells is the sum of two unknowns.
    """
    forced = list(forced) if forced is not None else [False] * len(counts)
    shown: list[Shown] = [
        SUPPRESSED if must and count != 0 else disclose_count(count)
        for count, must in zip(counts, forced, strict=True)
    ]
    shown_total: Shown = SUPPRESSED if total_forced and total != 0 else disclose_count(total)
    hidden = [i for i, value in enumerate(shown) if value == SUPPRESSED]
    if shown_total != SUPPRESSED and len(hidden) == 1:
        candidates = [i for i, count in enumerate(counts) if i not in hidden and count != 0]
        if candidates:
            smallest = min(candidates, key=lambda i: (counts[i], i))
            shown[smallest] = SUPPRESSED
    return shown, shown_total


def percentage(numerator: Shown | None, denominator: Shown | None) -> ShownValue:
    """A percentage from the disclosed (rounded) figures, never from the true ones."""
    if numerator is None or denominator is None:
        return None
    if SUPPRESSED in (numerator, denominator):
        return SUPPRESSED
    if denominator == 0:
        return None
    assert isinstance(numerator, int) and isinstance(denominator, int)
    return round(100.0 * numerator / denominator, PERCENT_DECIMALS)


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


@dataclass(frozen=True, slots=True)
class RawCell:
    numerator: float | None
    denominator: float | None
    value: float | None
    people: int


def disclose_table(kind: str, cells: Sequence[RawCell], total: RawCell) -> tuple[list[Cell], Cell]:
    """Disclose one metric across cells that add up to ``total`` (sites, teams or groups).

    ``kind`` is the metric kind: count, sum, proportion, rate, median or percentile.
    """
    forced = [is_small(cell.people) for cell in cells]
    total_forced = is_small(total.people)
    numerators: list[Shown | None] = [None] * len(cells)
    total_numerator: Shown | None = None
    if kind not in ("median", "percentile"):
        nums, total_num = protect_cells(
            [c.numerator or 0 for c in cells], total.numerator or 0, forced, total_forced
        )
        numerators, total_numerator = list(nums), total_num
    denominators: list[Shown | None] = [None] * len(cells)
    total_denominator: Shown | None = None
    if kind not in ("count", "sum"):
        dens, total_den = protect_cells(
            [c.denominator or 0 for c in cells], total.denominator or 0, forced, total_forced
        )
        denominators, total_denominator = list(dens), total_den

    def value(raw: RawCell, num: Shown | None, den: Shown | None) -> ShownValue:
        if kind in ("count", "sum"):
            return num
        if kind in ("proportion", "rate"):
            if is_small(raw.people):
                return SUPPRESSED
            return percentage(num, den)
        if den == SUPPRESSED:
            return SUPPRESSED
        return statistic(raw.value, raw.people)

    shown = [
        Cell(num, den, value(raw, num, den))
        for raw, num, den in zip(cells, numerators, denominators, strict=True)
    ]
    return shown, Cell(
        total_numerator, total_denominator, value(total, total_numerator, total_denominator)
    )


def within_parent(cells: Sequence[Cell], parent: Cell) -> list[Cell]:
    """A breakdown (teams of a site, groups of an equity split) of a figure published elsewhere.

    Where the parent is hidden in its own table (perhaps as a complementary suppression), hide
    the breakdown too: shown parts would add up to the parent, and the parent subtracted from
    its table's total would reveal the small cell it protects.
    """
    hide_num = parent.numerator == SUPPRESSED
    hide_den = parent.denominator == SUPPRESSED
    hide_value = parent.value == SUPPRESSED
    out = []
    for cell in cells:
        num = SUPPRESSED if hide_num and cell.numerator not in (0, None) else cell.numerator
        den = SUPPRESSED if hide_den and cell.denominator not in (0, None) else cell.denominator
        hidden = SUPPRESSED in (num, den) or hide_value
        # A zero stays: the parent is the sum of the other parts, which stay hidden.
        value = SUPPRESSED if hidden and cell.value not in (0, None) else cell.value
        out.append(Cell(num, den, value))
    return out


def disclose_one(kind: str, cell: RawCell) -> Cell:
    """A figure published on its own (no cells add up to it)."""
    (shown,), _ = disclose_table(kind, [cell], cell)
    return shown
