"""Statistical process control the NHS way: NHS England's Making Data Count, as plain functions.

The reference is NHS-R Community's ``NHSRplotthedots`` (R, version 0.2.x): ``ptd_spc_standard``
for the limits, ``ptd_calculate_point_type`` for the rules and labels,
``ptd_calculate_assurance_type`` and ``geom_ptd_icon`` for the icons. Where this module differs
from it, the difference is an option the reference lacks (``trend_length``, ``run_length``) or a
case it does not handle (gaps); ``docs/spc.md`` lists each one. No I/O, no clock: values in,
a chart out, so the report pages, the monthly pack and the value-framework dashboards all read
the same signals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

Improvement = Literal["increase", "decrease", "neutral"]
Rule = Literal["beyond_limits", "trend", "two_of_three", "run"]
PointType = Literal[
    "special_cause_improvement", "special_cause_concern", "special_cause_neither", "common_cause"
]
Side = Literal["high", "low"]
VariationIcon = Literal[
    "improvement_high",
    "improvement_low",
    "concern_high",
    "concern_low",
    "common_cause",
    "neither_high",
    "neither_low",
]
AssuranceIcon = Literal["consistent_pass", "consistent_fail", "hit_and_miss"]
ChartKind = Literal["xmr", "p", "p_prime"]

# 3 / d2, d2 = 1.128 being the expected range of two normal values in standard deviations: the
# process limits sit 3 sigma from the mean, sigma estimated as mR-bar / d2 (Wheeler).
D2 = 1.128
XMR_LIMIT = 2.66
# D4 for subgroups of two: a moving range above 3.267 x mR-bar is itself out of control, so the
# reference drops it before re-estimating mR-bar (its option screen_outliers, TRUE by default).
SCREEN_FACTOR = 3.267
# The reference warns when a chart's limits rest on fewer points than this.
MIN_POINTS = 12
# Laney (2002): the p'-chart only when the z-scores vary more than binomial sampling allows.
LANEY_THRESHOLD = 1.0

_PRIORITY: tuple[Rule, ...] = ("beyond_limits", "trend", "two_of_three", "run")


@dataclass(frozen=True, slots=True)
class SpcPoint:
    """One point: its value, the lines around it, the rules it is part of and what they mean.

    ``point_type`` and ``side`` are None for a missing value and on a chart without limits.
    ``side`` is the direction of the special cause that labels the point (the rule first in
    ``beyond_limits``, ``trend``, ``two_of_three``, ``run``, as the reference's labels are).
    """

    index: int
    value: float | None
    mean: float | None
    sigma: float | None
    lower: float | None
    upper: float | None
    lower_2sigma: float | None
    upper_2sigma: float | None
    rules: tuple[Rule, ...]
    point_type: PointType | None
    side: Side | None


@dataclass(frozen=True, slots=True)
class SpcChart:
    """A whole chart. ``lower``/``upper`` are the XmR chart's fixed limits (None on a p-chart,
    whose limits vary with each point's denominator: read them on the points)."""

    kind: ChartKind
    improvement: Improvement
    target: float | None
    run_length: int
    trend_length: int
    baseline: int | None
    mean: float | None
    mean_moving_range: float | None
    sigma_z: float | None
    lower: float | None
    upper: float | None
    points: tuple[SpcPoint, ...]
    variation_icon: VariationIcon | None
    assurance_icon: AssuranceIcon | None
    too_few_points: bool


def _mean(values: Sequence[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def _check_options(run_length: int, trend_length: int, baseline: int | None) -> None:
    if run_length < 2:
        raise ValueError(f"run_length must be at least 2, not {run_length}")
    if trend_length < 3:
        raise ValueError(f"trend_length must be at least 3, not {trend_length}")
    if baseline is not None and baseline < 2:
        raise ValueError(f"baseline must be at least 2 points, not {baseline}")


def moving_ranges(values: Sequence[float | None]) -> list[float | None]:
    """|x_i - x_(i-1)|, None for the first point and on either side of a missing value (as R's
    ``diff`` over NA gives): a gap does not join the months around it."""
    ranges: list[float | None] = [None]
    for before, after in pairwise(values):
        ranges.append(None if before is None or after is None else abs(after - before))
    return ranges


def mean_moving_range(
    values: Sequence[float | None], *, screen_outliers: bool = True
) -> float | None:
    """mR-bar, after dropping moving ranges not below 3.267 x mR-bar when screening (the
    reference keeps ``mr < 3.267 * amr`` and screens once)."""
    present = [r for r in moving_ranges(values) if r is not None]
    first = _mean(present)
    if first is None or not screen_outliers:
        return first
    return _mean([r for r in present if r < SCREEN_FACTOR * first])


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def _windows(flags: Sequence[bool], length: int) -> list[bool]:
    """Every point inside some flagged window of ``length`` points ending at a flagged index
    (the reference's ``ptd_part_of_seven_trend``)."""
    part = [False] * len(flags)
    for end, flagged in enumerate(flags):
        if flagged:
            for i in range(end - length + 1, end + 1):
                part[i] = True
    return part


def _runs(relative: Sequence[int | None], length: int) -> list[bool]:
    """A run: ``length`` points on one side of the mean. A point exactly on the mean (sign 0)
    is on neither side and breaks a run, as in the reference; so does a missing value."""
    flags = [
        end >= length - 1
        and relative[end] not in (None, 0)
        and all(relative[i] == relative[end] for i in range(end - length + 1, end))
        for end in range(len(relative))
    ]
    return _windows(flags, length)


def _trend_direction(values: Sequence[float | None], start: int, end: int) -> int:
    steps: set[int] = set()
    for i in range(start + 1, end + 1):
        before, after = values[i - 1], values[i]
        if before is None or after is None:
            return 0
        steps.add(_sign(after - before))
    return steps.pop() if len(steps) == 1 else 0


def _trends(values: Sequence[float | None], length: int) -> list[bool]:
    """A trend: ``length`` points each strictly above (or each strictly below) the one before.
    A tie (two equal values) breaks a trend, as the reference's ``sign(diff(y))`` does."""
    flags = [
        end >= length - 1 and _trend_direction(values, end - length + 1, end) != 0
        for end in range(len(values))
    ]
    return _windows(flags, length)


def _two_of_three(near: Sequence[bool | None], relative: Sequence[int | None]) -> list[bool]:
    """Two (or three) of three consecutive points beyond a 2-sigma line, all three on the same
    side of the mean; only the points beyond the line are flagged (``ptd_two_in_three`` and
    ``ptd_part_of_two_in_three``, with the fix of its issue #143)."""
    n = len(near)
    flagged = [False] * n
    for start in range(-2, n):
        window = [i for i in range(start, start + 3) if 0 <= i < n]
        if any(near[i] is None or relative[i] is None for i in window):
            continue
        if (
            sum(bool(near[i]) for i in window) >= 2
            and abs(sum(relative[i] or 0 for i in window)) == 3
        ):
            for i in window:
                flagged[i] = flagged[i] or bool(near[i])
    return flagged


@dataclass(frozen=True, slots=True)
class _Lines:
    centre: list[float | None]
    sigma: list[float | None]
    lower: list[float | None]
    upper: list[float | None]
    lower_2sigma: list[float | None]
    upper_2sigma: list[float | None]


def _point_types(
    values: Sequence[float | None],
    lines: _Lines,
    improvement: Improvement,
    run_length: int,
    trend_length: int,
) -> list[tuple[tuple[Rule, ...], PointType | None, Side | None]]:
    relative: list[int | None] = []
    outside: list[bool] = []
    near: list[bool | None] = []
    for i, value in enumerate(values):
        centre, lower, upper = lines.centre[i], lines.lower[i], lines.upper[i]
        lo2, hi2 = lines.lower_2sigma[i], lines.upper_2sigma[i]
        if value is None or centre is None or lower is None or upper is None:
            relative.append(None)
            outside.append(False)
            near.append(None)
            continue
        assert lo2 is not None and hi2 is not None
        relative.append(_sign(value - centre))
        beyond = value > upper or value < lower
        outside.append(beyond)
        near.append(not beyond and (value < lo2 or value > hi2))
    fired: dict[Rule, list[bool]] = {
        "beyond_limits": outside,
        "trend": _trends(values, trend_length),
        "two_of_three": _two_of_three(near, relative),
        "run": _runs(relative, run_length),
    }
    result: list[tuple[tuple[Rule, ...], PointType | None, Side | None]] = []
    for i, value in enumerate(values):
        if relative[i] is None or value is None:
            result.append(((), None, None))
            continue
        rules = tuple(rule for rule in _PRIORITY if fired[rule][i])
        if not rules:
            result.append(((), "common_cause", None))
            continue
        direction = _label_direction(rules[0], i, values, fired["trend"], relative[i] or 0)
        side: Side = "high" if direction > 0 else "low"
        result.append((rules, _oriented(direction, improvement), side))
    return result


def _label_direction(
    rule: Rule, i: int, values: Sequence[float | None], trend: Sequence[bool], relative: int
) -> int:
    if rule != "trend":
        # The reference: ``ifelse(relative_to_mean > 0, "Above", "Below")``.
        return 1 if relative > 0 else -1
    # A trend point takes the step to its right when the next point is in a trend too, else the
    # step from its left; an increasing step reads "Increasing", anything else "Decreasing".
    nxt = i + 1
    if nxt < len(values) and trend[nxt]:
        before, after = values[i], values[nxt]
    else:
        before, after = values[i - 1], values[i]
    assert before is not None and after is not None
    return 1 if after > before else -1


def _oriented(direction: int, improvement: Improvement) -> PointType:
    if improvement == "neutral":
        return "special_cause_neither"
    good = 1 if improvement == "increase" else -1
    return "special_cause_improvement" if direction == good else "special_cause_concern"


def variation_icon(points: Sequence[SpcPoint], improvement: Improvement) -> VariationIcon | None:
    """The Making Data Count variation icon, read from the last point with a type (the reference
    reads the last point; a missing last month would give it none, so the last one shown is
    used). The letter is the side the special cause is on: high or low."""
    typed = [p for p in points if p.point_type is not None]
    if not typed:
        return None
    last = typed[-1]
    if last.point_type == "common_cause" or last.side is None:
        return "common_cause"
    if last.point_type == "special_cause_neither":
        return "neither_high" if last.side == "high" else "neither_low"
    if last.point_type == "special_cause_improvement":
        return "improvement_high" if improvement == "increase" else "improvement_low"
    return "concern_low" if improvement == "increase" else "concern_high"


def assurance_icon(
    points: Sequence[SpcPoint], improvement: Improvement, target: float | None
) -> AssuranceIcon | None:
    """Whether the process, as it runs, will meet the target: the target beyond the last point's
    limits on the bad side fails every time, on the good side passes every time, between them
    (or on a limit) is hit and miss. None without a target, with a neutral direction (the
    reference gives none: there is no good side) or without limits."""
    if target is None or improvement == "neutral":
        return None
    with_limits = [p for p in points if p.lower is not None and p.upper is not None]
    if not with_limits:
        return None
    last = with_limits[-1]
    assert last.lower is not None and last.upper is not None
    increasing = improvement == "increase"
    if target > last.upper:
        return "consistent_fail" if increasing else "consistent_pass"
    if target < last.lower:
        return "consistent_pass" if increasing else "consistent_fail"
    return "hit_and_miss"


def _chart(
    kind: ChartKind,
    values: Sequence[float | None],
    lines: _Lines,
    *,
    target: float | None,
    improvement: Improvement,
    run_length: int,
    trend_length: int,
    baseline: int | None,
    mean: float | None,
    mean_moving_range: float | None,
    sigma_z: float | None,
    used_points: int,
) -> SpcChart:
    typed = _point_types(values, lines, improvement, run_length, trend_length)
    points = tuple(
        SpcPoint(
            index=i,
            value=value,
            mean=lines.centre[i],
            sigma=lines.sigma[i],
            lower=lines.lower[i],
            upper=lines.upper[i],
            lower_2sigma=lines.lower_2sigma[i],
            upper_2sigma=lines.upper_2sigma[i],
            rules=rules,
            point_type=point_type,
            side=side,
        )
        for i, (value, (rules, point_type, side)) in enumerate(zip(values, typed, strict=True))
    )
    fixed = kind == "xmr"
    return SpcChart(
        kind=kind,
        improvement=improvement,
        target=target,
        run_length=run_length,
        trend_length=trend_length,
        baseline=baseline,
        mean=mean,
        mean_moving_range=mean_moving_range,
        sigma_z=sigma_z,
        lower=lines.lower[0] if fixed and lines.lower else None,
        upper=lines.upper[0] if fixed and lines.upper else None,
        points=points,
        variation_icon=variation_icon(points, improvement),
        assurance_icon=assurance_icon(points, improvement, target),
        too_few_points=used_points < MIN_POINTS,
    )


def xmr(
    values: Sequence[float | None],
    *,
    target: float | None,
    improvement: Improvement,
    run_length: int = 7,
    trend_length: int = 6,
    baseline: int | None = None,
    screen_outliers: bool = True,
) -> SpcChart:
    """An XmR (individuals) chart: mean +- 2.66 x mR-bar, the 2-sigma lines at +- 2/3 of that.

    ``baseline`` fixes the mean and limits on the first N points (the reference's
    ``fix_after_n_points``) and the rules run over every point against them. With fewer than
    two values (or no moving range) in the baseline there are no limits and no point types.
    """
    _check_options(run_length, trend_length, baseline)
    fixed = list(values[:baseline] if baseline is not None else values)
    present = [v for v in fixed if v is not None]
    mean = _mean(present)
    mr_bar = (
        mean_moving_range(fixed, screen_outliers=screen_outliers) if len(present) >= 2 else None
    )
    n = len(values)
    if mean is None or mr_bar is None:
        nothing: list[float | None] = [None] * n
        lines = _Lines([mean] * n, nothing, nothing, nothing, nothing, nothing)
    else:
        # The reference's own arithmetic (mean -+ 2.66 x mR-bar, and 2 x 2.66 / 3 for the
        # 2-sigma lines), so that a value on a limit falls on the same side as in R.
        lines = _Lines(
            centre=[mean] * n,
            sigma=[XMR_LIMIT / 3 * mr_bar] * n,
            lower=[mean - XMR_LIMIT * mr_bar] * n,
            upper=[mean + XMR_LIMIT * mr_bar] * n,
            lower_2sigma=[mean - 2 * (XMR_LIMIT / 3) * mr_bar] * n,
            upper_2sigma=[mean + 2 * (XMR_LIMIT / 3) * mr_bar] * n,
        )
    return _chart(
        "xmr",
        list(values),
        lines,
        target=target,
        improvement=improvement,
        run_length=run_length,
        trend_length=trend_length,
        baseline=baseline,
        mean=mean,
        mean_moving_range=mr_bar,
        sigma_z=None,
        used_points=len(present),
    )


def laney_sigma_z(
    numerators: Sequence[int | None], denominators: Sequence[int | None], p_bar: float
) -> float | None:
    """sigma_z = mR-bar of the z-scores / 1.128 (Laney 2002). None when p-bar is 0 or 1 (no
    binomial spread to scale) or when no two consecutive points have a z-score."""
    if not 0 < p_bar < 1:
        return None
    z: list[float | None] = []
    for num, den in zip(numerators, denominators, strict=True):
        if num is None or den is None or den <= 0:
            z.append(None)
        else:
            z.append((num / den - p_bar) / math.sqrt(p_bar * (1 - p_bar) / den))
    mr_bar = mean_moving_range(z, screen_outliers=False)
    return None if mr_bar is None else mr_bar / D2


def p_chart(
    numerators: Sequence[int | None],
    denominators: Sequence[int | None],
    *,
    laney: bool | None = None,
    target: float | None = None,
    improvement: Improvement,
    run_length: int = 7,
    trend_length: int = 6,
    baseline: int | None = None,
) -> SpcChart:
    """A p-chart of proportions (0-1) with changing denominators, or Laney's p'-chart.

    p-bar = sum of numerators / sum of denominators; sigma_i = sqrt(p-bar (1 - p-bar) / n_i);
    limits p-bar +- 3 sigma_i (x sigma_z on the p'-chart), clipped to [0, 1]. ``laney=None``
    chooses: the p'-chart when sigma_z > 1 (over-dispersed), else the p-chart, because with large
    denominators the binomial limits are too narrow and flag most months (Laney 2002).
    A point with a missing numerator or a denominator of 0 is a gap. ValueError for a numerator
    outside 0..denominator, or ``laney=True`` with no two consecutive points to estimate sigma_z.
    """
    _check_options(run_length, trend_length, baseline)
    if len(numerators) != len(denominators):
        raise ValueError("numerators and denominators must be the same length")
    pairs = [
        (num, den) if num is not None and den is not None and den > 0 else None
        for num, den in zip(numerators, denominators, strict=True)
    ]
    for pair in pairs:
        if pair is not None and not 0 <= pair[0] <= pair[1]:
            raise ValueError(f"numerator {pair[0]} outside 0..{pair[1]}")
    fixed = [p for p in (pairs[:baseline] if baseline is not None else pairs) if p is not None]
    n = len(pairs)
    values = [None if p is None else p[0] / p[1] for p in pairs]
    total = sum(den for _, den in fixed)
    p_bar = sum(num for num, _ in fixed) / total if total else None
    sigma_z: float | None = None
    if p_bar is not None:
        window = slice(0, baseline)
        sigma_z = laney_sigma_z(
            [p[0] if p else None for p in pairs[window]],
            [p[1] if p else None for p in pairs[window]],
            p_bar,
        )
    use_laney = laney if laney is not None else (sigma_z is not None and sigma_z > LANEY_THRESHOLD)
    if use_laney and sigma_z is None and p_bar is not None and 0 < p_bar < 1:
        raise ValueError("the p'-chart needs two consecutive points to estimate sigma_z")
    scale = sigma_z if use_laney and sigma_z is not None else 1.0
    lines = _Lines([], [], [], [], [], [])
    for pair in pairs:
        if p_bar is None or pair is None or len(fixed) < 2:
            for line in (
                lines.sigma,
                lines.lower,
                lines.upper,
                lines.lower_2sigma,
                lines.upper_2sigma,
            ):
                line.append(None)
            lines.centre.append(p_bar)
            continue
        sigma = math.sqrt(p_bar * (1 - p_bar) / pair[1]) * scale
        lines.centre.append(p_bar)
        lines.sigma.append(sigma)
        lines.lower.append(max(0.0, p_bar - 3 * sigma))
        lines.upper.append(min(1.0, p_bar + 3 * sigma))
        lines.lower_2sigma.append(max(0.0, p_bar - 2 * sigma))
        lines.upper_2sigma.append(min(1.0, p_bar + 2 * sigma))
    assert len(lines.centre) == n
    return _chart(
        "p_prime" if use_laney else "p",
        values,
        lines,
        target=target,
        improvement=improvement,
        run_length=run_length,
        trend_length=trend_length,
        baseline=baseline,
        mean=p_bar,
        mean_moving_range=None,
        sigma_z=sigma_z,
        used_points=len(fixed),
    )
