"""Pathway cost: evaluate() must cost the same with 10 or 10,000 past readings, and the
engine must judge >= 20,000 readings/s in process. Ratios are against a baseline measured
in the same run (section 1: the 10-reading history; section 2: one reading per call with the
whole 60-day window as a plain list), so the figures compare across machines. Section 2 also
times what the service really passes for a single posted reading: only the history that
reading's rules read (pathway.history_lookback), a day's five readings posted one at a time.

    .venv/bin/python bench/pathway.py
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from concurrent.futures import ProcessPoolExecutor

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
    history_lookback,
)
from pathway.evaluation import matrix
from pathway.evaluation.replay import replay_patient
from pathway.evaluation.scenarios import named
from pathway.evaluation.seeds import HELD_OUT_SEEDS
from pathway.history import History

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


def as_loaded(window: list[Reading], new: list[Reading]) -> list[Reading]:
    """The stored readings the service loads to judge `new` (service/readings/evaluation.py::load_history):
    only the types the rules read for them, each from the earliest new reading less its
    look-back."""
    lookback = history_lookback(CONFIG, {r.type for r in new})
    earliest = min(r.taken_at for r in new)
    floor = NOW - CONFIG.history_window
    return [
        r
        for r in window
        if r.type in lookback and r.taken_at >= max(earliest - lookback[r.type], floor)
    ]


def per_call(func: Callable[[], object], seconds: float = 0.6) -> float:
    """Best-of-5 mean CPU time per call, in microseconds. CPU time, not wall time: the bench
    runs on shared machines, where another process taking the core would count as our cost."""
    best = float("inf")
    for _ in range(5):
        calls = 0
        start = time.process_time()
        while time.process_time() - start < seconds / 5:
            func()
            calls += 1
        best = min(best, (time.process_time() - start) / calls)
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

    print("2. throughput in process: a realistic patient, 60 days x 5 readings a day")
    window = history(300)  # 60 days x 5 readings: a full window
    prepared = History(window)
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
    for given in (window, prepared):
        for new in (NEW, day_batch):
            # The same answer either way; the bench would be meaningless otherwise.
            assert evaluate(CONFIG, PATIENT, given, new, NOW) == evaluate(
                CONFIG, PATIENT, window, new, NOW
            )
    rates = {
        ("list", 1): 1e6 / per_call(lambda: evaluate(CONFIG, PATIENT, window, NEW, NOW)),
        ("list", 5): 5e6 / per_call(lambda: evaluate(CONFIG, PATIENT, window, day_batch, NOW)),
        ("History", 1): 1e6 / per_call(lambda: evaluate(CONFIG, PATIENT, prepared, NEW, NOW)),
        ("History", 5): 5e6 / per_call(lambda: evaluate(CONFIG, PATIENT, prepared, day_batch, NOW)),
    }
    # The app posts a day's readings one at a time: each call with the history the service
    # loads for that one reading's type.
    singles = [([r], as_loaded(window, [r])) for r in day_batch]
    for new, loaded in singles:
        assert evaluate(CONFIG, PATIENT, loaded, new, NOW) == evaluate(
            CONFIG, PATIENT, window, new, NOW
        )
    mixed = 5e6 / sum(
        per_call(lambda new=new, loaded=loaded: evaluate(CONFIG, PATIENT, loaded, new, NOW))
        for new, loaded in singles
    )
    rates[("loaded", 1)] = mixed
    build = per_call(lambda: History(window))
    base = rates[("list", 1)]
    for (given, size), rate in rates.items():
        label = "one reading per call" if size == 1 else "a day's 5 readings per call"
        how = {
            "list": "the whole 60-day window",
            "History": "prepared History",
            "loaded": "the history the service loads",
        }[given]
        if given == "loaded":
            label = "one reading per call, each type"
        verdict = "meets" if rate >= 20_000 else "does NOT meet"
        print(
            f"   {label:28} {how:39} {rate:9,.0f} readings/s ({rate / base:4.1f}x)"
            f"  {verdict} the 20,000/s goal"
        )
    print(f"   building the History once: {build:7.1f} us (the caller keeps it between calls)")
    year = history(1825, seed=2)
    start = time.process_time()
    replay_patient(CONFIG, PATIENT, year)
    elapsed = time.process_time() - start
    print(
        f"   replay engine (incremental window):  {len(year) / elapsed:10,.0f} readings/s"
        f" ({len(year)} readings)"
    )
    matrix_run()


def matrix_run() -> None:
    """Section 3: the whole scenario matrix (issue 15's speed goal: 8 scenarios x 2,000
    patients x 1 year in under 5 minutes on 2 cores), wall-clock, on a held-out seed."""

    patients = int(os.environ.get("MHF_BENCH_MATRIX_PATIENTS", "2000"))
    workers = os.cpu_count() or 1
    scenarios = named("all")
    jobs = matrix.jobs(CONFIG, scenarios, patients, 365, HELD_OUT_SEEDS[0])
    start = time.monotonic()
    with ProcessPoolExecutor(workers) as pool:
        parts = list(pool.map(matrix.run_chunk, jobs))
    results: dict[str, list[matrix.PatientResult]] = {}
    for job, part in zip(jobs, parts, strict=True):
        results.setdefault(job[1].name, []).extend(part)
    summary = matrix.summarise(results)
    elapsed = time.monotonic() - start
    verdict = "meets" if elapsed < 300 else "does NOT meet"
    print(
        f"3. scenario matrix: {len(scenarios)} scenarios x {patients} patients x 365 days on "
        f"{workers} processes: {elapsed:.0f} s wall-clock ({verdict} the 5-minute goal)"
    )
    rows = [matrix.row(name, rs) for name, rs in results.items()]
    print(matrix.table(rows, summary))


if __name__ == "__main__":
    main()
