"""Funnel-plot control limits around the network proportion (Spiegelhalter, 2005).

Normal approximation to the binomial: p +- z * sqrt(p (1 - p) / n), clipped to 0-100 %. Sites
outside the 99.8 % limits differ from the network by more than chance would usually explain.
Rates (events per unit of exposure) have exact Poisson limits below.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from service.reports.rates import gamma_quantile, regularized_gamma_p
from service.reports.shapes import FunnelLimit

Z_95 = 1.959964
Z_998 = 3.090232
FUNNEL_POINTS = 60
# Draw the funnel a little past the largest site, so its point is not on the edge of the plot.
FUNNEL_OVERSHOOT = 1.1


def limits(proportion: float, denominator: float, z: float) -> tuple[float, float]:
    """Lower and upper control limits, as proportions (0-1)."""
    if denominator <= 0:
        return 0.0, 1.0
    spread = z * math.sqrt(proportion * (1 - proportion) / denominator)
    return max(0.0, proportion - spread), min(1.0, proportion + spread)


def denominators(largest: float, points: int = FUNNEL_POINTS) -> list[int]:
    top = max(10, math.ceil(largest * FUNNEL_OVERSHOOT))
    # Geometric spacing: the funnel changes fastest at small denominators.
    values = {max(1, round(top ** (i / (points - 1)))) for i in range(points)}
    return sorted(values)


def funnel_limits(proportion: float, largest_denominator: float) -> list[FunnelLimit]:
    rows: list[FunnelLimit] = []
    for n in denominators(largest_denominator):
        lo95, hi95 = limits(proportion, n, Z_95)
        lo998, hi998 = limits(proportion, n, Z_998)
        rows.append(
            {
                "denominator": n,
                "lower_95": round(100 * lo95, 2),
                "upper_95": round(100 * hi95, 2),
                "lower_998": round(100 * lo998, 2),
                "upper_998": round(100 * hi998, 2),
            }
        )
    return rows


# Rates: events over exposure (admissions per patient-year), with exact Poisson limits.
#
# Spiegelhalter (2005), "Funnel plots for comparing institutional performance", Stat Med 24:
# 1185-1202, appendix A.1.2: at exposure E around the target rate theta the count is
# Poisson(theta E); its p-quantile r_p is interpolated to a continuous limit
# (r_p - alpha) / E, alpha = (F(r_p) - p) / (F(r_p) - F(r_p - 1)), so the funnel is a smooth
# curve rather than a staircase. scipy is not a dependency: the Poisson CDF comes from the
# regularized incomplete gamma function, P(X <= k) = Q(k + 1, lambda), the one the exact rate
# intervals use (``service.reports.rates``).

RateLevel = Literal["95", "99.8"]
RatePosition = Literal["inside", "above", "below"]
RATE_LEVELS: dict[RateLevel, tuple[float, float]] = {
    "95": (0.025, 0.975),
    "99.8": (0.001, 0.999),
}


def poisson_cdf(k: int, mean: float) -> float:
    """P(X <= k) for X ~ Poisson(mean)."""
    if k < 0:
        return 0.0
    if mean <= 0:
        return 1.0
    return 1.0 - regularized_gamma_p(k + 1.0, mean)


def poisson_quantile(p: float, mean: float) -> int:
    """The smallest k with P(X <= k) >= p."""
    if not 0 < p < 1:
        raise ValueError(f"p must be in (0, 1), not {p}")
    low, high = -1, max(1, math.ceil(mean + 10 * math.sqrt(mean) + 10))
    while poisson_cdf(high, mean) < p:
        high *= 2
    while high - low > 1:  # invariant: cdf(low) < p <= cdf(high)
        middle = (low + high) // 2
        if poisson_cdf(middle, mean) >= p:
            high = middle
        else:
            low = middle
    return high


def chi_square_quantile(p: float, df: float) -> float:
    """The p-quantile of chi-square with df degrees of freedom: twice gamma(df/2)'s."""
    if not 0 < p < 1 or df <= 0:
        raise ValueError(f"need 0 < p < 1 and df > 0, not p={p}, df={df}")
    return 2.0 * gamma_quantile(p, df / 2)


