"""evaluate(): the readings that just arrived, judged with the patient's bounded history."""

from __future__ import annotations

import dataclasses
import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import lru_cache

from pathway.advice import advise
from pathway.config import (
    Macd,
    MovingAverage,
    PathwayConfig,
    SymptomRules,
    Thresholds,
    WeightRules,
)
from pathway.history import History, usable
from pathway.model import Cohort, Evaluation, Finding, PatientContext, Reading, ReadingType
from pathway.rules import Context, Rule, active
from pathway.rules.base import Held
from pathway.rules.symptoms import NEW_SYMPTOM_LOOKBACK_DAYS, REPEAT_DAYS
from pathway.window import Series, Window, london_day, order_key

# How far apart two readings may be and still count as "in a row".
CONFIRM_DAYS = 3
# A reading this old when it arrives cannot be re-measured "in 30 minutes": the moment has gone.
# A finding that would wait for a confirming reading is judged on what arrived instead.
LATE_READING = timedelta(hours=2)

# Reading types the rules read when a reading of each type is judged.
W, S, HR = ReadingType.WEIGHT, ReadingType.SYMPTOMS, ReadingType.HEART_RATE
NEEDS: dict[ReadingType, tuple[ReadingType, ...]] = {
    W: (W, S),
    S: (S, W, HR, ReadingType.SPO2),
    HR: (HR, S),
    ReadingType.BLOOD_PRESSURE: (ReadingType.BLOOD_PRESSURE,),
    ReadingType.SPO2: (ReadingType.SPO2,),
    ReadingType.POTASSIUM: (ReadingType.POTASSIUM,),
    ReadingType.CREATININE: (ReadingType.CREATININE,),
    ReadingType.EGFR: (ReadingType.EGFR,),
}


def evaluate(
    config: PathwayConfig,
    patient: PatientContext,
    history: Iterable[Reading] | History,
    new: Iterable[Reading],
    now: datetime,
) -> Evaluation:
    """Findings that at least one new reading takes part in, and the advice for the patient.

    Only readings within config.history_window before `now` are read, so the cost is bounded
    by the window however much history is passed. A new reading whose id is already in the
    history is not new (the service stores a reading once), so re-sending changes nothing.
    `history` may be a prepared `History`, which a caller evaluating one patient again and
    again builds once: the answer is the same, without re-sorting the history on every call.
    """
    start = now - config.history_window
    if isinstance(history, History):
        if history.plain is None:
            return _evaluate_prepared(config, patient, history, new, now, start)
        history = history.plain
    in_window = [r for r in history if start <= r.taken_at <= now]
    stored = {r.id: r for r in in_window}
    if len(stored) != len(in_window):
        stored = _dedupe(in_window)
    arrived = _arrived(new, stored, start, now)
    if not arrived:
        return Evaluation((), advise(config, ()))
    earliest = min(map(order_key, arrived.values()))
    first = earliest[0]
    # A late reading can change what later readings show (e.g. the comparator of a gain), so
    # every reading from the earliest new one onwards is re-judged; only findings a new
    # reading takes part in are kept.
    before: dict[ReadingType, list[Reading]] = {}
    later = []
    for r in stored.values():
        if r.taken_at < first:
            group = before.get(r.type)
            if group is None:
                group = before[r.type] = []
            group.append(r)
        elif order_key(r) >= earliest and usable(r):
            later.append(r)
    anchors = sorted([*arrived.values(), *later], key=order_key)
    window = Window()
    for kind, since in _reach(config, {r.type for r in anchors}, first).items():
        context = [r for r in before.get(kind, ()) if r.taken_at >= since and usable(r)]
        context.sort(key=order_key)
        window.series[kind] = Series.of(context, [london_day(r.taken_at) for r in context])
    return _judge_new(config, patient, window, anchors, arrived, now)


