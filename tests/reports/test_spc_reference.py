"""The SPC module against NHSRplotthedots' own tests, on the same numbers.

Sources (nhs-r-community/NHSRplotthedots, read through the stored repositories):
- ``tests/testthat/test-ptd_spc_standard.R``: ``set.seed(123); y = rnorm(20)`` (the values below,
  R's rnorm(20) after set.seed(123), as its snapshot prints them), the screen_outliers and
  fix_after_n_points checks, and the "2 of 3 on opposite sides" regression test (issue #143).
- ``tests/testthat/_snaps/ptd_spc.md``: the summary of that series (mean 0.142, lpl -3.01,
  upl 3.29, 20 common-cause points) and of its two halves as facets (0.0746 / -2.60 / 2.75 and
  0.209 / -3.28 / 3.70), printed to three significant figures.
- ``tests/testthat/test-ptd_calculate_point_type.R``: the rule helpers on small vectors.
- nhs-pycom/nhspy-plotthedots, the Python port: its NHS England SPC tool example.
"""

from __future__ import annotations

from itertools import pairwise

import pytest

from service.reports.spc import _runs, _trends, _two_of_three, mean_moving_range, xmr

RNORM_123 = [
    -0.56047565,
    -0.23017749,
    1.55870831,
    0.07050839,
    0.12928774,
    1.71506499,
    0.46091621,
    -1.26506123,
    -0.68685285,
    -0.44566197,
    1.22408180,
    0.35981383,
    0.40077145,
    0.11068272,
    -0.55584113,
    1.78691314,
    0.49785048,
    -1.96661716,
    0.70135590,
    -0.47279141,
]


def _three_figures(value: float | None) -> float:
    assert value is not None
    return float(f"{value:.3g}")


@pytest.mark.parametrize(
    ("values", "mean", "lower", "upper"),
    [
        (RNORM_123, 0.142, -3.01, 3.29),  # "it outputs expected content", no facet
        (RNORM_123[:10], 0.0746, -2.60, 2.75),  # facet 0: the first ten points
        (RNORM_123[10:], 0.209, -3.28, 3.70),  # facet 1: the last ten
    ],
)
def test_the_reference_summaries(
    values: list[float], mean: float, lower: float, upper: float
) -> None:
    chart = xmr(values, target=None, improvement="increase")
    assert (
        _three_figures(chart.mean),
        _three_figures(chart.lower),
        _three_figures(chart.upper),
    ) == (
        mean,
        lower,
        upper,
    )
    assert [p.point_type for p in chart.points] == ["common_cause"] * len(values)
    assert chart.variation_icon == "common_cause"


def test_a_target_inside_the_reference_limits_is_hit_and_miss() -> None:
    # The snapshot "summary with a target" (target 0.5, limits -3.01..3.29): the reference's
    # ptd_calculate_assurance_type answers "inconsistent", our "hit_and_miss".
    chart = xmr(RNORM_123, target=0.5, improvement="increase")
    assert chart.assurance_icon == "hit_and_miss"


def test_screening_outlier_moving_ranges_as_the_reference_does() -> None:
    # test-ptd_spc_standard.R sets y[15] <- 10 (R counts from 1) and checks that screening
    # changes both limits and narrows them. The two moving ranges around the 10 (9.889 and
    # 8.213) are the only ones at or above 3.267 x mR-bar, so screening leaves the other 17.
    values = list(RNORM_123)
    values[14] = 10.0
    ranges = [abs(b - a) for a, b in pairwise(values)]
    kept = [r for i, r in enumerate(ranges) if i not in (13, 14)]
    assert mean_moving_range(values, screen_outliers=False) == pytest.approx(sum(ranges) / 19)
    assert mean_moving_range(values) == pytest.approx(sum(kept) / 17)

    plain = xmr(RNORM_123, target=None, improvement="increase")
    screened = xmr(values, target=None, improvement="increase")
    unscreened = xmr(values, target=None, improvement="increase", screen_outliers=False)
    lowers = {plain.lower, screened.lower, unscreened.lower}
    uppers = {plain.upper, screened.upper, unscreened.upper}
    assert len(lowers) == 3 and len(uppers) == 3
    assert screened.lower is not None and screened.upper is not None
    assert unscreened.lower is not None and unscreened.upper is not None
    assert unscreened.upper - unscreened.lower > screened.upper - screened.lower
    # mean 0.66941586 = (sum of the series - (-0.55584113) + 10) / 20
    assert screened.mean == pytest.approx(0.66941586)
    assert screened.points[14].point_type == "special_cause_improvement"
    assert screened.points[14].rules == ("beyond_limits",)


