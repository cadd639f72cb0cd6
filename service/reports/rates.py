"""Exact intervals for counts over person-time: pure functions, no database, no scipy.

- A rate's 95 % interval is Garwood's exact Poisson interval: the limits solve
  P(X >= x | mu_lo) = 2.5 % and P(X <= x | mu_hi) = 2.5 %, i.e. the chi-square quantiles
  chi2(0.025, 2x) / 2 and chi2(0.975, 2x + 2) / 2, found here as quantiles of the gamma
  distribution by bisection on the regularized incomplete gamma function.
- A rate ratio's interval is the conditional (binomial) one, as R's ``poisson.test`` with two
  counts gives it: given the total ``a + b``, the after count ``a`` is binomial with
  ``pi = RR * Ta / (RR * Ta + Tb)``; Clopper-Pearson's exact limits for ``pi`` (beta quantiles, by
  bisection on the regularized incomplete beta function) turn into limits for the ratio through
  ``RR = pi / (1 - pi) * Tb / Ta``.

The special functions follow Numerical Recipes (series and Lentz continued fractions).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist

CONFIDENCE = 0.95
_EPS = 1e-15
_TINY = 1e-300
# Enough terms for a count of millions (a series or fraction takes some sqrt(count) terms).
_ITERATIONS = 20_000
_SOLVER_STEPS = 200
_TOLERANCE = 1e-13


def regularized_gamma_p(a: float, x: float) -> float:
    """P(a, x): the gamma(a, 1) distribution's CDF at ``x``."""
    if a <= 0:
        raise ValueError(f"a must be positive, not {a}")
    if x <= 0:
        return 0.0
    if x < a + 1:
        term = total = 1.0 / a
        n = a
        for _ in range(_ITERATIONS):
            n += 1
            term *= x / n
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return min(1.0, total * math.exp(-x + a * math.log(x) - math.lgamma(a)))
    return max(0.0, 1.0 - _gamma_q_fraction(a, x))


def _gamma_q_fraction(a: float, x: float) -> float:
    b = x + 1 - a
    c = 1 / _TINY
    d = 1 / b
    h = d
    for i in range(1, _ITERATIONS):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < _EPS:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


def regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b): the beta(a, b) distribution's CDF at ``x``."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1) / (a + b + 2):
        return front * _beta_fraction(a, b, x) / a
    return 1.0 - front * _beta_fraction(b, a, 1 - x) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    qab, qap, qam = a + b, a + 1, a - 1
    c = 1.0
    d = 1 / _not_zero(1 - qab * x / qap)
    h = d
    for m in range(1, _ITERATIONS):
        m2 = 2 * m
        # Each step of the fraction has an even and an odd term.
        even = m * (b - m) * x / ((qam + m2) * (a + m2))
        odd = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        delta = 1.0
        for term in (even, odd):
            d = 1 / _not_zero(1 + term * d)
            c = _not_zero(1 + term / c)
            delta = d * c
            h *= delta
        if abs(delta - 1) < _EPS:
            break
    return h


def _not_zero(value: float) -> float:
    return _TINY if abs(value) < _TINY else value


def _solve(
    cdf: Callable[[float], float],
    density: Callable[[float], float],
    p: float,
    lo: float,
    hi: float,
    start: float,
) -> float:
    """The x in [lo, hi] where the increasing ``cdf`` reaches ``p``: Newton's steps from
    ``start``, kept inside a shrinking bracket and replaced by bisection whenever a step would
    leave it. Each evaluation of a large count's distribution costs hundreds of terms, so the
    few Newton steps (not some sixty halvings) keep a network's intervals quick."""
    x = min(max(start, lo), hi)
    for _ in range(_SOLVER_STEPS):
        error = cdf(x) - p
        if error < 0:
            lo = x
        else:
            hi = x
        slope = density(x)
        step = error / slope if slope > 0 else math.inf
        guess = x - step
        if not lo < guess < hi:
            guess = (lo + hi) / 2
        if abs(guess - x) <= _TOLERANCE * max(abs(x), _TOLERANCE) or hi - lo <= _TOLERANCE * hi:
            return guess
        x = guess
    return x


def gamma_quantile(p: float, shape: float) -> float:
    spread = 10 * math.sqrt(shape) + 50
    # Wilson and Hilferty's cube-root normal approximation as the first guess.
    z = NormalDist().inv_cdf(p)
    start = shape * (1 - 1 / (9 * shape) + z / (3 * math.sqrt(shape))) ** 3
    return _solve(
        lambda x: regularized_gamma_p(shape, x),
        lambda x: math.exp((shape - 1) * math.log(x) - x - math.lgamma(shape)) if x > 0 else 0.0,
        p,
        max(0.0, shape - spread),
        shape + spread,
        start,
    )


def beta_quantile(p: float, a: float, b: float) -> float:
    log_beta = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    mean = a / (a + b)
    sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))

    def density(x: float) -> float:
        if not 0 < x < 1:
            return 0.0
        return math.exp((a - 1) * math.log(x) + (b - 1) * math.log1p(-x) - log_beta)

    start = mean + NormalDist().inv_cdf(p) * sd
    return _solve(lambda x: regularized_beta(a, b, x), density, p, 0.0, 1.0, start)


def poisson_limits(events: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Garwood's exact interval for the expected count behind ``events`` observed."""
    tail = (1 - confidence) / 2
    lower = 0.0 if events == 0 else gamma_quantile(tail, events)
    return lower, gamma_quantile(1 - tail, events + 1)


def clopper_pearson(
    successes: int, trials: int, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """The exact (Clopper-Pearson) interval for a binomial proportion."""
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError("need 0 <= successes <= trials and trials > 0")
    tail = (1 - confidence) / 2
    failures = trials - successes
    lower = 0.0 if successes == 0 else beta_quantile(tail, successes, failures + 1)
    upper = 1.0 if failures == 0 else beta_quantile(1 - tail, successes + 1, failures)
    return lower, upper


@dataclass(frozen=True, slots=True)
class Rate:
    """Events per unit of person-time, with Garwood's exact interval (None without time)."""

    events: int
    person_years: float
    rate: float | None
    lower: float | None
    upper: float | None


def rate(events: int, person_years: float, confidence: float = CONFIDENCE) -> Rate:
    if person_years <= 0:
        return Rate(events, person_years, None, None, None)
    lo, hi = poisson_limits(events, confidence)
    return Rate(events, person_years, events / person_years, lo / person_years, hi / person_years)


@dataclass(frozen=True, slots=True)
class RateRatio:
    """After over before. ``None`` where it is not defined: no events at all, or no person-time;
    ``ratio`` and ``upper`` are None (unbounded) when there were no events before."""

    ratio: float | None
    lower: float | None
    upper: float | None


def rate_ratio(
    after: int,
    after_years: float,
    before: int,
    before_years: float,
    confidence: float = CONFIDENCE,
) -> RateRatio:
    """The ratio of the after rate to the before rate, with the conditional exact interval."""
    total = after + before
    if total == 0 or after_years <= 0 or before_years <= 0:
        return RateRatio(None, None, None)
    scale = before_years / after_years
    lo_pi, hi_pi = clopper_pearson(after, total, confidence)

    def odds(pi: float) -> float | None:
        return None if pi >= 1 else pi / (1 - pi) * scale

    ratio = None if before == 0 else after / after_years / (before / before_years)
    return RateRatio(ratio, odds(lo_pi), odds(hi_pi))
