"""Funnel-plot control limits around the network proportion (Spiegelhalter, 2005).

Normal approximation to the binomial: p +- z * sqrt(p (1 - p) / n), clipped to 0-100 %. Sites
outside the 99.8 % limits differ from the network by more than chance would usually explain.
"""

from __future__ import annotations

import math

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
