"""Safety checks while medicines are titrated at home (SIGN 147, ESC, UK prescribing)."""

from __future__ import annotations

from datetime import timedelta

from pathway.model import DrugClass, Finding, Reading, ReadingType
from pathway.rules.base import Context, answers, any_worse, value


def creatinine_rise(ctx: Context, r: Reading) -> Finding | None:
    """Rise against the last result before the latest medicine change (or, with no change in
    the window, the earliest result held), since that is the level the dose was judged on."""
    series = ctx.window.get(ReadingType.CREATININE)
    earlier = series.readings[: series.index[r.id]]
    changes = [c.changed_at for c in ctx.patient.medication_changes if c.changed_at <= r.taken_at]
    baseline = earlier[0] if earlier else None
    if changes:
        before = [c for c in earlier if c.taken_at <= max(changes)]
        baseline = before[-1] if before else baseline
    if baseline is None or value(baseline) <= 0:
        return None
    rise = (value(r) - value(baseline)) / value(baseline) * 100.0
    if rise <= ctx.config.titration.creatinine_rise_pct:
        return None
    return ctx.finding(
        "amber.creatinine_rise",
        (baseline.id, r.id),
        f"creatinine up {rise:.0f} % from {value(baseline):g} umol/L",
        r,
    )


def beta_blocker_pulse(ctx: Context, r: Reading) -> Finding | None:
    """Slow pulse and any worse symptom on the same London day, within the configured days of
    a beta-blocker change: the guidance is to halve the dose."""
    t = ctx.config.titration
    since = r.taken_at - timedelta(days=t.beta_blocker_days)
    if not any(
        c.drug_class is DrugClass.BETA_BLOCKER and since <= c.changed_at <= r.taken_at
        for c in ctx.patient.medication_changes
    ):
        return None
    day = ctx.window.day_of(r)
    if r.type is ReadingType.HEART_RATE:
        pulse, partners = r, ctx.window.until(ReadingType.SYMPTOMS, r.taken_at, day)
        worse = [s for s in partners if any_worse(answers(s))]
        if value(pulse) >= t.beta_blocker_pulse_below or not worse:
            return None
        other = worse[-1]
    else:
        slow = [
            p
            for p in ctx.window.until(ReadingType.HEART_RATE, r.taken_at, day)
            if value(p) < t.beta_blocker_pulse_below
        ]
        if not any_worse(answers(r)) or not slow:
            return None
        pulse, other = slow[-1], r
    return ctx.finding(
        "amber.beta_blocker_pulse",
        (pulse.id, other.id),
        f"pulse {value(pulse):g} /min with worse symptoms after a beta-blocker change",
        r,
    )
