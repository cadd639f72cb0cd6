"""Funnel limits for rates: exact Poisson limits (Spiegelhalter 2005), no scipy.

Known values: chi-square quantiles from published tables (e.g. NIST/SEMATECH e-Handbook,
1.3.6.7.4); Poisson probabilities summed term by term here, an oracle independent of the
incomplete gamma function the module uses.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.reports.funnel import (
    chi_square_quantile,
    funnel_limits,
    poisson_cdf,
    poisson_limit,
    poisson_quantile,
    rate_funnel,
    rate_limits,
)
from service.reports.rates import regularized_gamma_p
from tests.hypothesis_profiles import scaled


def _poisson_cdf_by_sum(k: int, mean: float) -> float:
    return math.fsum(math.exp(-mean) * mean**i / math.factorial(i) for i in range(k + 1))


@pytest.mark.parametrize(
    ("p", "df", "quantile"),
    [
        (0.95, 1, 3.841459),
        (0.975, 1, 5.023886),
        (0.05, 10, 3.940299),
        (0.999, 2, 13.815511),
        (0.5, 30, 29.336032),
        (0.025, 4, 0.484419),
    ],
)
def test_chi_square_quantiles_match_the_tables(p: float, df: int, quantile: float) -> None:
    assert chi_square_quantile(p, df) == pytest.approx(quantile, abs=1e-5)


@pytest.mark.parametrize("x", [0.01, 0.5, 1.5, 2.0, 7.0, 30.0])
def test_the_incomplete_gamma_function_against_closed_forms(x: float) -> None:
    assert regularized_gamma_p(1.0, x) == pytest.approx(1 - math.exp(-x), rel=1e-12)
    assert regularized_gamma_p(0.5, x) == pytest.approx(math.erf(math.sqrt(x)), rel=1e-12)


@pytest.mark.parametrize(
    ("k", "mean"), [(0, 0.3), (2, 3.0), (9, 10.0), (15, 10.0), (40, 25.5), (120, 100.0)]
)
def test_the_poisson_cdf_against_the_sum_of_its_terms(k: int, mean: float) -> None:
    assert poisson_cdf(k, mean) == pytest.approx(_poisson_cdf_by_sum(k, mean), rel=1e-10)


def test_poisson_quantiles() -> None:
    # Poisson(10): F(3) = 0.0103, F(4) = 0.0293, F(16) = 0.9730, F(17) = 0.9857.
    assert poisson_quantile(0.025, 10.0) == 4
    assert poisson_quantile(0.975, 10.0) == 17
    assert poisson_quantile(0.5, 0.001) == 0
    assert poisson_cdf(5, 0.0) == 1.0 and poisson_cdf(-1, 3.0) == 0.0


def test_spiegelhalters_interpolated_limit() -> None:
    # Rate 1 per year, 10 years: 97.5 % quantile of Poisson(10) is 17; alpha = (F(17) - 0.975) /
    # (F(17) - F(16)), and the limit is (17 - alpha) / 10.
    at, below = _poisson_cdf_by_sum(17, 10.0), _poisson_cdf_by_sum(16, 10.0)
    alpha = (at - 0.975) / (at - below)
    assert poisson_limit(0.975, 1.0, 10.0) == pytest.approx((17 - alpha) / 10, rel=1e-9)
    # The lower limit at a small expected count would be negative: it is 0.
    assert poisson_limit(0.001, 0.1, 1.0) == 0.0


def test_the_limits_narrow_towards_the_normal_approximation() -> None:
    narrow = rate_limits(2.0, 10_000.0)
    spread = 3.090232 * math.sqrt(2.0 / 10_000.0)
    assert narrow.upper_998 == pytest.approx(2.0 + spread, rel=2e-3)
    assert narrow.lower_998 == pytest.approx(2.0 - spread, rel=2e-3)
    wide = rate_limits(2.0, 10.0)
    assert wide.lower_998 < wide.lower_95 < 2.0 < wide.upper_95 < wide.upper_998


def test_units_on_a_rate_funnel() -> None:
    # Target = 115 events / 350 patient-years = 0.328571. At 50 patient-years the expected
    # count is 16.43; 5 events (0.1 a year) is below the 95 % limit but inside the 99.8 %.
    funnel = rate_funnel(
        [("A", 30, 100.0), ("B", 5, 50.0), ("C", 80, 200.0), ("D", 40, 30.0), ("E", 0, 0.0)],
        exposures=[10.0, 100.0],
        target_rate=None,
    )
    assert funnel.target_rate == pytest.approx(155 / 380)
    positions = {u.code: (u.position, u.position_95) for u in funnel.units}
    assert positions == {
        "A": ("inside", "inside"),
        "B": ("below", "below"),
        "C": ("inside", "inside"),
        "D": ("above", "above"),
        "E": (None, None),
    }
    assert [limit.exposure for limit in funnel.limits] == [10.0, 100.0]

    pooled = rate_funnel([("A", 30, 100.0), ("B", 5, 50.0), ("C", 80, 200.0)])
    assert pooled.target_rate == pytest.approx(115 / 350)
    b = next(u for u in pooled.units if u.code == "B")
    assert (b.rate, b.position, b.position_95) == (0.1, "inside", "below")
    assert len(pooled.limits) == 60 and pooled.limits[-1].exposure == pytest.approx(220.0)


def test_a_rate_funnel_without_exposure_has_no_target() -> None:
    funnel = rate_funnel([("A", 0, 0.0)])
    assert funnel.target_rate is None and funnel.limits == ()
    with pytest.raises(ValueError):
        rate_funnel([("A", -1, 3.0)])


def test_the_proportion_funnel_is_unchanged() -> None:
    # funnel_limits' callers (build.py) read percentages at whole denominators, as before.
    first = funnel_limits(0.5, 100)[0]
    assert first["denominator"] == 1
    assert (first["lower_95"], first["upper_95"]) == (0.0, 100.0)


def test_at_a_tiny_expected_count_one_event_is_already_above() -> None:
    # Expected 0.125 x 0.125 = 0.0156 events: P(X >= 1) = 0.0155 < 2.5 %, so the 95 % upper
    # limit is 0 (r = 0, alpha = (0.9845 - 0.975) / 0.9845, clipped), and 99.8 % is not.
    at = rate_limits(0.125, 0.125)
    assert at.upper_95 == 0.0 and at.upper_998 > 0.0


@settings(max_examples=scaled(60), deadline=None)
@given(st.floats(min_value=0.001, max_value=50.0), st.floats(min_value=0.1, max_value=5000.0))
def test_poisson_limits_are_ordered(rate: float, exposure: float) -> None:
    at = rate_limits(rate, exposure)
    assert 0.0 <= at.lower_998 <= at.lower_95 <= at.upper_95 <= at.upper_998
    assert at.lower_95 <= rate
    if rate * exposure >= 5:
        # Away from the smallest counts the target sits inside its own funnel.
        assert at.lower_95 <= rate <= at.upper_95
