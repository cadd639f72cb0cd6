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

CONFIDENCE = 0.95
_EPS = 1e-15
_TINY = 1e-300
_ITERATIONS = 500


def regularized_gamma_p(a: float, x: float) -> float:
    """P(a, x): the gamma(a, 1) distribution's CDF at ``x``."""
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
        return total * math.exp(-x + a * math.log(x) - math.lgamma(a))
    return 1.0 - _gamma_q_fraction(a, x)


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


def _bisect(cdf: Callable[[float], float], p: float, lo: float, hi: float) -> float:
    """The x in [lo, hi] where the increasing ``cdf`` reaches ``p``."""
    for _ in range(_ITERATIONS):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        if cdf(mid) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def gamma_quantile(p: float, shape: float) -> float:
    hi = shape + 10 * math.sqrt(shape) + 50
    return _bisect(lambda x: regularized_gamma_p(shape, x), p, 0.0, hi)


def beta_quantile(p: float, a: float, b: float) -> float:
    return _bisect(lambda x: regularized_beta(a, b, x), p, 0.0, 1.0)


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
