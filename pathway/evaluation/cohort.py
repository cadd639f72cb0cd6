"""A seeded synthetic cohort calibrated to the domain reference (shared/domain.md).

Calibrated to the reference: weight noise SD 0.35-0.5 kg; weekly cycle 0.35 % of body weight
(peak to peak); slow drift (Ornstein-Uhlenbeck, SD 1.0 kg, 30-day time constant, which gives
the 14-day change SD of about 1.1 kg that Zhang 2009 saw before non-heart-failure admissions);
0.25-0.7 heart-failure admissions per patient-year, half with a 2-4 kg ramp over 1-4 weeks that
is steepest at the end (Chaudhry 2007), the rest little weight change but often symptoms;
50-80 % of days with readings, in runs, falling after each admission.

Assumptions the reference does not give (stated so they can be challenged): symptom "bad
spells" unrelated to heart failure 1.5 a year; vital-sign baselines and day-to-day spread; the
team personalising BP, pulse and SpO2 limits at enrolment for patients whose usual values sit
near the default limits; fortnightly bloods while medicines are titrated.
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
from pathway.window import LONDON


@dataclass(frozen=True, slots=True)
class CohortParams:
    patients: int = 2000
    days: int = 365
    seed: int = 1
    start: date = date(2026, 1, 5)
    noise_sd_kg: tuple[float, float] = (0.35, 0.5)
    weekly_cycle_fraction: float = 0.0035
    drift_sd_kg: float = 1.0
    drift_days: float = 30.0
    event_rate: tuple[float, float] = (0.25, 0.7)
    ramp_share: float = 0.5
    ramp_kg: tuple[float, float] = (2.0, 4.0)
    ramp_days: tuple[int, int] = (7, 28)
    flat_change_kg: tuple[float, float] = (0.3, 0.4)  # mean, SD over the last 2 weeks
    symptoms_share_ramp: float = 0.5
    symptoms_share_flat: float = 0.7
    symptom_lead_days: tuple[int, int] = (1, 10)
    symptom_report_p: float = 0.7
    vitals_share: float = 0.25
    adherence: tuple[float, float] = (0.5, 0.8)
    adherence_after_admission: float = 0.85
    gap_run_days: float = 2.5
    stay_days: tuple[int, int] = (3, 12)
    spells_per_year: float = 1.5


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


def _symptoms(rng: random.Random, congested: bool, spell: bool) -> SymptomAnswers:
    breath = Breathlessness.USUAL
    ankles = AnkleSwelling.USUAL
    orthopnoea = False
    fatigue = Fatigue.USUAL
    if congested:
        breath = Breathlessness.WORSE if rng.random() < 0.7 else breath
        ankles = AnkleSwelling.WORSE if rng.random() < 0.5 else ankles
        orthopnoea = rng.random() < 0.4
        fatigue = Fatigue.WORSE if rng.random() < 0.4 else fatigue
    if spell:
        fatigue = Fatigue.WORSE if rng.random() < 0.6 else fatigue
        breath = Breathlessness.WORSE if rng.random() < 0.4 else breath
    return SymptomAnswers(
        breathlessness=breath, orthopnoea=orthopnoea, ankle_swelling=ankles, fatigue=fatigue
    )


def patient(p: CohortParams, index: int) -> SyntheticPatient:
    # Simulation, not security: a seeded generator makes each patient reproducible.
    rng = random.Random(f"{p.seed}:{index}")  # noqa: S311
    pid = f"syn-{p.seed}-{index:05d}"
    cohort = rng.choices(list(Cohort), weights=(25, 40, 25, 10))[0]
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
        lead = rng.randint(*p.symptom_lead_days) if rng.random() < sym_share else 0
        vitals = rng.random() < p.vitals_share
        plans.append((day, ramp, size, length, lead, vitals))
    in_hospital = {d + k for d, stay in events for k in range(stay)}
    spells: set[int] = set()
    t = rng.expovariate(p.spells_per_year / 365.25)
    while t < p.days:
        spells.update(range(int(t), int(t) + rng.randint(1, 4)))
        t += rng.expovariate(p.spells_per_year / 365.25)
    adherence = rng.uniform(*p.adherence)
    on = True
    drift = rng.gauss(0, p.drift_sd_kg)
    keep = math.exp(-1 / p.drift_days)
    readings: list[Reading] = []
    k_serial = 0
    for d in range(p.days):
        drift = drift * keep + rng.gauss(0, p.drift_sd_kg * math.sqrt(1 - keep * keep))
        if any(d == e for e, _ in events):
            adherence *= p.adherence_after_admission
        to_on = 1 / p.gap_run_days
        to_off = to_on * (1 - adherence) / adherence
        on = (rng.random() >= to_off) if on else (rng.random() < to_on)
        if d in in_hospital or not on:
            continue
        offset, congested, vit = 0.0, False, 0.0
        for e_day, ramp, size, length, lead, vitals in plans:
            before = e_day - d
            if 0 < before <= length:
                share = (length - before) / length
                offset += size * share**2 if ramp else size * share
            if 0 < before <= lead:
                congested = congested or rng.random() < p.symptom_report_p
            if vitals and 0 < before <= 3:
                vit = 1.0
        day0 = datetime.combine(p.start + timedelta(days=d), time(7), LONDON)
        at = day0 + timedelta(minutes=rng.uniform(0, 150))
        weekly = cycle * math.sin(2 * math.pi * d / 7 + phase)
        k_serial += 1
        rid = f"{pid}-{k_serial:04d}"
        if rng.random() < 0.97:
            kg = base + drift + weekly + offset + rng.gauss(0, noise)
            readings.append(Reading(f"{rid}w", ReadingType.WEIGHT, at, value=round(kg, 1)))
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
            hr = round(rng.gauss(hr0 + 18 * vit, 6))
            readings.append(
                Reading(f"{rid}h", ReadingType.HEART_RATE, at + timedelta(minutes=3), value=hr)
            )
        if rng.random() < 0.85:
            spo = min(100, round(rng.gauss(spo0 - 3 * vit, 0.9)))
            readings.append(
                Reading(f"{rid}o", ReadingType.SPO2, at + timedelta(minutes=4), value=spo)
            )
        if rng.random() < 0.85:
            answers = _symptoms(rng, congested, d in spells or rng.random() < 0.003)
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
    return SyntheticPatient(
        context=context,
        enrolled_at=enrolled,
        days=p.days,
        readings=tuple(readings),
        events=tuple(Event(pid, p.start + timedelta(days=d)) for d, _ in events),
        ramp=tuple(plan[1] for plan in plans),
    )


def cohort(p: CohortParams) -> list[SyntheticPatient]:
    return [patient(p, i) for i in range(p.patients)]
