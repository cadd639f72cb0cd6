#!/usr/bin/env python3
"""How well could any score on these readings do? A learned model as a yardstick for issue 15.

A logistic model over every signal the generator gives (weight against three baselines, each
answer over 1, 3 and 7 days scaled by the patient's own rate, pulse, SpO2 and systolic
against their baselines) is fitted on tuning seeds to "an admission within 14 days", then
scored on a held-out seed with the matrix's counting (an alert is true if an admission follows
within 14 days; one alert per patient in any 3 days). It is not a pathway a nurse could read,
and it pays for none of the red or vital-sign alerts the pathway raises, so it flatters itself:
read it as roughly the best trade-off these data allow, not as a candidate default.

    .venv/bin/python tools/detection_ceiling.py --patients 300

Needs numpy (a dev dependency); about 10 minutes on two free cores at 300 patients.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pathway.evaluation.cohort import SyntheticPatient
from pathway.evaluation.cohort import patient as synthetic_patient
from pathway.evaluation.metrics import HORIZON_DAYS
from pathway.evaluation.scenarios import Scenario, named
from pathway.evaluation.seeds import HELD_OUT_SEEDS, TUNING_SEEDS, check_tuning
from pathway.model import ReadingType
from pathway.rules.symptom_score import signs
from pathway.window import LONDON

Floats = NDArray[np.float64]
REFRACTORY_DAYS = 3


@dataclass(frozen=True, slots=True)
class Days:
    """One patient's judged days: when each arrived, its label and its features."""

    arrives: Floats
    labels: Floats
    features: Floats
    events: tuple[int, ...]


def _daily(p: SyntheticPatient, start: object) -> tuple[Floats, Floats, Floats, Floats, Floats]:
    n = p.days
    weight, pulse, spo2, systolic = (np.full(n, np.nan) for _ in range(4))
    answers = np.full((n, 5), np.nan)
    for r in p.readings:
        d = (r.taken_at.astimezone(LONDON).date() - start).days  # type: ignore[operator]
        if not 0 <= d < n:
            continue
        if r.type is ReadingType.WEIGHT:
            weight[d] = r.value
        elif r.type is ReadingType.SYMPTOMS:
            answers[d] = signs(r)
        elif r.type is ReadingType.HEART_RATE:
            pulse[d] = r.value
        elif r.type is ReadingType.SPO2:
            spo2[d] = r.value
        elif r.type is ReadingType.BLOOD_PRESSURE:
            systolic[d] = r.systolic
    return weight, answers, pulse, spo2, systolic


def _median(x: Floats, t: int, first: int, last: int) -> float:
    seg = x[max(0, t - first) : max(0, t - last + 1)]
    seg = seg[~np.isnan(seg)]
    return float(np.median(seg)) if len(seg) >= 3 else 0.0


def _mean(x: Floats, t: int, days: int) -> float:
    seg = x[max(0, t - days + 1) : t + 1]
    seg = seg[~np.isnan(seg)]
    return float(seg.mean()) if len(seg) else np.nan


def features(p: SyntheticPatient, scenario: Scenario, patients: int, seed: int) -> Days:
    start = scenario.params(patients, p.days, seed).start
    weight, answers, pulse, spo2, systolic = _daily(p, start)
    arrives = np.arange(p.days, dtype=float)
    for first, last, when in p.late:
        arrives[(first - start).days : (last - start).days + 1] = (when.date() - start).days
    events = tuple(sorted((e.day - start).days for e in p.events))
    rows, when, labels = [], [], []
    for t in range(p.days):
        if np.isnan(weight[t]) and np.isnan(answers[t, 0]):
            continue
        base = _median(weight, t, 35, 8)
        shifts = [
            (weight[t] - base) if base and not np.isnan(weight[t]) else 0.0,
            (_mean(weight, t, 3) - base) if base else 0.0,
            (_mean(weight, t, 2) - _median(weight, t, 10, 3)) if base else 0.0,
        ]
        w = np.clip(np.nan_to_num(shifts), -1, 4)
        f = [*w, *(np.maximum(w, 0) ** 2 / 4)]
        for k in range(5):
            column = answers[:, k]
            past = column[max(0, t - 60) : max(0, t - 7)]
            rate = (np.nansum(past) + 0.2) / ((~np.isnan(past)).sum() + 10)
            rarity = float(np.clip((0.15 - rate) / 0.10, 0, 1))
            counts = [np.nansum(column[max(0, t - n + 1) : t + 1]) for n in (1, 3, 7)]
            f += [c * rarity for c in counts] + [counts[1]]
        up = np.nan_to_num(_mean(pulse, t, 3) - _median(pulse, t, 35, 8))
        down = np.nan_to_num(_median(spo2, t, 35, 8) - _mean(spo2, t, 3))
        low = np.nan_to_num(_median(systolic, t, 35, 8) - _mean(systolic, t, 3))
        up, down, low = np.clip(up, -20, 40), np.clip(down, -5, 10), np.clip(low, -30, 40)
        f += [up, down, low, max(down - 1.5, 0), max(up - 10, 0)]
        rows.append(f)
        when.append(arrives[t])
        labels.append(float(any(0 < e - t <= HORIZON_DAYS for e in events)))
    return Days(np.array(when), np.array(labels), np.array(rows, dtype=float), events)


