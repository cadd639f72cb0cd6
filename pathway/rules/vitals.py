"""Single-reading rules for SpO2, blood pressure and pulse."""

from __future__ import annotations

from pathway.model import Finding, Reading, ReadingType
from pathway.rules.base import Context, answers, value


def spo2(ctx: Context, r: Reading) -> Finding | None:
    v = value(r)
    t = ctx.thresholds
    summary = f"SpO2 {v:g} %"
    # Each emergency band stays at least one step beyond its red band: a personal red limit
    # set beyond the emergency default takes the band with it, so a patient whose usual values
    # are low still has a red band and is not sent to 999 for their usual reading.
    emergency = min(t.spo2_emergency_at_or_below, t.spo2_red_at_or_below - 1)
    if v <= emergency and ctx.on("emergency.spo2"):
        return ctx.finding("emergency.spo2", (r.id,), summary, r)
    if v <= t.spo2_red_at_or_below and ctx.on("red.spo2"):
        return ctx.finding("red.spo2", (r.id,), summary, r)
    if v <= t.spo2_amber_at_or_below and ctx.on("amber.spo2"):
        return ctx.finding("amber.spo2", (r.id,), summary, r)
    return None


def systolic(ctx: Context, r: Reading) -> Finding | None:
    sbp = r.systolic if r.systolic is not None else 999
    t = ctx.thresholds
    summary = f"blood pressure {sbp}/{r.diastolic if r.diastolic is not None else '-'} mmHg"
    if sbp < min(t.systolic_emergency_below, t.systolic_red_below - 1) and ctx.on(
        "emergency.systolic"
    ):
        return ctx.finding("emergency.systolic", (r.id,), summary, r)
    if sbp < t.systolic_red_below and ctx.on("red.systolic"):
        return ctx.finding("red.systolic", (r.id,), summary, r)
    if sbp < t.systolic_amber_below and ctx.on("amber.systolic"):
        return ctx.finding("amber.systolic", (r.id,), summary, r)
    return None


def pulse(ctx: Context, r: Reading) -> Finding | None:
    v = value(r)
    t = ctx.thresholds
    summary = f"pulse {v:g} /min"
    extreme = v <= min(t.pulse_low_emergency, t.pulse_low_red - 1) or v >= max(
        t.pulse_high_emergency, t.pulse_high_red + 1
    )
    if extreme and ctx.on("emergency.pulse"):
        return ctx.finding("emergency.pulse", (r.id,), summary, r)
    if (v <= t.pulse_low_red or v >= t.pulse_high_red) and ctx.on("red.pulse"):
        return ctx.finding("red.pulse", (r.id,), summary, r)
    amber = v <= t.pulse_low_amber or v >= t.pulse_high_amber
    if amber and ctx.on("amber.pulse"):
        return ctx.finding("amber.pulse", (r.id,), summary, r)
    return None


def pulse_dizzy(ctx: Context, r: Reading) -> Finding | None:
    """Pulse below the limit and dizziness answered on the same London day, in either order."""
    limit = ctx.thresholds.pulse_dizzy_below
    day = ctx.window.day_of(r)
    if r.type is ReadingType.HEART_RATE:
        if value(r) >= limit:
            return None
        partners = ctx.window.until(ReadingType.SYMPTOMS, r.taken_at, day)
        dizzy = [s for s in partners if answers(s).dizziness]
        if not dizzy:
            return None
        return ctx.finding(
            "red.pulse_dizzy", (dizzy[-1].id, r.id), f"pulse {value(r):g} /min and dizzy", r
        )
    if not answers(r).dizziness:
        return None
    slow = [
        p for p in ctx.window.until(ReadingType.HEART_RATE, r.taken_at, day) if value(p) < limit
    ]
    if not slow:
        return None
    return ctx.finding(
        "red.pulse_dizzy", (slow[-1].id, r.id), f"pulse {value(slow[-1]):g} /min and dizzy", r
    )
