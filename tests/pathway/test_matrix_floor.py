"""`make slow`: the floor of issue 15 on the scenario matrix, from a held-out seed.

8 scenarios x 2,000 patients x 1 year, over both cores (bench/pathway.py times it)."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

import pytest

from pathway import default_pathway
from pathway.evaluation import matrix
from pathway.evaluation.scenarios import named
from pathway.evaluation.seeds import HELD_OUT_SEEDS


@pytest.fixture(scope="module")
def held_out() -> tuple[list[matrix.Row], matrix.Summary]:
    config = default_pathway()
    jobs = matrix.jobs(config, named("all"), 2000, 365, HELD_OUT_SEEDS[0])
    with ProcessPoolExecutor(2) as pool:
        parts = list(pool.map(matrix.run_chunk, jobs))
    results: dict[str, list[matrix.PatientResult]] = {}
    for job, part in zip(jobs, parts, strict=True):
        results.setdefault(job[1].name, []).extend(part)
    rows = [matrix.row(name, rs) for name, rs in results.items()]
    return rows, matrix.summarise(results)


@pytest.mark.slow
def test_the_floor_on_held_out_seeds(held_out: tuple[list[matrix.Row], matrix.Summary]) -> None:
    rows, summary = held_out
    print("\n" + matrix.table(rows, summary))
    assert summary.worst_sensitivity[1] >= matrix.WORST_FLOOR[0]
    assert summary.worst_false[1] <= matrix.WORST_FLOOR[1]
    assert summary.median_sensitivity[0] >= matrix.MEDIAN_FLOOR[0]
    assert summary.median_false[0] <= matrix.MEDIAN_FLOOR[1]


@pytest.mark.slow
def test_better_than_the_rule_of_thumb_in_every_scenario(
    held_out: tuple[list[matrix.Row], matrix.Summary],
) -> None:
    rows, _ = held_out
    assert [r.scenario for r in rows if not r.beats_thumb()] == []
