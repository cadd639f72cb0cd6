"""Trend detectors on the weight series: personal moving average and MACD."""

from __future__ import annotations

import math
from bisect import bisect_right

from pathway.model import Finding, Reading, ReadingType
from pathway.rules.base import Context, kg, value

W = ReadingType.WEIGHT


def moving_average(ctx: Context, r: Reading) -> Finding | None:
    """Recent mean against the patient's own baseline mean and spread (Ledwidge 2013)."""
    p = ctx.config.moving_average
    series = ctx.window.get(W)
    pos = series.index[r.id]
    day = series.days[pos]
    recent = series.span(day - p.recent_days + 1, day, upto=pos)
    baseline = series.span(day - p.recent_days - p.baseline_days + 1, day - p.recent_days)
    if len(recent) < p.min_recent_readings or len(baseline) < p.min_baseline_readings:
        return None
    base = [value(series.readings[i]) for i in baseline]
    mean_base = math.fsum(base) / len(base)
    sd = math.sqrt(math.fsum((x - mean_base) ** 2 for x in base) / (len(base) - 1))
    spread = max(sd, p.min_sd_kg)
    rise = math.fsum(value(series.readings[i]) for i in recent) / len(recent) - mean_base
    if rise < max(p.k_sd * spread, p.min_gain_kg):
        return None
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
    daily_days: list[int] = []
    daily_values: list[float] = []
    span = series.span(day - math.ceil(3 * p.slow_days), day, upto=pos)
    i = span.start
    while i < span.stop:
        # The last weight of a day stands for it: a re-measure replaces the first try. Jumping
        # to it keeps the cost per day, however many weights a device sends in one day.
        last = min(bisect_right(days, days[i]), span.stop) - 1
        daily_days.append(days[i])
        daily_values.append(value(readings[last]))
        i = last + 1
    if daily_days[-1] - daily_days[0] < p.min_days:
        return None
    # Per-day decay of each average; a gap of several days counts as that many daily steps
    # at the same weight.
    keep_fast = 1.0 - 2.0 / (p.fast_days + 1.0)
    keep_slow = 1.0 - 2.0 / (p.slow_days + 1.0)
    keep_signal = 1.0 - 2.0 / (p.signal_days + 1.0)
    fast = slow = daily_values[0]
    signal = line = 0.0
    previous = daily_days[0]
    for current, weight in zip(daily_days, daily_values, strict=True):
        gap = current - previous
        previous = current
        fast += (1.0 - keep_fast**gap) * (weight - fast)
        slow += (1.0 - keep_slow**gap) * (weight - slow)
        line = fast - slow
        signal += (1.0 - keep_signal**gap) * (line - signal)
    if line < p.threshold_kg or line <= signal:
        return None
    recent = series.span(day - math.ceil(p.fast_days) + 1, day, upto=pos)
    return ctx.finding(
        "trend.macd",
        tuple(series.readings[i].id for i in recent),
        f"short-term average {kg(line)} above the long-term average",
        r,
    )
