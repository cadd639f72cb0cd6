"""Pathway cost: evaluate() must cost the same with 10 or 10,000 past readings, and the
engine must judge >= 20,000 readings/s in process. Ratios are against a baseline measured
in the same run, so the figures compare across machines.

    .venv/bin/python bench/pathway.py
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pathway import (
    Breathlessness,
    Cohort,
    PatientContext,
    PersonalThresholds,
    Reading,
    ReadingType,
    SymptomAnswers,
    default_pathway,
    evaluate,
)
from pathway.evaluation.replay import replay_patient

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
CONFIG = default_pathway()
PATIENT = PatientContext("bench", Cohort.POST_DISCHARGE, PersonalThresholds(target_weight_kg=80))


def history(count: int, seed: int = 1) -> list[Reading]:
    """`count` readings, five a day (weight, BP, pulse, SpO2, symptoms), ending yesterday."""
    rng = random.Random(seed)
    out: list[Reading] = []
    day = 1
    while len(out) < count:
        at = NOW - timedelta(days=day, hours=1)
        kinds = [
            Reading(f"w{day}", ReadingType.WEIGHT, at, value=80 + rng.gauss(0, 0.4)),
            Reading(f"b{day}", ReadingType.BLOOD_PRESSURE, at, systolic=120, diastolic=75),
            Reading(f"h{day}", ReadingType.HEART_RATE, at, value=70 + rng.gauss(0, 5)),
            Reading(f"o{day}", ReadingType.SPO2, at, value=97),
            Reading(
                f"s{day}",
                ReadingType.SYMPTOMS,
                at,
                symptoms=SymptomAnswers(breathlessness=Breathlessness.USUAL),
            ),
        ]
        out.extend(kinds[: count - len(out)])
        day += 1
    return out


NEW = [Reading("new", ReadingType.WEIGHT, NOW - timedelta(minutes=5), value=80.6)]


def per_call(func: Callable[[], object], seconds: float = 0.6) -> float:
    """Best-of-5 mean time per call, in microseconds."""
    best = float("inf")
    for _ in range(5):
        calls = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds / 5:
            func()
            calls += 1
        best = min(best, (time.perf_counter() - start) / calls)
    return best * 1e6


def main() -> None:
    print("1. one new weight against N past readings (evaluate() given all N)")
    window_start = NOW - CONFIG.history_window
    baseline = None
    for count in (10, 100, 1_000, 10_000):
        past = history(count)
        in_window = [r for r in past if r.taken_at >= window_start]
        given_all = per_call(lambda past=past: evaluate(CONFIG, PATIENT, past, NEW, NOW))
        window_only = per_call(
            lambda in_window=in_window: evaluate(CONFIG, PATIENT, in_window, NEW, NOW)
        )
        baseline = baseline or window_only
        print(
            f"   N={count:>6}: {len(in_window):>4} in the {CONFIG.history_window.days}-day window;"
            f" service passes the window {window_only:8.1f} us ({window_only / baseline:4.2f}x),"
            f" given all N {given_all:8.1f} us ({given_all / baseline:4.2f}x)"
        )
    print("   cost levels off once the window is full: rules only read a bounded window;")
    print("   given all N, the only extra work is one comparison per reading to drop it.")

    print("2. throughput in process")
    window = history(300)  # 60 days x 5 readings: a full window
    single = per_call(lambda: evaluate(CONFIG, PATIENT, window, NEW, NOW))
    print(f"   one reading per call, full window: {1e6 / single:10,.0f} readings/s")
    day_batch = [
        Reading(f"n{k}", t, NOW - timedelta(minutes=5 - k), value=v, systolic=s, symptoms=a)
        for k, (t, v, s, a) in enumerate(
            [
                (ReadingType.WEIGHT, 80.5, None, None),
                (ReadingType.BLOOD_PRESSURE, None, 118, None),
                (ReadingType.HEART_RATE, 72.0, None, None),
                (ReadingType.SPO2, 96.0, None, None),
                (ReadingType.SYMPTOMS, None, None, SymptomAnswers()),
            ]
        )
    ]
    batch = per_call(lambda: evaluate(CONFIG, PATIENT, window, day_batch, NOW))
    print(f"   a day's 5 readings per call:        {5e6 / batch:10,.0f} readings/s")
    year = history(1825, seed=2)
    start = time.perf_counter()
    replay_patient(CONFIG, PATIENT, year)
    elapsed = time.perf_counter() - start
    print(
        f"   replay engine (incremental window):  {len(year) / elapsed:10,.0f} readings/s"
        f" ({len(year)} readings)"
    )
    for label, rate in (
        ("evaluate(), one reading per call", 1e6 / single),
        ("evaluate(), a day's batch per call", 5e6 / batch),
        ("replay engine", len(year) / elapsed),
    ):
        verdict = "met" if rate >= 20_000 else "NOT met"
        print(f"   target 20,000 readings/s, {label}: {verdict}")


if __name__ == "__main__":
    main()
