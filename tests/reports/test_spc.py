"""SPC charts on small series built so that each rule fires exactly once, worked by hand.

Most series start from ten points alternating 12, 8 (moving range 4 each, never a run or a
trend), so the hand arithmetic stays short: the mean is the sum over the count, mR-bar the sum
of the moving ranges over their count, the limits mean +- 2.66 mR-bar and the 2-sigma lines
mean +- 2 x (2.66 / 3) mR-bar. Each test states its sums.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.reports.spc import SpcChart, p_chart, xmr
from tests.hypothesis_profiles import scaled

ALTERNATING = [12.0, 8.0] * 5


def _flagged(chart: SpcChart) -> dict[int, tuple[tuple[str, ...], str | None, str | None]]:
    return {p.index: (p.rules, p.point_type, p.side) for p in chart.points if p.rules}


def _spike(top: float) -> list[float]:
    return [12.0, 8.0] * 9 + [12.0, top]


def test_a_point_beyond_the_limits() -> None:
    # Sum 9 x 20 + 12 + 30 = 222, mean 11.1. Moving ranges: 18 of 4 and one of 18; mR-bar
    # 90 / 19 = 4.737, and 18 >= 3.267 x 4.737 = 15.48 is screened out: mR-bar 72 / 18 = 4.
    # Limits 11.1 -+ 10.64 = 0.46 .. 21.74; 30 is above.
    chart = xmr(_spike(30.0), target=None, improvement="increase")
    assert chart.mean == pytest.approx(11.1)
    assert chart.mean_moving_range == pytest.approx(4.0)
    assert (chart.lower, chart.upper) == pytest.approx((0.46, 21.74))
    assert chart.points[0].upper_2sigma == pytest.approx(11.1 + 2 * 2.66 / 3 * 4)
    assert chart.points[0].sigma == pytest.approx(2.66 / 3 * 4)
    assert _flagged(chart) == {19: (("beyond_limits",), "special_cause_improvement", "high")}
    assert chart.too_few_points is False


@pytest.mark.parametrize(
    ("top", "improvement", "point_type", "icon"),
    [
        # High: 30 above 21.74 (above). Low: sum 182, mean 9.1, mR-bar 4 once 22 is screened,
        # lower limit 9.1 - 10.64 = -1.54; -10 is below.
        (30.0, "increase", "special_cause_improvement", "improvement_high"),
        (30.0, "decrease", "special_cause_concern", "concern_high"),
        (30.0, "neutral", "special_cause_neither", "neither_high"),
        (-10.0, "increase", "special_cause_concern", "concern_low"),
        (-10.0, "decrease", "special_cause_improvement", "improvement_low"),
        (-10.0, "neutral", "special_cause_neither", "neither_low"),
    ],
)
def test_the_variation_icon_reads_the_last_point(
    top: float, improvement: str, point_type: str, icon: str
) -> None:
    chart = xmr(_spike(top), target=None, improvement=improvement)  # type: ignore[arg-type]
    assert chart.points[-1].point_type == point_type
    assert chart.variation_icon == icon
    # A missing last month: the icon is the last point shown.
    assert xmr([*_spike(top), None], target=None, improvement=improvement).variation_icon == icon  # type: ignore[arg-type]


def test_common_cause_icon() -> None:
    assert (
        xmr(ALTERNATING * 2, target=None, improvement="increase").variation_icon == "common_cause"
    )


@pytest.mark.parametrize(
    ("target", "improvement", "icon"),
    [
        # Limits 0.46 .. 21.74 (the spike series above).
        (25.0, "increase", "consistent_fail"),
        (25.0, "decrease", "consistent_pass"),
        (0.0, "increase", "consistent_pass"),
        (0.0, "decrease", "consistent_fail"),
        (10.0, "increase", "hit_and_miss"),
        (21.74, "increase", "hit_and_miss"),  # on the limit: the reference needs strictly beyond
        (25.0, "neutral", None),  # no good side: the reference gives no assurance
        (None, "increase", None),
    ],
)
def test_the_assurance_icon(target: float | None, improvement: str, icon: str | None) -> None:
    chart = xmr(_spike(30.0), target=target, improvement=improvement)  # type: ignore[arg-type]
    if target == 21.74:
        chart = xmr(_spike(30.0), target=chart.upper, improvement="increase")
    assert chart.assurance_icon == icon


def test_a_run_of_seven_on_one_side_of_the_mean() -> None:
    # Sum 100 + 7 x 13 + 28 = 219, mean 10.95; the 8 before the 13s is below it, so the run is
    # exactly seven. mR-bar (9 x 4 + 5 + 5 + 4 + 4) / 19 = 54 / 19 = 2.842; 2-sigma upper line
    # 10.95 + 5.04 = 15.99, so the 13s are not near a limit.
    chart = xmr([*ALTERNATING, *[13.0] * 7, 8.0, 12.0, 8.0], target=None, improvement="decrease")
    assert chart.mean == pytest.approx(10.95)
    assert chart.mean_moving_range == pytest.approx(54 / 19)
    assert _flagged(chart) == {
        i: (("run",), "special_cause_concern", "high") for i in range(10, 17)
    }


def test_a_run_of_six_fires_only_with_the_option_of_six() -> None:
    # Sum 100 + 78 + 40 = 218, mean 10.9; six 13s between two 8s.
    values = [*ALTERNATING, *[13.0] * 6, 8.0, 12.0, 8.0, 12.0]
    assert _flagged(xmr(values, target=None, improvement="increase")) == {}
    six = xmr(values, target=None, improvement="increase", run_length=6)
    assert _flagged(six) == {
        i: (("run",), "special_cause_improvement", "high") for i in range(10, 16)
    }


def test_a_point_exactly_on_the_mean_breaks_a_run() -> None:
    # Sum 100 + 6 x 13 + 11 + 9 + 12 + 10 = 220, mean exactly 11: the 11 is on neither side.
    on_mean = [*ALTERNATING, 13.0, 13.0, 13.0, 11.0, 13.0, 13.0, 13.0, 9.0, 12.0, 10.0]
    chart = xmr(on_mean, target=None, improvement="increase")
    assert chart.mean == 11.0
    assert _flagged(chart) == {}
    # With 12 there instead (sum 221, mean 11.05) the seven points are one run.
    above = [*on_mean[:13], 12.0, *on_mean[14:]]
    assert set(_flagged(xmr(above, target=None, improvement="increase"))) == set(range(10, 17))


def test_a_trend_of_six() -> None:
    # 8 -> 7 breaks, then 7..12 rise six points; the 8 after ends it. Sum 100 + 57 + 40 = 197,
    # mean 9.85, limits 9.85 -+ 2.66 x 58 / 19: nothing else fires.
    values = [*ALTERNATING, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 8.0, 12.0, 8.0, 12.0]
    chart = xmr(values, target=None, improvement="increase")
    assert _flagged(chart) == {
        i: (("trend",), "special_cause_improvement", "high") for i in range(10, 16)
    }
    assert _flagged(xmr(values, target=None, improvement="increase", trend_length=7)) == {}
    falling = xmr([24 - v for v in values], target=None, improvement="increase")
    assert _flagged(falling) == {
        i: (("trend",), "special_cause_concern", "low") for i in range(10, 16)
    }


def test_a_peak_between_two_trends_takes_the_direction_of_the_one_after() -> None:
    # 7..12 rises, 12..7 falls; the 12 is in both. The reference labels a trend point by its
    # step to the right when the next point is in a trend too: the peak reads "Decreasing".
    values = [*ALTERNATING, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 11.0, 10.0, 9.0, 8.0, 7.0]
    chart = xmr(values, target=None, improvement="increase")
    sides = {i: side for i, (rules, _, side) in _flagged(chart).items() if rules == ("trend",)}
    assert sides == {**dict.fromkeys(range(10, 15), "high"), **dict.fromkeys(range(15, 21), "low")}
    assert chart.variation_icon == "concern_low"


def test_a_tie_breaks_a_trend() -> None:
    values = [*ALTERNATING, 7.0, 8.0, 9.0, 9.0, 11.0, 12.0, 8.0, 12.0, 8.0, 12.0]
    assert _flagged(xmr(values, target=None, improvement="increase")) == {}


def test_two_of_three_beyond_two_sigma() -> None:
    # Sum 100 + 64 + 60 = 224, mean 11.2; moving ranges 9 x 4 + 4 + 8 + 0 + 8 + 4 + 5 x 4 = 80,
    # mR-bar 80 / 19 = 4.2105; 2-sigma line 11.2 + 7.467 = 18.67, limit 22.4: both 20s are
    # between, and the 12 after them is on the same side.
    values = [*ALTERNATING, 12.0, 20.0, 20.0, 12.0, 8.0, 12.0, 8.0, 12.0, 8.0, 12.0]
    chart = xmr(values, target=None, improvement="increase")
    assert chart.upper == pytest.approx(22.4)
    assert _flagged(chart) == {
        11: (("two_of_three",), "special_cause_improvement", "high"),
        12: (("two_of_three",), "special_cause_improvement", "high"),
    }
    # One 20 alone is one of three: nothing.
    single = [*ALTERNATING, 12.0, 20.0, 12.0, 8.0, 8.0, 12.0, 8.0, 12.0, 8.0, 12.0]
    assert _flagged(xmr(single, target=None, improvement="increase")) == {}


def test_a_baseline_fixes_the_limits_on_the_first_points() -> None:
    # First 12: mean 10, mR-bar 4, limits -0.64 .. 20.64; the three 25s after are beyond them.
    values = [12.0, 8.0] * 6 + [25.0, 25.0, 25.0]
    chart = xmr(values, target=None, improvement="increase", baseline=12)
    assert (chart.mean, chart.mean_moving_range) == (10.0, 4.0)
    assert (chart.lower, chart.upper) == pytest.approx((-0.64, 20.64))
    assert set(_flagged(chart)) == {12, 13, 14}
    assert chart.too_few_points is False
    assert xmr(values, target=None, improvement="increase", baseline=11).too_few_points is True


def test_missing_values_are_gaps() -> None:
    # Twelve values: mean 120 / 12 = 10. The moving ranges either side of the gap are missing:
    # ten remain, all 4.
    values: list[float | None] = [
        12.0,
        8.0,
        None,
        12.0,
        8.0,
        12.0,
        8.0,
        12.0,
        8.0,
        12.0,
        8.0,
        12.0,
        8.0,
    ]
    chart = xmr(values, target=None, improvement="increase")
    assert (chart.mean, chart.mean_moving_range) == (10.0, 4.0)
    assert chart.points[2].point_type is None and chart.points[2].rules == ()
    assert chart.too_few_points is False
    # A gap splits seven 13s into three and three: no run, where seven in a row would be one.
    gap: list[float | None] = [13.0, 13.0, 13.0, None, 13.0, 13.0, 13.0, 8.0, 12.0, 8.0, 12.0, 8.0]
    assert _flagged(xmr(gap, target=None, improvement="increase")) == {}
    joined = [13.0 if v is None else v for v in gap]
    assert set(_flagged(xmr(joined, target=None, improvement="increase"))) == set(range(7))


@pytest.mark.parametrize("values", [[], [5.0], [None, 3.0, None], [4.0, None, 6.0]])
def test_without_two_adjacent_values_there_are_no_limits(values: list[float | None]) -> None:
    chart = xmr(values, target=1.0, improvement="increase")
    assert chart.lower is None and chart.upper is None
    assert all(p.point_type is None for p in chart.points)
    assert chart.variation_icon is None and chart.assurance_icon is None
    assert chart.too_few_points is True


def test_fewer_than_twelve_points_are_computed_and_flagged() -> None:
    chart = xmr(_spike(30.0)[-8:], target=None, improvement="increase")
    assert chart.too_few_points is True
    assert chart.upper is not None


@pytest.mark.parametrize("options", [{"run_length": 1}, {"trend_length": 2}, {"baseline": 1}])
def test_nonsense_options_are_refused(options: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        xmr([1.0, 2.0], target=None, improvement="increase", **options)  # type: ignore[arg-type]


# p-charts --------------------------------------------------------------------------------


def test_a_p_chart_limits_per_denominator() -> None:
    # p-bar = 60 / 600 = 0.1; sigma at n = 100 is sqrt(0.09 / 100) = 0.03, at 400 0.015.
    # Every z is 0, so sigma_z = 0 <= 1 and the automatic choice is the plain p-chart.
    chart = p_chart([10, 50], [100, 500], improvement="increase")
    assert chart.kind == "p" and chart.mean == pytest.approx(0.1)
    assert chart.sigma_z == 0.0
    assert (chart.points[0].lower, chart.points[0].upper) == pytest.approx((0.01, 0.19))
    chart = p_chart([10, 40], [100, 400], improvement="increase")
    assert (chart.points[1].lower, chart.points[1].upper) == pytest.approx((0.055, 0.145))
    assert chart.lower is None  # limits vary point by point on a p-chart


def test_laney_p_prime_when_over_dispersed() -> None:
    # 8 % and 17 % of 1000, alternately: p-bar 0.125, sigma sqrt(0.125 x 0.875 / 1000) = 0.0104583;
    # z = -+0.045 / 0.0104583 = -+4.3028, moving range 8.6056, sigma_z = 8.6056 / 1.128 = 7.629.
    numerators, denominators = [80, 170] * 6, [1000] * 12
    plain = p_chart(numerators, denominators, improvement="increase", laney=False)
    assert plain.kind == "p"
    assert (plain.points[0].lower, plain.points[0].upper) == pytest.approx((0.0936252, 0.1563748))
    assert all(p.rules == ("beyond_limits",) for p in plain.points)

    chosen = p_chart(numerators, denominators, improvement="increase")
    assert chosen.kind == "p_prime"
    assert chosen.sigma_z == pytest.approx(7.6291188)
    # 0.125 -+ 3 x 0.0104583 x 7.629 = -0.1144 (clipped to 0) .. 0.3644
    assert (chosen.points[0].lower, chosen.points[0].upper) == pytest.approx((0.0, 0.3643617))
    assert chosen.variation_icon == "common_cause"


def test_laney_not_chosen_when_under_dispersed_but_can_be_forced() -> None:
    # 100 and 101 of 1000: p-bar 0.1005, z = -+0.0005 / 0.0095081, sigma_z = 0.0932 <= 1.
    chosen = p_chart([100, 101] * 6, [1000] * 12, improvement="increase")
    assert chosen.kind == "p" and chosen.sigma_z == pytest.approx(0.0932411, rel=1e-4)
    forced = p_chart([100, 101] * 6, [1000] * 12, improvement="increase", laney=True)
    assert forced.kind == "p_prime"
    plain_sigma = chosen.points[0].sigma
    assert plain_sigma is not None
    assert forced.points[0].sigma == pytest.approx(plain_sigma * 0.0932411, rel=1e-4)


def test_a_p_chart_with_gaps_and_rules() -> None:
    # A denominator of 0 or a missing numerator is a gap. p-bar 150 / 1500 = 0.1 over the rest.
    chart = p_chart(
        [10, None, 10, 0, 10, 100],
        [100, 100, 100, 0, 100, 1000],
        improvement="decrease",
        laney=False,
    )
    assert [p.value for p in chart.points] == [0.1, None, 0.1, None, 0.1, 0.1]
    assert chart.mean == pytest.approx(0.1)
    assert [p.point_type for p in chart.points] == [
        "common_cause",
        None,
        "common_cause",
        None,
        "common_cause",
        "common_cause",
    ]
    with pytest.raises(ValueError):
        p_chart([5], [4], improvement="increase")
    with pytest.raises(ValueError):  # no two consecutive points to estimate sigma_z from
        p_chart([5, None, 5], [10, 10, 10], improvement="increase", laney=True)


def test_a_p_chart_target_gives_assurance() -> None:
    # Last point: p-bar 0.1, n = 1000, limits 0.1 -+ 3 x 0.0094868 = 0.07154 .. 0.12846.
    chart = p_chart([100] * 12, [1000] * 12, improvement="increase", target=0.05)
    assert chart.assurance_icon == "consistent_pass"
    assert (
        p_chart([100] * 12, [1000] * 12, improvement="decrease", target=0.05).assurance_icon
        == "consistent_fail"
    )


# Properties ------------------------------------------------------------------------------

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=scaled(100), deadline=None)
@given(st.lists(st.one_of(st.none(), finite), min_size=0, max_size=40))
def test_xmr_limits_are_symmetric_about_the_mean(values: list[float | None]) -> None:
    chart = xmr(values, target=None, improvement="increase")
    for point in chart.points:
        if point.lower is None or point.upper is None or point.mean is None:
            continue
        assert point.upper - point.mean == pytest.approx(point.mean - point.lower, abs=1e-6)
        assert point.lower_2sigma is not None and point.upper_2sigma is not None
        assert point.upper_2sigma - point.mean == pytest.approx(
            point.mean - point.lower_2sigma, abs=1e-6
        )


@settings(max_examples=scaled(50), deadline=None)
@given(
    finite,
    st.integers(min_value=0, max_value=40),
    st.sampled_from(["increase", "decrease", "neutral"]),
)
def test_a_constant_series_has_no_special_cause(value: float, count: int, improvement: str) -> None:
    chart = xmr([value] * count, target=None, improvement=improvement)  # type: ignore[arg-type]
    assert all(p.point_type in (None, "common_cause") and p.rules == () for p in chart.points)
    assert chart.variation_icon in (None, "common_cause")


@settings(max_examples=scaled(100), deadline=None)
@given(
    st.lists(
        st.integers(min_value=0, max_value=500).flatmap(
            lambda n: st.tuples(st.integers(0, n), st.just(n))
        ),
        min_size=0,
        max_size=30,
    ),
    st.sampled_from([None, True, False]),
)
def test_p_chart_limits_stay_within_zero_and_one(
    pairs: list[tuple[int, int]], laney: bool | None
) -> None:
    numerators = [num for num, _ in pairs]
    denominators = [den for _, den in pairs]
    try:
        chart = p_chart(numerators, denominators, improvement="increase", laney=laney)
    except ValueError:
        # Forcing p' on a series with no two consecutive points to estimate sigma_z from.
        assert laney is True
        return
    for point in chart.points:
        if point.lower is None or point.upper is None or point.mean is None:
            continue
        assert 0.0 <= point.lower <= point.mean <= point.upper <= 1.0