def _evaluate_prepared(
    config: PathwayConfig,
    patient: PatientContext,
    history: History,
    new: Iterable[Reading],
    now: datetime,
    start: datetime,
) -> Evaluation:
    """evaluate() on a prepared history: the same steps, each a slice of the sorted series."""
    stored = history.by_id
    arrived = _arrived(new, stored, start, now, in_window=True)
    if not arrived:
        return Evaluation((), advise(config, ()))
    earliest = min(map(order_key, arrived.values()))
    first = earliest[0]
    lo = bisect_left(history.keys, earliest)
    hi = bisect_right(history.times, now)
    anchors = sorted([*arrived.values(), *history.ordered[lo:hi]], key=order_key)
    window = Window()
    for kind, since in _reach(config, {r.type for r in anchors}, first).items():
        prepared = history.series.get(kind)
        if prepared is None:
            window.series[kind] = Series()
            continue
        a = bisect_left(prepared.times, max(since, start))
        b = bisect_left(prepared.times, first, a)
        window.series[kind] = Series.of(
            prepared.readings[a:b], prepared.days[a:b], prepared.ids[a:b]
        )
    return _judge_new(config, patient, window, anchors, arrived, now)


def _arrived(
    new: Iterable[Reading],
    stored: dict[str, Reading],
    start: datetime,
    now: datetime,
    *,
    in_window: bool = False,
) -> dict[str, Reading]:
    """The new readings that are really new (not stored in the window), usable, in the window."""
    if in_window:
        # A prepared history holds every stored reading; only those in the window count.
        fresh = []
        for r in new:
            held = stored.get(r.id)
            if (held is None or not start <= held.taken_at <= now) and start <= r.taken_at <= now:
                fresh.append(r)
    else:
        fresh = [r for r in new if r.id not in stored and start <= r.taken_at <= now]
    return {rid: r for rid, r in _dedupe(fresh).items() if usable(r)}


def _judge_new(
    config: PathwayConfig,
    patient: PatientContext,
    window: Window,
    anchors: list[Reading],
    arrived: dict[str, Reading],
    now: datetime,
) -> Evaluation:
    # Every anchor is later than all the context, so appending keeps each series sorted.
    for anchor in anchors:
        window.append(anchor)
    held: list[str] = []
    findings = judge(
        config, patient, window, anchors, new_ids=frozenset(arrived), held=held, now=now
    )
    return Evaluation(findings, advise(config, findings, held=held))


def history_lookback(
    config: PathwayConfig, types: Iterable[ReadingType]
) -> dict[ReadingType, timedelta]:
    """What the rules can read when judging new readings of these types: for each reading type
    they read, how far before the earliest new reading (the rules' look-backs, plus a day for
    clock changes). A type missing from the answer is never read for them.

    For a caller loading only the history it needs: stored readings of each returned type from
    (earliest new reading - its look-back) up to `now`, and never before
    `now - config.history_window` (evaluate() drops those itself), give the same evaluation as
    the whole history. Readings after the earliest new one are re-judged, so they are included.
    """
    return dict(
        _lookback(
            config.weight,
            config.moving_average,
            config.macd,
            config.symptoms,
            max(config.confirm.values(), default=1),
            config.history_window,
            frozenset(types),
        )
    )


# Frozen, hashable parts of the configuration: evaluate() asks on every call.
@lru_cache(maxsize=1024)
def _lookback(
    w: WeightRules,
    m: MovingAverage,
    c: Macd,
    s: SymptomRules,
    confirm_most: int,
    window: timedelta,
    types: frozenset[ReadingType],
) -> tuple[tuple[ReadingType, timedelta], ...]:
    confirm = CONFIRM_DAYS * confirm_most
    vitals = s.baseline_gap_days + s.baseline_days if s.score else 0
    days = {
        ReadingType.WEIGHT: max(
            math.ceil(3 * c.slow_days),
            m.baseline_days + m.recent_days,
            w.gain_3d_days,
            w.gain_2d_days,
            w.symptom_days + w.with_symptoms_days,
            # Worse breathlessness is corroborated by a recent weight against its baseline.
            w.symptom_days + m.baseline_days + m.recent_days,
            confirm,
        ),
        ReadingType.SYMPTOMS: max(
            NEW_SYMPTOM_LOOKBACK_DAYS,
            REPEAT_DAYS,
            w.symptom_days,
            confirm,
            # The symptom score reads its recent days and each answer's personal baseline.
            s.baseline_gap_days + s.baseline_days if s.score else 0,
        ),
        ReadingType.HEART_RATE: confirm,
        ReadingType.BLOOD_PRESSURE: confirm,
        ReadingType.SPO2: confirm,
    }
    # The symptom score reads pulse and SpO2 against their personal baselines too, but only
    # when judging an answer: a pulse or SpO2 reading on its own needs no more than before.
    score_vitals = {
        ReadingType.HEART_RATE: vitals if s.pulse_points_per_10_bpm > 0 else 0,
        ReadingType.SPO2: vitals if s.spo2_points_per_percent > 0 else 0,
    }
    # Laboratory results (titration rules) compare with the result before a medicine change,
    # however long ago within the window.
    reach: dict[ReadingType, timedelta] = {}
    for kind in sorted(types):
        for needed in NEEDS[kind]:
            if needed not in days:
                reach[needed] = window
                continue
            back = max(days[needed], score_vitals.get(needed, 0) if kind is S else 0)
            reach[needed] = max(reach.get(needed, timedelta(0)), timedelta(days=back + 1))
    return tuple(reach.items())