def test_fixing_the_limits_after_twelve_points_changes_them() -> None:
    # test-ptd_spc_standard.R: fix_after_n_points = 12 gives other limits than the whole series.
    # By hand: the mean of the first 12 values is 2.33015209 / 12 = 0.19417934; their 11
    # moving ranges sum to 11.5854777, mR-bar 1.05322525 (none screened: all below 3.44).
    fixed = xmr(RNORM_123, target=None, improvement="increase", baseline=12)
    whole = xmr(RNORM_123, target=None, improvement="increase")
    assert fixed.mean == pytest.approx(0.19417934)
    assert fixed.mean_moving_range == pytest.approx(1.05322525)
    assert fixed.lower == pytest.approx(0.19417934 - 2.66 * 1.05322525)
    assert fixed.upper == pytest.approx(0.19417934 + 2.66 * 1.05322525)
    assert fixed.lower != whole.lower and fixed.upper != whole.upper
    # The limits apply to every point, the eight after the baseline as well.
    assert {p.upper for p in fixed.points} == {fixed.upper}


def test_two_points_near_the_limits_on_opposite_sides_are_common_cause() -> None:
    # The reference's regression test for its issue #143.
    values = [1.0, -1.0] * 8
    values[14], values[15] = 5.5, -5.5
    chart = xmr(values, target=None, improvement="increase")
    assert [p.point_type for p in chart.points[-2:]] == ["common_cause", "common_cause"]


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        # ptd_seven_point_one_side_mean, then ptd_part_of_seven_trend, as run over 7 points.
        ([1] * 6, [False] * 6),
        ([1] * 6 + [-1], [False] * 7),
        ([1] * 8 + [-1], [True] * 8 + [False]),
        ([-1] * 8 + [1], [True] * 8 + [False]),
        ([-1] + [1] * 8 + [-1], [False] + [True] * 8 + [False]),
    ],
)
def test_the_reference_runs(relative: list[int | None], expected: list[bool]) -> None:
    assert _runs(relative, 7) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # ptd_seven_point_trend: 1:6 too short; c(1:3, 3:6) has a tie; 1:7 and 7:1 are trends;
        # c(2, 1:7, 3) and c(2, 7:1, 3) are trends between their first and last points.
        ([1.0, 2, 3, 4, 5, 6], [False] * 6),
        ([1.0, 2, 3, 3, 4, 5, 6], [False] * 7),
        ([1.0, 2, 3, 4, 5, 6, 7], [True] * 7),
        ([7.0, 6, 5, 4, 3, 2, 1], [True] * 7),
        ([2.0, 1, 2, 3, 4, 5, 6, 7, 3], [False] + [True] * 7 + [False]),
        ([2.0, 7, 6, 5, 4, 3, 2, 1, 3], [False] + [True] * 7 + [False]),
    ],
)
def test_the_reference_trends(values: list[float | None], expected: list[bool]) -> None:
    assert _trends(values, 7) == expected


@pytest.mark.parametrize(
    ("near", "expected"),
    [
        # ptd_part_of_two_in_three(ptd_two_in_three(v), v): only the near points are flagged.
        ([0, 0, 0], [0, 0, 0]),
        ([1, 0, 1], [1, 0, 1]),
        ([0, 1, 1], [0, 1, 1]),
        ([1, 1, 0], [1, 1, 0]),
        ([0, 0, 1, 0, 1, 0, 0], [0, 0, 1, 0, 1, 0, 0]),
        ([0, 0, 1, 1, 0, 0, 0], [0, 0, 1, 1, 0, 0, 0]),
        ([1, 0, 0, 1], [0, 0, 0, 0]),
        ([1, 0, 0, 1, 1], [0, 0, 0, 1, 1]),
    ],
)
def test_the_reference_two_of_three(near: list[int], expected: list[int]) -> None:
    # All points on the same side, as the fixed reference requires of the whole window.
    flags: list[bool | None] = [bool(v) for v in near]
    relative: list[int | None] = [1] * len(near)
    assert _two_of_three(flags, relative) == [bool(v) for v in expected]


def test_the_nhs_england_spc_tool_demo_as_nhspy_plotthedots_reproduces_it() -> None:
    # nhs-pycom/nhspy-plotthedots, tests/unittests/test_pandas_spc_x_calc.py: the example of
    # NHS England's SPC tool (values read from its demonstration video, 10 subtracted): mean
    # 76.67, limits about 57 and 96, the 54 alone beyond them. By hand: sum 1150 / 15 = 76.667;
    # moving ranges sum 103 over 14 = 7.357 (23 < 3.267 x 7.357 = 24.04: none screened).
    values = [89.0, 86, 75, 77, 81, 74, 72, 78, 76, 82, 77, 54, 66, 77, 86]
    chart = xmr(values, target=None, improvement="increase")
    assert chart.mean == pytest.approx(76.67, abs=0.005)
    assert chart.mean_moving_range == pytest.approx(103 / 14)
    assert (round(chart.lower or 0), round(chart.upper or 0)) == (57, 96)
    assert [p.index for p in chart.points if p.rules] == [11]
    assert chart.points[11].point_type == "special_cause_concern"
    assert chart.variation_icon == "common_cause"