def poisson_limit(p: float, rate: float, exposure: float) -> float:
    """Spiegelhalter's interpolated p-quantile of the rate at this exposure, never below 0."""
    if exposure <= 0:
        raise ValueError(f"exposure must be positive, not {exposure}")
    expected = rate * exposure
    if expected <= 0:
        return 0.0
    r = poisson_quantile(p, expected)
    at_r, below_r = poisson_cdf(r, expected), poisson_cdf(r - 1, expected)
    alpha = (at_r - p) / (at_r - below_r)
    return max(0.0, (r - alpha) / exposure)


@dataclass(frozen=True, slots=True)
class RateLimit:
    """The control limits, as rates per unit of exposure, at one exposure."""

    exposure: float
    lower_95: float
    upper_95: float
    lower_998: float
    upper_998: float


@dataclass(frozen=True, slots=True)
class RateUnit:
    """A unit (a site) on the funnel, where its rate falls at its own exposure. On a limit
    counts as inside. ``position`` is against the 99.8 % limits, ``position_95`` the 95 %."""

    code: str
    events: int
    exposure: float
    rate: float | None
    position: RatePosition | None
    position_95: RatePosition | None


@dataclass(frozen=True, slots=True)
class RateFunnel:
    target_rate: float | None
    limits: tuple[RateLimit, ...]
    units: tuple[RateUnit, ...]


def rate_limits(rate: float, exposure: float) -> RateLimit:
    lo95, hi95 = RATE_LEVELS["95"]
    lo998, hi998 = RATE_LEVELS["99.8"]
    return RateLimit(
        exposure=exposure,
        lower_95=poisson_limit(lo95, rate, exposure),
        upper_95=poisson_limit(hi95, rate, exposure),
        lower_998=poisson_limit(lo998, rate, exposure),
        upper_998=poisson_limit(hi998, rate, exposure),
    )


def exposure_grid(largest: float, points: int = FUNNEL_POINTS) -> list[float]:
    """Exposures from 1 % to 110 % of the largest, geometrically spaced: the funnel changes
    fastest at small exposures. Exposure is continuous (patient-years), so not rounded."""
    if largest <= 0:
        return []
    top = largest * FUNNEL_OVERSHOOT
    bottom = top / 100
    return [bottom * (top / bottom) ** (i / (points - 1)) for i in range(points)]


def _position(rate: float, lower: float, upper: float) -> RatePosition:
    if rate > upper:
        return "above"
    if rate < lower:
        return "below"
    return "inside"


def rate_funnel(
    units: Sequence[tuple[str, int, float]],
    *,
    exposures: Sequence[float] | None = None,
    target_rate: float | None = None,
) -> RateFunnel:
    """A funnel of rates: ``units`` as (code, events, exposure). The target defaults to the
    pooled rate, all events over all exposure (Spiegelhalter's theta_0 when no external
    standard is given). A unit with no exposure has no rate and no position."""
    for code, events, exposure in units:
        if events < 0 or exposure < 0:
            raise ValueError(f"{code}: events and exposure must not be negative")
    if target_rate is None:
        total = math.fsum(exposure for _, _, exposure in units)
        target_rate = sum(events for _, events, _ in units) / total if total > 0 else None
    if exposures is None:
        exposures = exposure_grid(max((exposure for _, _, exposure in units), default=0.0))
    if target_rate is None:
        return RateFunnel(None, (), tuple(RateUnit(c, e, x, None, None, None) for c, e, x in units))
    placed: list[RateUnit] = []
    for code, events, exposure in units:
        if exposure <= 0:
            placed.append(RateUnit(code, events, exposure, None, None, None))
            continue
        at = rate_limits(target_rate, exposure)
        rate = events / exposure
        placed.append(
            RateUnit(
                code=code,
                events=events,
                exposure=exposure,
                rate=rate,
                position=_position(rate, at.lower_998, at.upper_998),
                position_95=_position(rate, at.lower_95, at.upper_95),
            )
        )
    curve = tuple(rate_limits(target_rate, exposure) for exposure in exposures if exposure > 0)
    return RateFunnel(target_rate, curve, tuple(placed))
