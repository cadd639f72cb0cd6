"""Disclosure control: the HES edges, the audit against a reader who knows the rules, and every
small table checked exhaustively against an exact reader written independently of the audit."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from service.reports.disclosure import (
    LARGEST_SUPPRESSED,
    SUPPRESSED,
    WITHHELD,
    Cell,
    Column,
    RawCell,
    Table,
    disclose_breakdown,
    disclose_count,
    disclose_table,
    percentage,
    protect,
    protect_cells,
    round_to_base,
    statistic,
)
from tests.reports.reader import Reader


@pytest.mark.parametrize(
    ("count", "shown"),
    [(0, 0), (1, "*"), (7, "*"), (8, 10), (12, 10), (13, 15), (17, 15), (18, 20), (102, 100)],
)
def test_count_edges(count, shown):
    assert disclose_count(count) == shown


def test_rounding_rounds_halves_up_unlike_python():
    assert round_to_base(12.5) == 15  # 13 after rounding to a whole number
    assert round_to_base(22) == 20 and round_to_base(23) == 25


def test_percentages_come_from_rounded_figures():
    assert percentage(disclose_count(13), disclose_count(27)) == pytest.approx(60.0)  # 15 / 25
    assert percentage(disclose_count(7), disclose_count(100)) == SUPPRESSED
    assert percentage(0, disclose_count(40)) == 0.0
    assert percentage(0, 0) is None


@pytest.mark.parametrize(("people", "shown"), [(0, None), (1, "*"), (7, "*"), (8, 4.5)])
def test_medians_of_one_to_seven_people_are_hidden(people, shown):
    assert statistic(4.5, people) == shown


# --- an exact reader, written without the audit's solver --------------------------------------


def _interval(shown: int | str) -> tuple[float, float]:
    """The reader's model, as the issue and the report's disclosure block state it."""
    if shown == SUPPRESSED:
        return 1, math.inf
    assert isinstance(shown, int)
    if shown == 0:
        return 0, 0
    return max(LARGEST_SUPPRESSED + 1, shown - 2), shown + 2


def _reader_bounds(shown: list[int | str], total: int | str) -> list[tuple[float, float]]:
    """For one relation (total = sum of cells) with boxes, the exact bounds of every figure.

    A figure's bounds are its own box cut by the total less every other figure's box; for one
    equality over boxes with whole ends that is the exact projection, integer values included.
    Returns the cells' bounds, then the total's.
    """
    boxes = [_interval(v) for v in shown]
    t_lo, t_hi = _interval(total)
    sum_lo = sum(lo for lo, _ in boxes)
    sum_hi = sum(hi for _, hi in boxes)
    t_lo, t_hi = max(t_lo, sum_lo), min(t_hi, sum_hi)
    out = []
    for lo, hi in boxes:
        others_lo, others_hi = sum_lo - lo, sum_hi - hi
        out.append((max(lo, t_lo - others_hi), min(hi, t_hi - others_lo)))
    return [*out, (t_lo, t_hi)]


def _values(bounds: tuple[float, float]) -> float:
    lo, hi = bounds
    return math.inf if hi == math.inf else hi - lo + 1


def _check_one_table(counts: list[int], shown: list[int | str], total: int | str) -> None:
    """What may be shown is shown right, and no small count narrows to one value."""
    true_total = sum(counts)
    for true, out in zip([*counts, true_total], [*shown, total], strict=True):
        if 1 <= true <= LARGEST_SUPPRESSED:
            assert out == SUPPRESSED, (counts, shown, total)
        elif out != SUPPRESSED:
            assert out == round_to_base(true), (counts, shown, total)
    for true, out, bounds in zip(
        [*counts, true_total], [*shown, total], _reader_bounds(shown, total), strict=True
    ):
        assert bounds[0] <= true <= bounds[1], "the reader's model must hold for the truth"
        if out == SUPPRESSED and 1 <= true <= LARGEST_SUPPRESSED:
            assert _values(bounds) >= 2, (counts, shown, total)


# --- the defect of the first build, pinned ----------------------------------------------------


@pytest.mark.parametrize("cells", [[1, 1, 1, 1, 23], [1, 1, 1, 1, 8], [1, 8, 8]])
def test_tables_that_leaked_under_the_first_method_are_safe(cells):
    # [1, 1, 1, 1, 23] was published as *, *, *, *, 25 with total 25: each hidden cell was 1.
    shown, total = protect_cells(cells, sum(cells))
    _check_one_table(cells, shown, total)
    assert shown != ["*", "*", "*", "*", 25] and shown != ["*", "*", "*", "*", 10]


def test_the_smallest_shown_cell_is_hidden_first():
    # 8 and 8 shown as 10 and 10 and a total 17 shown as 15: the hidden 1 would be exactly 1.
    assert protect_cells([1, 8, 8], 17) == (["*", "*", 10], 15)
    assert protect_cells([1, 13, 8], 22) == (["*", 15, "*"], 20)


def test_rounding_alone_protects_a_lone_hidden_cell_where_it_leaves_enough_doubt():
    # 55 - 40 - 10 leaves the hidden cell anywhere from 1 to 11: no complementary is needed.
    assert protect_cells([3, 40, 12, 0], 55) == (["*", 40, 10, 0], 55)


def test_forced_cells_are_hidden_and_kept_uncertain():
    # a rate resting on 3 people: its count of 30 is hidden, and may not be worked out exactly
    shown, total = protect_cells([30, 40, 50], 120, forced=[True, False, False])
    assert shown[0] == SUPPRESSED
    assert _values(_reader_bounds(shown, total)[0]) >= 2


def test_a_median_table_hides_small_groups():
    cells, total = disclose_table(
        "median",
        [RawCell(None, 3, 10.0, 3), RawCell(None, 20, 12.0, 20)],
        RawCell(None, 23, 11.0, 23),
    )
    # 25 less 20 leaves the 3 anywhere from 1 to 9: the 20 people's median may stand
    assert [c.value for c in cells] == ["*", 12.0]
    assert [c.denominator for c in cells] == ["*", 20]
    assert total.value == 11.0 and total.denominator == 25


# --- exhaustive: every table of 2-5 cells with counts 0-12 -----------------------------------


def _protect_all(tables: list[tuple[int, ...]]) -> list[tuple[list[int | str], int | str]]:
    columns = [Column(list(cells), sum(cells), [False] * len(cells), False) for cells in tables]
    protect([Table([c]) for c in columns])
    return [(c.shown, c.shown_total) for c in columns]


def _check_tables(tables: list[tuple[int, ...]]) -> None:
    for cells, (shown, total) in zip(tables, _protect_all(tables), strict=True):
        _check_one_table(list(cells), shown, total)


@pytest.mark.parametrize("size", [2, 3])
def test_every_table_of_two_or_three_cells_in_every_order(size):
    _check_tables(list(itertools.product(range(13), repeat=size)))


def test_every_table_of_five_cells_in_sorted_order():
    # Every order of five cells is make slow's (2 minutes); the method does not depend on the
    # order of the cells, which the test above checks for every table of four.
    _check_tables(list(itertools.combinations_with_replacement(range(13), 5)))


def test_every_table_of_four_cells_in_every_order_and_the_order_does_not_matter():
    tables = list(itertools.product(range(13), repeat=4))
    shown = dict(zip(tables, _protect_all(tables), strict=True))
    for cells, (out, total) in shown.items():
        _check_one_table(list(cells), out, total)
        order = sorted(range(4), key=lambda i: (cells[i], i))
        sorted_out, sorted_total = shown[tuple(cells[i] for i in order)]
        assert [out[i] for i in order] == sorted_out and total == sorted_total, cells


@pytest.mark.slow
def test_every_table_of_five_cells_in_every_order():
    _check_tables(list(itertools.product(range(13), repeat=5)))


# --- properties, derandomized in CI (tests/conftest.py) --------------------------------------

counts = st.lists(st.one_of(st.integers(0, 9), st.integers(0, 60)), min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(counts)
@example([1, 1, 1, 1, 23])
@example([1, 1, 1, 1, 8])
@example([1, 8, 8])
def test_no_small_count_can_be_recovered_by_subtraction(cells):
    shown, total = protect_cells(cells, sum(cells))
    _check_one_table(cells, shown, total)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), min_size=1, max_size=6))
@example([(1, 8), (1, 8), (1, 8), (1, 8), (23, 23)])
def test_proportion_tables_never_show_small_numerators_or_denominators(pairs):
    raw = [RawCell(float(min(n, d)), float(d), None, d) for n, d in pairs]
    total = RawCell(
        sum(c.numerator or 0 for c in raw),
        sum(c.denominator or 0 for c in raw),
        None,
        sum(c.people for c in raw),
    )
    cells, shown_total = disclose_table("proportion", raw, total)
    for true, out in zip(raw, cells, strict=True):
        for value, shown in ((true.numerator, out.numerator), (true.denominator, out.denominator)):
            if value is not None and 1 <= value <= LARGEST_SUPPRESSED:
                assert shown == SUPPRESSED
        if out.value not in (None, SUPPRESSED):
            assert out.numerator != SUPPRESSED and out.denominator != SUPPRESSED
    # each column on its own is a table a reader can subtract in
    for column in ("numerator", "denominator"):
        shown_column = [getattr(c, column) for c in cells]
        truth = [int(getattr(c, column)) for c in raw]
        published_total = getattr(shown_total, column)
        if published_total != SUPPRESSED and all(isinstance(v, int) for v in shown_column):
            # every cell shown: the total is their sum, which says nothing the cells do not
            assert published_total == sum(shown_column)
            _check_one_table(truth, shown_column, disclose_count(sum(truth)))
        elif published_total != SUPPRESSED or any(1 <= t <= 7 for t in truth):
            _check_one_table(truth, shown_column, published_total)
    _check_network_within_its_sites(cells, shown_total)


def _check_network_within_its_sites(cells: list[Cell], total: Cell) -> None:
    values = [
        c.value
        for c in cells
        if isinstance(c.denominator, int) and c.denominator > 0 and isinstance(c.value, float)
    ]
    if len(values) < len(cells):
        return
    if isinstance(total.value, float):
        assert min(values) - 0.1 <= total.value <= max(values) + 0.1, (cells, total)


@pytest.mark.parametrize(
    ("sites", "network"),
    [
        # the case: three sites each 8-12 of 8-12, each shown 10/10, and the network's
        # own 28/33 would have read 30/35 = 85.7 % beside three 100 %s
        ([(8, 12), (10, 11), (10, 10)], (30, 30)),
        ([(40, 52), (18, 23), (9, 9)], (70, 85)),
    ],
)
def test_the_network_is_the_sum_of_its_shown_sites(sites, network):
    raw = [RawCell(float(n), float(d), None, d) for n, d in sites]
    total = RawCell(
        float(sum(n for n, _ in sites)),
        float(sum(d for _, d in sites)),
        None,
        sum(d for _, d in sites),
    )
    cells, shown_total = disclose_table("proportion", raw, total)
    assert (shown_total.numerator, shown_total.denominator) == network
    assert shown_total.numerator == sum(int(c.numerator or 0) for c in cells)
    _check_network_within_its_sites(cells, shown_total)


def test_a_network_beside_a_hidden_site_keeps_its_own_rounded_total():
    raw = [RawCell(3.0, 3.0, None, 3), RawCell(40.0, 52.0, None, 52), RawCell(18.0, 23.0, None, 23)]
    cells, shown_total = disclose_table("proportion", raw, RawCell(61.0, 78.0, None, 78))
    assert cells[0].value == SUPPRESSED
    assert (shown_total.numerator, shown_total.denominator) == (60, 80)


# --- breakdowns: teams and equity groups under their site ------------------------------------


def _counts(values: list[int]) -> list[RawCell]:
    return [RawCell(float(v), None, None, v) for v in values]


def test_a_breakdown_under_a_hidden_site_is_withheld():
    parent = Cell("*", None, "*")  # the site is hidden in the site table
    parts = _counts([20, 0, 25])
    assert (
        disclose_breakdown("count", parts, RawCell(45.0, None, None, 45), parent) == [WITHHELD] * 3
    )


def test_a_breakdown_is_protected_as_if_the_site_were_known_exactly():
    # the site's 12 is shown as 10; groups 1, 1, 1, 1, 8 shown as *, *, *, *, 10 would pin
    # each 1 for a reader who knew the 12 (and one who knows only 8-12 learns it is 12)
    shown = disclose_breakdown(
        "count", _counts([1, 1, 1, 1, 8]), RawCell(12.0, None, None, 12), Cell(10, None, 10)
    )
    assert [c.value for c in shown] == ["*"] * 5


def test_a_breakdown_never_narrows_its_site():
    # teams 8 and 8 shown as 10 and 10 would tell a reader the site's 15 is 16 or 17
    shown = disclose_breakdown(
        "count", _counts([8, 8]), RawCell(16.0, None, None, 16), Cell(15, None, 15)
    )
    assert [c.value for c in shown] == ["*", 10]


def test_a_table_whose_figures_contradict_the_readers_model_is_withheld_not_an_error():
    # 0.4 and 0.4 round to 0 and 0, their total of 0.8 to 1: no reading of them adds up
    cells, total = disclose_table(
        "sum",
        [RawCell(0.4, None, None, 1), RawCell(0.4, None, None, 1)],
        RawCell(0.8, None, None, 2),
    )
    assert cells == [WITHHELD, WITHHELD] and total == WITHHELD


def test_a_breakdown_that_is_safe_is_published_as_it_is():
    shown = disclose_breakdown(
        "count", _counts([20, 0, 25]), RawCell(45.0, None, None, 45), Cell(45, None, 45)
    )
    assert [c.value for c in shown] == [20, 0, 25]


def _proportion_reader(cells: list[Cell], total: Cell) -> Reader:
    reader = Reader()
    for column in ("numerator", "denominator"):
        for i, cell in enumerate(cells):
            reader.sees(f"{column}{i}", getattr(cell, column))
        reader.sees(f"{column}T", getattr(total, column))
        reader.adds_up(f"{column}T", [f"{column}{i}" for i in range(len(cells))])
    for i in [*range(len(cells)), "T"]:
        reader.at_most(f"numerator{i}", f"denominator{i}")
    return reader


_DENOMINATORS = [0, 1, 2, 7, 8, 9, 13]


@pytest.mark.parametrize("first", [(n, d) for d in _DENOMINATORS for n in range(d + 1)][::3])
def test_proportion_tables_hold_against_a_reader_of_both_columns(first):
    # A reader of a proportion table also knows each numerator is at most its denominator.
    for second in [(n, d) for d in _DENOMINATORS for n in range(d + 1)]:
        pairs = [first, second, (13, 13)]
        raw = [RawCell(float(n), float(d), None, d) for n, d in pairs]
        sum_n, sum_d = _sums(pairs)
        cells, total = disclose_table(
            "proportion", raw, RawCell(float(sum_n), float(sum_d), None, 0)
        )
        reader = _proportion_reader(cells, total)
        for i, (n, d) in enumerate(pairs):
            for column, true in (("numerator", n), ("denominator", d)):
                if true != 0 and (1 <= d <= LARGEST_SUPPRESSED or true <= LARGEST_SUPPRESSED):
                    assert getattr(cells[i], column) == SUPPRESSED, pairs
                    assert reader.possible_values(f"{column}{i}") >= 2, (pairs, column, i)


def _sums(pairs: list[tuple[int, int]]) -> tuple[int, int]:
    return sum(n for n, _ in pairs), sum(d for _, d in pairs)
