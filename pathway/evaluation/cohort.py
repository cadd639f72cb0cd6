"""A seeded synthetic cohort: one generator whose parameters make the named scenarios.

Every parameter says where its value comes from: [ref] is shared/domain.md (Zhang 2009,
Chaudhry 2007, the calibration ranges it gives), [issue 15] the rates the independent cohort
reported, [assumed] a stated assumption the reference does not give, open to challenge.
`pathway/evaluation/scenarios.py` names the cohorts built from these parameters.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from pathway.model import (
    AnkleSwelling,
    Breathlessness,
    Cohort,
    DrugClass,
    Fatigue,
    MedicationChange,
    PatientContext,
    PersonalThresholds,
    Reading,
    ReadingType,
    SymptomAnswers,
)
from pathway.units import KG_PER_LB
from pathway.window import LONDON

# Order of the per-answer rates: worse breathlessness, orthopnoea, worse ankles, dizziness,
# worse tiredness.
ANSWERS = ("breathlessness", "orthopnoea", "ankle_swelling", "dizziness", "fatigue")


@dataclass(frozen=True, slots=True)
class CohortParams:
    patients: int = 2000
    days: int = 365
    seed: int = 1
    start: date = date(2026, 1, 5)
    # Scenario name: scenarios sharing a seed still draw different patients.
    stream: str = ""
    # new diagnosis, post-discharge, medicines optimisation, palliative [assumed]
    cohort_weights: tuple[int, int, int, int] = (25, 40, 25, 10)
    # --- weight [ref] noise SD 0.35-0.5 kg, weekly cycle 0.35 %, slow drift (OU, SD 1.0 kg over
    # 30 days, which gives Zhang 2009's 1.1 kg SD of 14-day change before non-HF admissions).
    noise_sd_kg: tuple[float, float] = (0.35, 0.5)
    weekly_cycle_fraction: float = 0.0035
    drift_sd_kg: float = 1.0
    drift_days: float = 30.0
    # --- admissions [ref] 0.25-0.7 a year; 3-12 day stays [assumed].
    event_rate: tuple[float, float] = (0.25, 0.7)
    stay_days: tuple[int, int] = (3, 12)
    # [ref] about half of events show a 2-4 kg ramp over 1-4 weeks, steepest last (Chaudhry
    # 2007); the rest little change. Zhang 2009: mean +0.9 +- 2.1 kg over 14 days.
    # Central: half with a 1.5-4 kg ramp (mean 14-day change about +1.2 kg, within Zhang's
    # spread), calibrated with the rest to issue 15's independent-cohort table (README).
    ramp_share: float = 0.5
    ramp_kg: tuple[float, float] = (1.5, 4.0)
    ramp_days: tuple[int, int] = (7, 28)
    flat_change_kg: tuple[float, float] = (0.3, 0.4)  # mean, SD over the last 2 weeks
    # --- symptoms before an admission. Share of events whose symptoms the patient notices
    # [assumed]; then each sign, in ANSWERS order without dizziness, is present with its
    # prevalence and starts its median days before admission (lognormal spread, SD 0.6 in log
    # days, at most 21), and lasts to the admission. Prevalence: breathlessness 88 %
    # (Gallagher 2012), ankle swelling 50 % and orthopnoea 35 % (between Goldberg 2010 and
    # Born 2019), tiredness 40 % [assumed]; median onset: breathlessness 3, orthopnoea 5,
    # swelling and tiredness 7 days before (Born 2019; Friedman 2008: median 7 days).
    symptoms_share_ramp: float = 0.7
    symptoms_share_flat: float = 0.8
    sign_prevalence: tuple[float, float, float, float] = (0.88, 0.35, 0.5, 0.4)
    sign_median_days: tuple[float, float, float, float] = (3.0, 5.0, 7.0, 7.0)
    # The chance a patient with a sign answers "worse" for it on a questionnaire [assumed].
    symptom_report_p: float = 0.7
    vitals_share: float = 0.25
    # --- answers of a stable patient, per questionnaire, in ANSWERS order [issue 15]: ankles
    # about 2 %, dizzy 2 %, breathless lying flat 1 %; breathlessness and tiredness [assumed].
    stable_rates: tuple[float, float, float, float, float] = (0.01, 0.01, 0.02, 0.02, 0.02)
    # Chronic over-reporters: one or two answers "worse" on many days [assumed share and rate].
    over_reporter_share: float = 0.1
    over_reporter_rate: tuple[float, float] = (0.08, 0.3)
    # Under-reporters answer "worse" on this share of the days they would [assumed].
    under_reporter_share: float = 0.15
    under_reporter_factor: float = 0.3
    # --- intercurrent illness (colds, chest infections) with breathlessness and tiredness,
    # unrelated to heart failure [assumed rate; issue 15 names them as a confounder].
    spells_per_year: float = 1.5
    spell_days: tuple[int, int] = (2, 7)
    spell_breath_p: float = 0.5
    spell_fatigue_p: float = 0.7
    spell_pulse_bpm: float = 8.0
    # --- dietary gains (a salty meal, a weekend away): up over 1-2 days, back over a few days
    # [assumed; issue 15 names them].
    dietary_per_year: float = 2.0
    dietary_kg: tuple[float, float] = (0.5, 1.2)
    dietary_days: tuple[int, int] = (3, 6)
    # --- a new scale: a lasting step in weight [assumed share; SD of the step assumed].
    scale_swap_share: float = 0.05
    scale_step_sd_kg: float = 0.8
    # --- weighing in clothes on some days [assumed; Radhakrishnan 2013: about half of false
    # alerts traced to measurement technique].
    clothed_share: float = 0.1
    clothed_day_p: float = 0.3
    clothes_kg: tuple[float, float] = (0.3, 1.0)
    # --- adherence [ref] 50-80 % of days, in runs, falling after an admission; decaying over
    # the year [assumed: this share of the first-day rate lost by the end of a year].
    adherence: tuple[float, float] = (0.5, 0.8)
    adherence_after_admission: float = 0.85
    adherence_decay_per_year: float = 0.1
    gap_run_days: float = 2.5
    # --- scales in lb (0.2 lb steps) and st/lb (whole lb) [assumed shares].
    lb_share: float = 0.15
    st_share: float = 0.05
    # --- evening weighers (always, a steady offset) and mixed times (evening on some days)
    # [assumed; food and fluid of the day add 0.5-1.2 kg by the evening].
    evening_share: float = 0.1
    mixed_time_share: float = 0.05
    mixed_evening_p: float = 0.3
    evening_kg: tuple[float, float] = (0.5, 1.2)
    # --- phones offline: a few days of readings arrive together, late [assumed].
    late_share: float = 0.1
    late_per_year: float = 6.0
    late_days: tuple[int, int] = (2, 5)


@dataclass(frozen=True, slots=True)
class Event:
    patient_id: str
    day: date
    hf_related: bool = True


@dataclass(frozen=True, slots=True)
class SyntheticPatient:
    context: PatientContext
    enrolled_at: datetime
    days: int
    readings: tuple[Reading, ...]
    events: tuple[Event, ...]
    ramp: tuple[bool, ...] = field(default=())
    # Offline spells: readings taken on these dates arrive together at the given time (06:00
    # the next day, when the phone is back on the network, before that day's readings).
    late: tuple[tuple[date, date, datetime], ...] = field(default=())


def _clip(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def _event_days(rng: random.Random, p: CohortParams) -> list[tuple[int, int]]:
    rate = rng.uniform(*p.event_rate) / 365.25
    out: list[tuple[int, int]] = []
    t = 0.0
    while True:
        t += rng.expovariate(rate)
        if t >= p.days:
            return out
        stay = rng.randint(*p.stay_days)
        out.append((int(t), stay))
        t += stay + 14


def _episodes(rng: random.Random, per_year: float, days: int, length: tuple[int, int]) -> list[int]:
    """Start days of a Poisson process of episodes, and their lengths, flattened in pairs."""
    out: list[int] = []
    if per_year <= 0:
        return out
    t = rng.expovariate(per_year / 365.25)
    while t < days:
        out += [int(t), rng.randint(*length)]
        t += rng.expovariate(per_year / 365.25)
    return out


def _rates(rng: random.Random, p: CohortParams) -> tuple[list[float], float]:
    """This patient's answer rates when stable, and the share of real symptoms reported."""
    rates = list(p.stable_rates)
    report = 1.0
    if rng.random() < p.under_reporter_share:
        report = p.under_reporter_factor
        rates = [r * report for r in rates]
    elif rng.random() < p.over_reporter_share:
        for k in rng.sample(range(len(rates)), rng.randint(1, 2)):
            rates[k] = rng.uniform(*p.over_reporter_rate)
    return rates, report


