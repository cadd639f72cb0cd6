"""Rules on the symptom questionnaire."""

from __future__ import annotations

from pathway.model import AnkleSwelling, Breathlessness, Fatigue, Finding, Reading, ReadingType
from pathway.rules.base import Context, answers

# A yes/no symptom is "new" if the previous answer within this many days did not have it.
NEW_SYMPTOM_LOOKBACK_DAYS = 7


def emergency(ctx: Context, r: Reading) -> Finding | None:
    a = answers(r)
    present = [
        name
        for name, on in (
            ("breathless at rest", a.breathlessness is Breathlessness.AT_REST),
            ("chest pain", a.chest_pain),
            ("fainting", a.fainting),
            ("new confusion", a.confusion),
        )
        if on
    ]
    if not present:
        return None
    return ctx.finding("red.emergency_symptoms", (r.id,), ", ".join(present), r)


def worse(ctx: Context, r: Reading) -> Finding | None:
    a = answers(r)
    series = ctx.window.get(ReadingType.SYMPTOMS)
    pos = series.index[r.id]
    previous = None
    earliest = series.days[pos] - NEW_SYMPTOM_LOOKBACK_DAYS
    if pos > 0 and series.days[pos - 1] >= earliest:
        previous = series.readings[pos - 1].symptoms
    changes = []
    rules = ctx.config.symptoms
    if a.breathlessness is Breathlessness.WORSE:
        changes.append("worse breathlessness")
    if a.orthopnoea and not (previous and previous.orthopnoea):
        changes.append("new breathlessness lying flat")
    if a.ankle_swelling is AnkleSwelling.WORSE:
        changes.append("worse ankle swelling")
    if a.dizziness and not (previous and previous.dizziness):
        changes.append("new dizziness")
    if a.fatigue is Fatigue.WORSE:
        changes.append("worse tiredness")
    specific = len(changes) - (a.fatigue is Fatigue.WORSE) - ("new dizziness" in changes)
    alone_ok = (a.fatigue is Fatigue.WORSE and rules.fatigue_alone) or (
        "new dizziness" in changes and rules.dizziness_alone
    )
    if not specific and not alone_ok:
        return None
    return ctx.finding("amber.symptoms_worse", (r.id,), ", ".join(changes), r)