def _reach(
    config: PathwayConfig, anchor_types: set[ReadingType], earliest: datetime
) -> dict[ReadingType, datetime]:
    """How far back each reading type can be read by a rule judging the anchors."""
    return {kind: earliest - back for kind, back in history_lookback(config, anchor_types).items()}


def _dedupe(readings: Iterable[Reading]) -> dict[str, Reading]:
    """Readings by id; of two sharing an id, keep one by a fixed order, not arrival order."""
    out: dict[str, Reading] = {}
    for reading in readings:
        current = out.get(reading.id)
        if current is None or (reading.taken_at, repr(reading)) < (
            current.taken_at,
            repr(current),
        ):
            out[reading.id] = reading
    return out


def judge(
    config: PathwayConfig,
    patient: PatientContext,
    window: Window,
    anchors: Sequence[Reading],
    *,
    new_ids: frozenset[str] | None = None,
    thresholds: Thresholds | None = None,
    held: list[str] | None = None,
    now: datetime | None = None,
) -> tuple[Finding, ...]:
    """Run the rules at each anchor; keep, per rule, the latest finding (new_ids: only those
    whose evidence includes one of these ids). Rules held back for want of a confirming
    reading are added to `held`, unless the reading arrived late (`now`: when the readings
    arrived), when there is no re-measure to wait for. Shared by evaluate() and the replay."""
    if thresholds is None:
        thresholds = config.thresholds_for(patient)
    ctx = Context(config, thresholds, patient, window)
    titrating = patient.cohort is Cohort.MEDICATION_OPTIMISATION
    latest: dict[str, Finding] = {}
    for anchor in anchors:
        for rule in active(anchor.type, titrating, config.disabled):
            finding = rule(ctx, anchor)
            if finding is None:
                continue
            if isinstance(finding, Held):
                if held is not None and (new_ids is None or anchor.id in new_ids):
                    held.append(finding.advice)
                continue
            need = config.confirm.get(finding.rule_id, 1)
            if need > 1:
                confirmed = _confirmed(ctx, rule, anchor, finding, need)
                if confirmed is not None:
                    finding = confirmed
                elif now is not None and now - anchor.taken_at > LATE_READING:
                    finding = dataclasses.replace(
                        finding, summary=f"{finding.summary} (sent late: no re-measure possible)"
                    )
                else:
                    if held is not None and (new_ids is None or anchor.id in new_ids):
                        held.append("remeasure")
                    continue
            if new_ids is not None and new_ids.isdisjoint(finding.evidence):
                continue
            latest[finding.rule_id] = finding
    return tuple(sorted(latest.values(), key=lambda f: (f.level != "red", f.rule_id)))


def _confirmed(
    ctx: Context, rule: Rule, anchor: Reading, finding: Finding, need: int
) -> Finding | None:
    """Keep an amber finding only if the rule also fired on the patient's previous `need - 1`
    readings of the same type, each within CONFIRM_DAYS: the re-measure a borderline reading
    prompts, which a one-off blip does not survive."""
    series = ctx.window.get(anchor.type)
    pos = series.index[anchor.id]
    evidence = list(finding.evidence)
    for back in range(1, need):
        earlier = pos - back
        if earlier < 0 or series.days[earlier + 1] - series.days[earlier] > CONFIRM_DAYS:
            return None
        prior = rule(ctx, series.readings[earlier])
        if not isinstance(prior, Finding) or prior.rule_id != finding.rule_id:
            return None
        evidence[:0] = [e for e in prior.evidence if e not in evidence]
    return dataclasses.replace(
        finding,
        evidence=tuple(evidence),
        summary=f"{finding.summary} ({need} readings in a row)",
    )