def _leads(rng: random.Random, p: CohortParams) -> tuple[int, int, int, int]:
    """Days before the admission each sign starts (0: absent this time)."""
    out = [0, 0, 0, 0]
    for k in range(4):
        if rng.random() < p.sign_prevalence[k]:
            days = p.sign_median_days[k] * math.exp(rng.gauss(0, 0.6))
            out[k] = min(21, max(1, round(days)))
    return out[0], out[1], out[2], out[3]


def _symptoms(
    rng: random.Random, p: CohortParams, rates: list[float], said: list[bool], spell: bool
) -> SymptomAnswers:
    """Answers from stray answers at this patient's rates, the signs of heart failure they
    report today (breathlessness, orthopnoea, ankles, tiredness) and an intercurrent illness."""
    on = [rng.random() < rate for rate in rates]
    for k, index in enumerate((0, 1, 2, 4)):
        on[index] = on[index] or said[k]
    if spell:
        on[0] = on[0] or rng.random() < p.spell_breath_p
        on[4] = on[4] or rng.random() < p.spell_fatigue_p
    return SymptomAnswers(
        breathlessness=Breathlessness.WORSE if on[0] else Breathlessness.USUAL,
        orthopnoea=on[1],
        ankle_swelling=AnkleSwelling.WORSE if on[2] else AnkleSwelling.USUAL,
        dizziness=on[3],
        fatigue=Fatigue.WORSE if on[4] else Fatigue.USUAL,
    )


