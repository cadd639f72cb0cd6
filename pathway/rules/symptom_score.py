"""amber.symptoms_worse from weak signals added up, so one stray answer raises nothing.

Stable patients answer "ankles more swollen" or "dizzy" on a few days in a hundred (issue 15):
raising an amber on each answer gave about 11 false alerts a patient-year. Here each worse
answer scores points on each day it is given within the last few days, scaled by how unusual
it is for this patient, and a weight above the patient's own baseline adds points; the amber
is raised at one threshold. The finding names every signal that scored, in plain words.
"""

from __future__ import annotations

from pathway.config import SymptomRules
from pathway.model import AnkleSwelling, Breathlessness, Fatigue, Finding, Reading, ReadingType
from pathway.rules.base import Context, Held, answers
from pathway.rules.trends import above_baseline

S, W = ReadingType.SYMPTOMS, ReadingType.WEIGHT
SPO2, PULSE = ReadingType.SPO2, ReadingType.HEART_RATE
# Orthopnoea and ankle swelling (NAMES positions) count over rules.slow_sign_days.
SLOW = (False, True, True, False, False)
NAMES = (
    "worse breathlessness",
    "breathless lying flat",
    "worse ankle swelling",
    "dizziness",
    "worse tiredness",
)


def signs(r: Reading) -> tuple[bool, bool, bool, bool, bool]:
    """The worse answers, in NAMES order (breathless at rest counts as worse breathlessness;
    it is also the red emergency rule)."""
    a = answers(r)
    return (
        a.breathlessness in (Breathlessness.WORSE, Breathlessness.AT_REST),
        a.orthopnoea,
        a.ankle_swelling is AnkleSwelling.WORSE,
        a.dizziness,
        a.fatigue is Fatigue.WORSE,
    )


def points(rules: SymptomRules) -> tuple[float, float, float, float, float]:
    return (
        rules.breathlessness_points,
        rules.orthopnoea_points,
        rules.ankle_swelling_points,
        rules.dizziness_points,
        rules.fatigue_points,
    )


def _usual_scale(ctx: Context, day: int) -> list[float]:
    """Per answer, 1 up to rules.full_rate of questionnaires (stray answers of a stable
    patient), falling to 0 at rules.usual_rate."""
    rules = ctx.config.symptoms
    series = ctx.window.get(S)
    last = day - rules.baseline_gap_days
    span = series.span(last - rules.baseline_days + 1, last)
    counts = [0, 0, 0, 0, 0]
    for i in span:
        for k, on in enumerate(signs(series.readings[i])):
            counts[k] += on
    seen = len(span) + rules.prior_answers
    prior = rules.prior_rate * rules.prior_answers
    room = rules.usual_rate - rules.full_rate
    return [min(1.0, max(0.0, (rules.usual_rate - (c + prior) / seen) / room)) for c in counts]


def _weight(ctx: Context, r: Reading, day: int) -> tuple[float, Reading | None]:
    """The latest weight within weight.symptom_days before the answer, and how far its recent
    mean is above the personal baseline mean (0 without enough weights)."""
    weights = ctx.window.until(W, r.taken_at, day - ctx.config.weight.symptom_days)
    if not weights:
        return 0.0, None
    found = above_baseline(ctx, weights[-1])
    if found is None or found[0] <= 0:
        return 0.0, None
    return found[0], weights[-1]


def _vital_shift(ctx: Context, kind: ReadingType, r: Reading, day: int) -> float | None:
    """Mean of this vital over the last persist_days minus its personal baseline median (the
    same baseline days as the answers); None without enough readings."""
    rules = ctx.config.symptoms
    series = ctx.window.get(kind)
    last = day - rules.baseline_gap_days
    readings = series.readings
    usual = sorted(
        v
        for i in series.span(last - rules.baseline_days + 1, last)
        if (v := readings[i].value) is not None
    )
    if len(usual) < rules.min_vitals_baseline:
        return None
    # Readings arrive in batches: none later than the answer being judged counts.
    recent = [
        v
        for i in series.span(day - rules.persist_days + 1, day)
        if readings[i].taken_at <= r.taken_at and (v := readings[i].value) is not None
    ]
    if not recent:
        return None
    middle = len(usual) // 2
    median = usual[middle] if len(usual) % 2 else (usual[middle - 1] + usual[middle]) / 2
    return sum(recent) / len(recent) - median


def _vitals(ctx: Context, r: Reading, day: int) -> list[tuple[float, str]]:
    """Points for SpO2 below and pulse above the patient's own baseline, with their words."""
    rules = ctx.config.symptoms
    out = []
    if rules.spo2_points_per_percent > 0:
        shift = _vital_shift(ctx, SPO2, r, day)
        if shift is not None and -shift > rules.spo2_free_percent:
            drop = -shift
            gained = rules.spo2_points_per_percent * (drop - rules.spo2_free_percent)
            out.append((gained, f"oxygen saturation {drop:.1f} % below usual"))
    if rules.pulse_points_per_10_bpm > 0:
        shift = _vital_shift(ctx, PULSE, r, day)
        if shift is not None and shift > rules.pulse_free_bpm:
            gained = rules.pulse_points_per_10_bpm * (shift - rules.pulse_free_bpm) / 10
            out.append((gained, f"pulse {shift:.0f} bpm above usual"))
    return out


def scored(ctx: Context, r: Reading) -> Finding | Held | None:
    today = signs(r)
    if not any(today):
        return None
    rules = ctx.config.symptoms
    series = ctx.window.get(S)
    pos = series.index[r.id]
    day = series.days[pos]
    first = {False: day - rules.persist_days + 1, True: day - rules.slow_sign_days + 1}
    recent = series.span(min(first.values()), day, upto=pos)
    days_on: list[set[int]] = [set(), set(), set(), set(), set()]
    evidence: list[str] = []
    for i in recent:
        found = signs(series.readings[i])
        counted = False
        for k, on in enumerate(found):
            if on and series.days[i] >= first[SLOW[k]]:
                days_on[k].add(series.days[i])
                counted = True
        if counted:
            evidence.append(series.readings[i].id)
    scale = _usual_scale(ctx, day)
    weights = points(rules)
    score = 0.0
    said = []
    for k, name in enumerate(NAMES):
        gained = weights[k] * scale[k] * len(days_on[k])
        if gained > 0:
            score += gained
            n = len(days_on[k])
            span = rules.slow_sign_days if SLOW[k] else rules.persist_days
            when = f"on {n} of the last {span} days"
            if n == 1:
                when = "today" if day in days_on[k] else f"in the last {span} days"
            said.append(f"{name} {when}" + ("" if scale[k] >= 0.75 else " (often answered)"))
    rise, weight = _weight(ctx, r, day)
    if weight is not None:
        gained = rules.points_per_kg * min(rise, rules.weight_cap_kg)
        if gained > 0:
            score += gained
            said.append(f"weight {rise:.1f} kg above usual")
            evidence.insert(0, weight.id)
    for gained, words in _vitals(ctx, r, day):
        score += gained
        said.append(words)
    if score < rules.score_threshold:
        return Held("amber.symptoms_worse", "symptoms_again")
    summary = "; ".join(said) + f" (score {score:.1f}, alert at {rules.score_threshold:g})"
    return ctx.finding("amber.symptoms_worse", tuple(evidence), summary, r)
