"""Weight rules: gain over days (rule of thumb), above target, and gain with symptoms."""

from __future__ import annotations

from pathway.model import Finding, Reading, ReadingType
from pathway.rules.base import Context, answers, congestion_signs, kg, value

W = ReadingType.WEIGHT


def gain(ctx: Context, r: Reading, days: int) -> tuple[float, Reading, int] | None:
    """Latest weight minus the lowest weight on the `days` preceding London calendar days.

    Returns the gain, the comparator reading and how many days apart they are, or None
    when there is no weight in that window (a gap in the data is not a gain).
    """
    series = ctx.window.get(W)
    pos = series.index[r.id]
    day = series.days[pos]
    lowest: Reading | None = None
    lowest_day = day
    # Whole preceding days only, so every candidate is earlier than r; days in order and a
    # strict comparison keep the first of equal lowest weights, as a scan of the readings would.
    for candidate_day in range(day - days, day):
        i = series.lowest_on(candidate_day)
        if i is None:
            continue
        candidate = series.readings[i]
        if lowest is None or value(candidate) < value(lowest):
            lowest, lowest_day = candidate, candidate_day
    if lowest is None:
        return None
    return value(r) - value(lowest), lowest, day - lowest_day


def _gain_rule(ctx: Context, r: Reading, rule_id: str, limit: float, days: int) -> Finding | None:
    found = gain(ctx, r, days)
    if found is None or found[0] < limit:
        return None
    amount, low, apart = found
    return ctx.finding(rule_id, (low.id, r.id), f"{kg(amount)} in {apart} days", r)


def gain_3d(ctx: Context, r: Reading) -> Finding | None:
    w = ctx.config.weight
    return _gain_rule(ctx, r, "amber.weight_gain_3d", w.gain_3d_kg, w.gain_3d_days)


def gain_2d(ctx: Context, r: Reading) -> Finding | None:
    w = ctx.config.weight
    return _gain_rule(ctx, r, "amber.weight_gain_2d", w.gain_2d_kg, w.gain_2d_days)


def above_target(ctx: Context, r: Reading) -> Finding | None:
    target = ctx.thresholds.target_weight_kg
    if target is None:
        return None
    above = value(r) - target
    if above < ctx.thresholds.weight_above_target_kg:
        return None
    return ctx.finding(
        "amber.weight_above_target", (r.id,), f"{kg(above)} above target {target:g} kg", r
    )


def gain_with_symptoms(ctx: Context, r: Reading) -> Finding | None:
    """Red when a qualifying gain and a congestion symptom fall within symptom_days of each
    other, whichever of the two arrives last."""
    w = ctx.config.weight
    if r.type is W:
        found = gain(ctx, r, w.with_symptoms_days)
        if found is None or found[0] < w.with_symptoms_kg:
            return None
        day = ctx.window.day_of(r)
        recent = ctx.window.until(ReadingType.SYMPTOMS, r.taken_at, day - w.symptom_days)
        signs = [(s, congestion_signs(answers(s))) for s in recent]
        signs = [pair for pair in signs if pair[1]]
        if not signs:
            return None
        answer, names = signs[-1]
        amount, low, apart = found
        return ctx.finding(
            "red.weight_gain_symptoms",
            (low.id, r.id, answer.id),
            f"{kg(amount)} in {apart} days with {', '.join(names)}",
            r,
        )
    names = congestion_signs(answers(r))
    if not names:
        return None
    day = ctx.window.day_of(r)
    for weight in reversed(ctx.window.until(W, r.taken_at, day - w.symptom_days)):
        found = gain(ctx, weight, w.with_symptoms_days)
        if found is not None and found[0] >= w.with_symptoms_kg:
            amount, low, apart = found
            return ctx.finding(
                "red.weight_gain_symptoms",
                (low.id, weight.id, r.id),
                f"{kg(amount)} in {apart} days with {', '.join(names)}",
                r,
            )
    return None