def _scale(rng: random.Random, p: CohortParams) -> float:
    """The display step of this patient's scale, in kg."""
    u = rng.random()
    if u < p.lb_share:
        return 0.2 * KG_PER_LB
    if u < p.lb_share + p.st_share:
        return KG_PER_LB
    return 0.1


def _daily(spans: list[int], days: int, shape: str, sizes: list[float]) -> list[float]:
    """Per-day offsets from episodes (start, length pairs): 'ramp' rises over two days and
    falls back over the rest; 'step' lasts to the end."""
    out = [0.0] * days
    for k in range(0, len(spans), 2):
        start, length, size = spans[k], spans[k + 1], sizes[k // 2]
        if shape == "step":
            for d in range(start, days):
                out[d] += size
            continue
        for j in range(length + 2):
            if start + j < days:
                out[start + j] += size * (min(j + 1, 2) / 2 if j < 2 else 1 - (j - 1) / length)
    return out


def patient(p: CohortParams, index: int) -> SyntheticPatient:
    # Simulation, not security: a seeded generator makes each patient reproducible.
    key = f"{p.seed}:{index}" if not p.stream else f"{p.stream}:{p.seed}:{index}"
    rng = random.Random(key)  # noqa: S311
    pid = f"syn-{p.stream + '-' if p.stream else ''}{p.seed}-{index:05d}"
    cohort = rng.choices(list(Cohort), weights=p.cohort_weights)[0]
    base = _clip(rng.gauss(82, 16), 45, 160)
    noise = rng.uniform(*p.noise_sd_kg)
    cycle = p.weekly_cycle_fraction * base / 2
    phase = rng.uniform(0, 2 * math.pi)
    sbp0 = _clip(rng.gauss(120, 14), 95, 170)
    hr0 = _clip(rng.gauss(72, 10), 52, 100)
    spo0 = rng.uniform(94.0, 98.0)
    thresholds = PersonalThresholds(
        target_weight_kg=round(base + rng.gauss(0, 0.5), 1),
        systolic_amber_below=min(101, int(sbp0 - 20)),
        systolic_red_below=min(90, max(75, int(sbp0 - 30))),
        pulse_low_amber=max(41, min(50, int(hr0 - 20))),
        pulse_high_amber=max(111, int(hr0 + 30)),
        spo2_amber_at_or_below=min(94.0, round(spo0 - 3)),
        spo2_red_at_or_below=min(92.0, max(88.0, round(spo0 - 5))),
    )
    enrolled = datetime.combine(p.start, time(10), LONDON)
    changes: tuple[MedicationChange, ...] = ()
    if cohort is Cohort.MEDICATION_OPTIMISATION:
        changes = tuple(
            MedicationChange(enrolled + timedelta(days=14 * k), rng.choice(list(DrugClass)[:3]))
            for k in range(5)
        )
    events = _event_days(rng, p)
    plans = []
    for day, _stay in events:
        ramp = rng.random() < p.ramp_share
        if ramp:
            size, length = rng.uniform(*p.ramp_kg), rng.randint(*p.ramp_days)
        else:
            size, length = rng.gauss(*p.flat_change_kg), 14
        sym_share = p.symptoms_share_ramp if ramp else p.symptoms_share_flat
        leads = _leads(rng, p) if rng.random() < sym_share else (0, 0, 0, 0)
        vitals = rng.random() < p.vitals_share
        plans.append((day, ramp, size, length, leads, vitals))
    admitted = {d for d, _ in events}
    in_hospital = {d + k for d, stay in events for k in range(stay)}
    rates, report = _rates(rng, p)
    spell_spans = _episodes(rng, p.spells_per_year, p.days, p.spell_days)
    spells = {
        s + k for s, n in zip(spell_spans[::2], spell_spans[1::2], strict=True) for k in range(n)
    }
    diet_spans = _episodes(rng, p.dietary_per_year, p.days, p.dietary_days)
    diet = _daily(
        diet_spans, p.days, "ramp", [rng.uniform(*p.dietary_kg) for _ in diet_spans[1::2]]
    )
    steps = [0.0] * p.days
    if rng.random() < p.scale_swap_share:
        steps = _daily(
            [rng.randrange(p.days), 0], p.days, "step", [rng.gauss(0, p.scale_step_sd_kg)]
        )
    clothes = rng.uniform(*p.clothes_kg) if rng.random() < p.clothed_share else 0.0
    resolution = _scale(rng, p)
    evening_kg = rng.uniform(*p.evening_kg)
    timing = rng.random()
    evening_p = (
        1.0
        if timing < p.evening_share
        else p.mixed_evening_p
        if timing < p.evening_share + p.mixed_time_share
        else 0.0
    )
    late_spans = (
        _episodes(rng, p.late_per_year, p.days, p.late_days) if rng.random() < p.late_share else []
    )
    adherence = rng.uniform(*p.adherence)
    decay = (1 - p.adherence_decay_per_year) ** (1 / 365.25)
    on = True
    drift = rng.gauss(0, p.drift_sd_kg)
    keep = math.exp(-1 / p.drift_days)
    readings: list[Reading] = []
    k_serial = 0
    for d in range(p.days):
        drift = drift * keep + rng.gauss(0, p.drift_sd_kg * math.sqrt(1 - keep * keep))
        adherence *= decay
        if d in admitted:
            adherence *= p.adherence_after_admission
        to_on = 1 / p.gap_run_days
        to_off = to_on * (1 - adherence) / adherence
        on = (rng.random() >= to_off) if on else (rng.random() < to_on)
        if d in in_hospital or not on:
            continue
        offset, vit = 0.0, 0.0
        felt = [False, False, False, False]
        for e_day, ramp, size, length, leads, vitals in plans:
            before = e_day - d
            if 0 < before <= length:
                share = (length - before) / length
                offset += size * share**2 if ramp else size * share
            for k, lead in enumerate(leads):
                felt[k] = felt[k] or 0 < before <= lead
            if vitals and 0 < before <= 3:
                vit = 1.0
        ill = d in spells
        evening = rng.random() < evening_p
        day0 = datetime.combine(p.start + timedelta(days=d), time(19 if evening else 7), LONDON)
        at = day0 + timedelta(minutes=rng.uniform(0, 150))
        weekly = cycle * math.sin(2 * math.pi * d / 7 + phase)
        k_serial += 1
        rid = f"{pid}-{k_serial:04d}"
        if rng.random() < 0.97:
            kg = base + drift + weekly + offset + diet[d] + steps[d] + rng.gauss(0, noise)
            if clothes and rng.random() < p.clothed_day_p:
                kg += clothes
            if evening:
                kg += evening_kg
            shown = round(kg / resolution) * resolution
            readings.append(Reading(f"{rid}w", ReadingType.WEIGHT, at, value=round(shown, 3)))
        if rng.random() < 0.9:
            sbp = round(rng.gauss(sbp0 - 8 * vit, 8))
            readings.append(
                Reading(
                    f"{rid}b",
                    ReadingType.BLOOD_PRESSURE,
                    at + timedelta(minutes=3),
                    systolic=sbp,
                    diastolic=round(sbp * 0.62),
                )
            )
            hr = round(rng.gauss(hr0 + 18 * vit + p.spell_pulse_bpm * ill, 6))
            readings.append(
                Reading(f"{rid}h", ReadingType.HEART_RATE, at + timedelta(minutes=3), value=hr)
            )
        if rng.random() < 0.85:
            spo = min(100, round(rng.gauss(spo0 - 3 * vit, 0.9)))
            readings.append(
                Reading(f"{rid}o", ReadingType.SPO2, at + timedelta(minutes=4), value=spo)
            )
        if rng.random() < 0.85:
            said = [f and rng.random() < p.symptom_report_p * report for f in felt]
            answers = _symptoms(rng, p, rates, said, ill)
            readings.append(
                Reading(
                    f"{rid}s", ReadingType.SYMPTOMS, at + timedelta(minutes=5), symptoms=answers
                )
            )
        if cohort is Cohort.MEDICATION_OPTIMISATION and d % 14 == 10 and d < 80:
            readings.append(
                Reading(
                    f"{rid}k",
                    ReadingType.POTASSIUM,
                    at + timedelta(hours=3),
                    value=round(rng.gauss(4.5, 0.35), 1),
                )
            )
    context = PatientContext(pid, cohort, thresholds, True, changes)
    late = tuple(
        (
            p.start + timedelta(days=s),
            p.start + timedelta(days=s + n - 1),
            datetime.combine(p.start + timedelta(days=s + n), time(6), LONDON),
        )
        for s, n in zip(late_spans[::2], late_spans[1::2], strict=True)
    )
    return SyntheticPatient(
        context=context,
        enrolled_at=enrolled,
        days=p.days,
        readings=tuple(readings),
        events=tuple(Event(pid, p.start + timedelta(days=d)) for d, _ in events),
        ramp=tuple(plan[1] for plan in plans),
        late=late,
    )


def cohort(p: CohortParams) -> list[SyntheticPatient]:
    return [patient(p, i) for i in range(p.patients)]
