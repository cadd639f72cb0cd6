"""Exact Poisson and binomial intervals against published reference values.

Sources:
- Garwood limits: R 4.x ``poisson.test(x)$conf.int`` for x = 0, 1, 5, 10 (also tabulated in
  Garwood F., Biometrika 1936, and in Ulm K., Am J Epidemiol 1990; e.g. 10 events: 4.795389,
  18.390356).
- Clopper-Pearson: R ``binom.test(x, n)$conf.int``; 682 of 925 is the example in R's own
  ``?binom.test`` (0.7076683, 0.7654066).
- The rate ratio: R's ``?poisson.test`` example, 11 events in 800 person-years against
  6 + 8 + 7 in 1083 + 1050 + 878: ratio 1.971488, 95 % CI 0.8584264 to 4.2772659.
"""

from __future__ import annotations

import math

import pytest

from service.reports.rates import (
    clopper_pearson,
    poisson_limits,
    rate,
    rate_ratio,
    regularized_beta,
    regularized_gamma_p,
)

GARWOOD = {
    0: (0.0, 3.688879),
    1: (0.02531781, 5.571643),
    5: (1.623486, 11.668332),
    10: (4.795389, 18.390356),
}


@pytest.mark.parametrize("events", sorted(GARWOOD))
def test_garwood_limits_match_r(events: int) -> None:
    lower, upper = poisson_limits(events)
    assert lower == pytest.approx(GARWOOD[events][0], abs=1e-6)
    assert upper == pytest.approx(GARWOOD[events][1], abs=1e-6)


@pytest.mark.parametrize(
    ("successes", "trials", "expected"),
    [
        (0, 10, (0.0, 0.3084971)),
        (1, 10, (0.002528579, 0.4450161)),
        (5, 10, (0.1870860, 0.8129140)),
        (10, 10, (0.6915029, 1.0)),
        (682, 925, (0.7076683, 0.7654066)),
    ],
)
def test_clopper_pearson_matches_r(
    successes: int, trials: int, expected: tuple[float, float]
) -> None:
    lower, upper = clopper_pearson(successes, trials)
    assert lower == pytest.approx(expected[0], abs=1e-7)
    assert upper == pytest.approx(expected[1], abs=1e-7)


def test_rate_ratio_matches_rs_poisson_test_example() -> None:
    ratio = rate_ratio(11, 800, 6 + 8 + 7, 1083 + 1050 + 878)
    assert ratio.ratio == pytest.approx(1.971488, abs=1e-6)
    assert ratio.lower == pytest.approx(0.8584264, abs=1e-7)
    assert ratio.upper == pytest.approx(4.2772659, abs=1e-7)


def test_a_rate_is_events_per_person_year_with_limits_scaled() -> None:
    # 10 events in 4 person-years: 2.5 per year, Garwood limits / 4.
    r = rate(10, 4.0)
    assert r.rate == 2.5
    assert r.lower == pytest.approx(4.795389 / 4, abs=1e-6)
    assert r.upper == pytest.approx(18.390356 / 4, abs=1e-6)
    assert rate(3, 0.0).rate is None


def test_rate_ratio_edges() -> None:
    # Nothing happened in either window: no ratio at all.
    none = rate_ratio(0, 1.0, 0, 1.0)
    assert (none.ratio, none.lower, none.upper) == (None, None, None)
    # Nothing before: the ratio and its upper limit are unbounded, the lower limit is not:
    # pi_lo = 0.025 ** (1/3) for 3 of 3 (Clopper-Pearson), turned into a ratio at equal time.
    unbounded = rate_ratio(3, 1.0, 0, 1.0)
    pi_lo = 0.025 ** (1 / 3)
    assert unbounded.ratio is None and unbounded.upper is None
    assert unbounded.lower == pytest.approx(pi_lo / (1 - pi_lo))
    # Nothing after: a ratio of 0, and an upper limit from (1 - 0.025 ** (1/4)) for 0 of 4,
    # scaled by the exposure ratio (2 years before, 1 after).
    zero = rate_ratio(0, 1.0, 4, 2.0)
    pi_hi = 1 - 0.025 ** (1 / 4)
    assert zero.ratio == 0.0 and zero.lower == 0.0
    assert zero.upper == pytest.approx(pi_hi / (1 - pi_hi) * 2.0)


def test_special_functions_against_closed_forms() -> None:
    # P(1, x) = 1 - e^-x; I_x(1, 1) = x; I_x(2, 1) = x^2; both sides of each series switch.
    for x in (0.1, 0.5, 2.0, 10.0):
        assert regularized_gamma_p(1.0, x) == pytest.approx(1 - math.exp(-x), rel=1e-12)
    for x in (0.05, 0.4, 0.6, 0.95):
        assert regularized_beta(1.0, 1.0, x) == pytest.approx(x, rel=1e-12)
        assert regularized_beta(2.0, 1.0, x) == pytest.approx(x * x, rel=1e-12)
    assert regularized_gamma_p(3.0, 0.0) == 0.0
    assert (regularized_beta(2.0, 3.0, 0.0), regularized_beta(2.0, 3.0, 1.0)) == (0.0, 1.0)
    with pytest.raises(ValueError):
        clopper_pearson(3, 2)


def test_large_counts_solve_their_equations() -> None:
    # A network's bed days run to the hundred thousands: the limits still solve Garwood's
    # equations, and sit near the normal approximation x +- 1.96 sqrt(x).
    events = 191_234
    lower, upper = poisson_limits(events)
    assert regularized_gamma_p(events, lower) == pytest.approx(0.025, abs=1e-9)
    assert regularized_gamma_p(events + 1, upper) == pytest.approx(0.975, abs=1e-9)
    assert lower == pytest.approx(events - 1.96 * math.sqrt(events), abs=2)
    lo_pi, hi_pi = clopper_pearson(95_000, events)
    assert regularized_beta(95_000, events - 95_000 + 1, lo_pi) == pytest.approx(0.025, abs=1e-9)
    assert regularized_beta(95_001, events - 95_000, hi_pi) == pytest.approx(0.975, abs=1e-9)
