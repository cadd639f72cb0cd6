"""Rules on the symptom questionnaire."""

from __future__ import annotations

from pathway.model import AnkleSwelling, Breathlessness, Fatigue, Finding, Reading, ReadingType
from pathway.rules.base import Context, Held, answers, congestion_signs
from pathway.rules.symptom_score import scored
from pathway.rules.trends import above_baseline

# A yes/no symptom is "new" if the previous answer within this many days did not have it.
NEW_SYMPTOM_LOOKBACK_DAYS = 7
# Worse breathlessness "again" means on the previous questionnaire within this many days.
REPEAT_DAYS = 3


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


def worse(ctx: Context, r: Reading) -> Finding | Held | None:
    if ctx.config.symptoms.score:
        return scored(ctx, r)
    return single(ctx, r)


def single(ctx: Context, r: Reading) -> Finding | Held | None:
    """The first build's rule: one worse answer raises the amber (with the exceptions the
    symptoms settings give)."""
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
    evidence: tuple[str, ...] = (r.id,)
    breathless_only = changes[0] == "worse breathlessness" and specific == 1
    if breathless_only and not alone_ok and rules.breathlessness_alone_repeat:
        # Worse breathlessness on exertion with no orthopnoea or ankle swelling is the least
        # specific sign of congestion; it raises the amber when the previous questionnaire
        # (within REPEAT_DAYS) also showed a congestion sign, else asks again tomorrow.
        again = pos > 0 and series.days[pos] - series.days[pos - 1] <= REPEAT_DAYS
        if again and congestion_signs(answers(series.readings[pos - 1])):
            evidence = (series.readings[pos - 1].id, r.id)
            changes[0] = "worse breathlessness again"
        else:
            # ... or at once when the weight is up on the patient's own baseline.
            weight = _weight_up(ctx, r)
            if weight is None:
                return Held("amber.symptoms_worse", "symptoms_again")
            evidence = (weight.id, r.id)
            changes[0] = "worse breathlessness with weight up"
    return ctx.finding("amber.symptoms_worse", evidence, ", ".join(changes), r)


def _weight_up(ctx: Context, r: Reading) -> Reading | None:
    """The latest weight within weight.symptom_days before the answer whose recent mean is at
    least symptoms.breathlessness_weight_kg above the personal baseline mean."""
    day = ctx.window.day_of(r)
    weights = ctx.window.until(ReadingType.WEIGHT, r.taken_at, day - ctx.config.weight.symptom_days)
    if not weights:
        return None
    latest = weights[-1]
    found = above_baseline(ctx, latest)
    if found is None or found[0] < ctx.config.symptoms.breathlessness_weight_kg:
        return None
    return latest
