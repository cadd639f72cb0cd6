"""Trend detectors on the weight series: personal moving average and MACD."""

from __future__ import annotations

import math
from bisect import bisect_right

from pathway.model import Finding, Reading, ReadingType
from pathway.rules.base import Context, kg

W = ReadingType.WEIGHT
NAN = float("nan")


def above_baseline(ctx: Context, r: Reading) -> tuple[float, float, range] | None:
    """Mean of the recent days' weights minus the personal baseline mean, the baseline's
    spread, and the recent positions; None without enough readings for either."""
    p = ctx.config.moving_average
    series = ctx.window.get(W)
    pos = series.index[r.id]
    day = series.days[pos]
    recent = series.span(day - p.recent_days + 1, day, upto=pos)
    baseline = series.span(day - p.recent_days - p.baseline_days + 1, day - p.recent_days)
    if len(recent) < p.min_recent_readings or len(baseline) < p.min_baseline_readings:
        return None
    readings = series.readings
    # value() inlined: these loops run for every weight judged.
    base = [NAN if (v := b.value) is None else v for b in readings[baseline.start : baseline.stop]]
    mean_base = math.fsum(base) / len(base)
    sd = math.sqrt(math.fsum([(x - mean_base) ** 2 for x in base]) / (len(base) - 1))
    spread = max(sd, p.min_sd_kg)
    latest = [NAN if (v := x.value) is None else v for x in readings[recent.start : recent.stop]]
    rise = math.fsum(latest) / len(latest) - mean_base
    return rise, spread, recent


def moving_average(ctx: Context, r: Reading) -> Finding | None:
    """Recent mean against the patient's own baseline mean and spread (Ledwidge 2013)."""
    p = ctx.config.moving_average
    found = above_baseline(ctx, r)
    if found is None:
        return None
    rise, spread, recent = found
    if rise < max(p.k_sd * spread, p.min_gain_kg):
        return None
    series = ctx.window.get(W)
    return ctx.finding(
        "trend.moving_average",
        tuple(series.readings[i].id for i in recent),
        f"{kg(rise)} above the usual weight ({rise / spread:.1f} x usual variation)",
        r,
    )


def macd(ctx: Context, r: Reading) -> Finding | None:
    """Fast minus slow exponential average of daily weight, against its signal line
    (Gyllensten 2016)."""
    p = ctx.config.macd
    series = ctx.window.get(W)
    pos = series.index[r.id]
    day = series.days[pos]
    days = series.days
    readings = series.readings
    span = series.span(day - math.ceil(3 * p.slow_days), day, upto=pos)
    # Per-day decay of each average; a gap of several days counts as that many daily steps
    # at the same weight.
    keep_fast = 1.0 - 2.0 / (p.fast_days + 1.0)
    keep_slow = 1.0 - 2.0 / (p.slow_days + 1.0)
    keep_signal = 1.0 - 2.0 / (p.signal_days + 1.0)
    # Daily readings are the usual case: one step's weights, computed once (keep**1 == keep).
    step_fast, step_slow, step_signal = 1.0 - keep_fast, 1.0 - keep_slow, 1.0 - keep_signal
    i, stop = span.start, span.stop
    first = previous = days[i]
    fast = slow = NAN
    signal = line = 0.0
    while i < stop:
        current = days[i]
        # The last weight of a day stands for it: a re-measure replaces the first try. Jumping
        # to it keeps the cost per day, however many weights a device sends in one day.
        i += 1
        if i < stop and days[i] == current:
            i = bisect_right(days, current, i, stop)
        weight = NAN if (v := readings[i - 1].value) is None else v
        gap = current - previous
        previous = current
        if gap == 1:
            fast += step_fast * (weight - fast)
            slow += step_slow * (weight - slow)
            line = fast - slow
            signal += step_signal * (line - signal)
        elif gap:
            fast += (1.0 - keep_fast**gap) * (weight - fast)
            slow += (1.0 - keep_slow**gap) * (weight - slow)
            line = fast - slow
            signal += (1.0 - keep_signal**gap) * (line - signal)
        else:
            # The first day starts both averages at its weight.
            fast = slow = weight
    if previous - first < p.min_days:
        return None
    if line < p.threshold_kg or line <= signal:
        return None
    recent = series.span(day - math.ceil(p.fast_days) + 1, day, upto=pos)
    return ctx.finding(
        "trend.macd",
        tuple(series.readings[i].id for i in recent),
        f"short-term average {kg(line)} above the long-term average",
        r,
    )
