"""Disclosure control: the HES edges, and properties that no small count leaks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.reports.disclosure import (
    LARGEST_SUPPRESSED,
    SUPPRESSED,
    RawCell,
    disclose_count,
    disclose_table,
    percentage,
    protect_cells,
    round_to_base,
    statistic,
)


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


def test_one_suppressed_site_takes_the_next_smallest_with_it():
    shown, total = protect_cells([3, 40, 12, 0], 55)
    assert shown == ["*", 40, "*", 0]
    assert total == 55


def test_two_suppressed_cells_need_no_more():
    assert protect_cells([3, 5, 40], 48) == (["*", "*", 40], 50)


def test_forced_cells_count_as_suppressed():
    # a rate resting on 3 people: its large count is hidden and protected like a small one
    assert protect_cells([30, 40, 50], 120, forced=[True, False, False]) == (["*", "*", 50], 120)


def test_a_median_table_hides_small_groups():
    cells, total = disclose_table(
        "median",
        [RawCell(None, 3, 10.0, 3), RawCell(None, 20, 12.0, 20)],
        RawCell(None, 23, 11.0, 23),
    )
    assert [c.value for c in cells] == ["*", "*"]  # the second is complementary
    assert total.value == 11.0 and total.denominator == 25


def _interval(shown: int | str) -> tuple[int, int]:
    """What a reader can infer about the true count from what is shown."""
    if shown == SUPPRESSED:
        return 1, 10**9  # a complementary suppression may hide any count
    assert isinstance(shown, int)
    if shown == 0:
        return 0, 0
    return max(LARGEST_SUPPRESSED + 1, shown - 2), shown + 2


counts = st.lists(st.one_of(st.integers(0, 9), st.integers(0, 60)), min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(counts)
def test_small_counts_are_never_shown(cells):
    shown, total = protect_cells(cells, sum(cells))
    for true, out in zip([*cells, sum(cells)], [*shown, total], strict=True):
        if 1 <= true <= LARGEST_SUPPRESSED:
            assert out == SUPPRESSED
        elif out != SUPPRESSED:
            assert out % 5 == 0 and abs(out - true) <= 2


@settings(max_examples=300, deadline=None)
@given(counts)
def test_no_small_count_can_be_recovered_by_subtraction(cells):
    shown, total = protect_cells(cells, sum(cells))
    if total == SUPPRESSED:
        return
    hidden = [i for i, out in enumerate(shown) if out == SUPPRESSED]
    assert len(hidden) != 1
    total_lo, total_hi = _interval(total)
    for i in hidden:
        if not 1 <= cells[i] <= LARGEST_SUPPRESSED:
            continue
        others = [_interval(out) for j, out in enumerate(shown) if j != i]
        # The tightest bounds subtraction gives for cell i: it must still allow several values.
        lo = max(1, total_lo - sum(hi for _, hi in others))
        hi = min(LARGEST_SUPPRESSED, total_hi - sum(lo_ for lo_, _ in others))
        assert hi - lo >= 1, (cells, shown, total, i)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), min_size=1, max_size=6))
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
    for column in ("numerator", "denominator"):
        hidden = [c for c in cells if getattr(c, column) == SUPPRESSED]
        if getattr(shown_total, column) != SUPPRESSED:
            assert len(hidden) != 1


def test_a_breakdown_of_a_hidden_parent_is_hidden_too():
    from service.reports.disclosure import Cell, within_parent

    parent = Cell("*", None, "*")  # e.g. a site suppressed to protect another site
    parts = [Cell(20, None, 20), Cell(0, None, 0), Cell(25, None, 25)]
    assert within_parent(parts, parent) == [
        Cell("*", None, "*"),
        Cell(0, None, 0),
        Cell("*", None, "*"),
    ]
    shown = Cell(45, None, 45)
    assert within_parent(parts, shown) == parts