def _chunk(args: tuple[Scenario, int, int, range]) -> tuple[str, list[Days]]:
    scenario, patients, seed, indexes = args
    params = scenario.params(patients, 365, seed)
    return scenario.name, [
        features(synthetic_patient(params, i), scenario, patients, seed) for i in indexes
    ]


def collect(
    patients: int, seeds: Sequence[int], pool: ProcessPoolExecutor
) -> dict[str, list[Days]]:
    work = [
        (s, patients, seed, range(k, min(k + 50, patients)))
        for seed in seeds
        for s in named("all")
        for k in range(0, patients, 50)
    ]
    out: dict[str, list[Days]] = {}
    for name, part in pool.map(_chunk, work):
        out.setdefault(name, []).extend(part)
    return out


def fit(x: Floats, y: Floats, ridge: float = 1.0) -> Floats:
    """Logistic regression by Newton's method with a small ridge penalty."""
    xb = np.c_[np.ones(len(x)), x]
    beta = np.zeros(xb.shape[1])
    for _ in range(30):
        p = 1 / (1 + np.exp(-xb @ beta))
        hessian = xb.T @ (xb * (p * (1 - p))[:, None]) + ridge * np.eye(len(beta))
        beta += np.linalg.solve(hessian, xb.T @ (y - p) - ridge * beta)
    return beta


def judge(days: list[Days], beta: Floats, cut: float) -> tuple[float, float]:
    events = detected = false = 0
    years = 365 / 365.25
    for d in days:
        events += len(d.events)
        if not len(d.labels):
            continue
        score = np.c_[np.ones(len(d.features)), d.features] @ beta
        alerts: list[float] = []
        for at, s in zip(d.arrives, score, strict=True):
            if s >= cut and (not alerts or at - alerts[-1] > REFRACTORY_DAYS):
                alerts.append(at)
        detected += sum(1 for e in d.events if any(0 <= e - a <= HORIZON_DAYS for a in alerts))
        false += sum(1 for a in alerts if not any(0 <= e - a <= HORIZON_DAYS for e in d.events))
    return (detected / events if events else 0.0), false / (len(days) * years)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--cuts", default="-2.75,-2.5,-2.25,-2.0,-1.75,-1.5")
    args = parser.parse_args()
    tuning = check_tuning(TUNING_SEEDS[:2])
    with ProcessPoolExecutor(2) as pool:
        train = collect(args.patients, tuning, pool)
        test = collect(args.patients, HELD_OUT_SEEDS[:1], pool)
    x = np.concatenate([d.features for ds in train.values() for d in ds if len(d.labels)])
    y = np.concatenate([d.labels for ds in train.values() for d in ds if len(d.labels)])
    beta = fit(x, y)
    out = sys.stdout.write
    out(f"fitted on seeds {tuning}, judged on held-out seed {HELD_OUT_SEEDS[0]}\n")
    out("cut     median sens  median FA   worst sens  worst FA\n")
    for cut in (float(c) for c in args.cuts.split(",")):
        results = [judge(days, beta, cut) for days in test.values()]
        sens = [s for s, _ in results]
        fa = [f for _, f in results]
        out(
            f"{cut:5.2f}   {statistics.median_low(sens):10.1%}  {statistics.median_high(fa):9.2f}"
            f"   {min(sens):10.1%}  {max(fa):8.2f}\n"
        )


if __name__ == "__main__":
    main()
