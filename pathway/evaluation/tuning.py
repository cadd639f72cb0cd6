"""Tuning runs: candidate settings judged on the scenario matrix with tuning seeds only.

Held-out seeds are refused here (pathway.evaluation.seeds), and the record this returns lists
every seed used, so a test can show no published figure was tuned on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pathway.config import PathwayConfig
from pathway.evaluation.matrix import PatientResult, Row, Summary, jobs, row, run_chunk, summarise
from pathway.evaluation.scenarios import Scenario
from pathway.evaluation.seeds import check_tuning

Mapper = Callable[[Callable[[Any], list[PatientResult]], Sequence[Any]], list[list[PatientResult]]]


def _serial(function: Callable[[Any], list[PatientResult]], items: Sequence[Any]) -> list[Any]:
    return [function(item) for item in items]


def judge_candidate(
    config: PathwayConfig,
    scenarios: Sequence[Scenario],
    patients: int,
    days: int,
    seeds: tuple[int, ...],
    mapper: Mapper = _serial,
) -> tuple[list[Row], Summary]:
    """The matrix for one candidate, pooled over the tuning seeds."""
    check_tuning(seeds)
    work = [j for seed in seeds for j in jobs(config, scenarios, patients, days, seed)]
    results: dict[str, list[PatientResult]] = {}
    for job, part in zip(work, mapper(run_chunk, work), strict=True):
        results.setdefault(job[1].name, []).extend(part)
    return [row(name, rs) for name, rs in results.items()], summarise(results, resamples=100)


def record(
    seeds: tuple[int, ...],
    patients: int,
    days: int,
    candidates: Mapping[str, Mapping[str, object]],
    chosen: str,
    outcomes: Mapping[str, Summary],
) -> dict[str, object]:
    """What a tuning run used and found, JSON-ready, for the committed tuning record."""
    return {
        "seeds": sorted(check_tuning(seeds)),
        "patients_per_scenario": patients,
        "days": days,
        "chosen": chosen,
        "candidates": {
            name: {
                "overrides": dict(candidates[name]),
                "worst_sensitivity": round(outcomes[name].worst_sensitivity[1], 4),
                "worst_false_per_patient_year": round(outcomes[name].worst_false[1], 3),
                "median_sensitivity": round(outcomes[name].median_sensitivity[0], 4),
                "median_false_per_patient_year": round(outcomes[name].median_false[0], 3),
            }
            for name in candidates
        },
    }
