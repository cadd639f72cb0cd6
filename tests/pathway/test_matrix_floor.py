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
@pytest.mark.xfail(
    strict=True,
    reason="issue 15: the sensitivity floor (60 % worst, 70 % median) is not met on held-out "
    "seeds (pathway/README.md); strict, so meeting it fails here until this mark is removed",
)
def test_the_floor_on_held_out_seeds(held_out: tuple[list[matrix.Row], matrix.Summary]) -> None:
    rows, summary = held_out
    print("\n" + matrix.table(rows, summary))
    assert summary.meets_floor()
    assert [r.scenario for r in rows if not r.beats_thumb()] == []


# What pathway/README.md publishes for held-out seed 101 (mhf-2026.3). A change that makes the
# default worse than this fails make slow; one that makes it better moves these with its table.
PUBLISHED_MEDIAN_SENSITIVITY = 0.344
SENSITIVITY_SLACK = 0.02  # the bootstrap's half-width for the median scenario


@pytest.mark.slow
def test_the_held_out_figures_are_no_worse_than_published(
    held_out: tuple[list[matrix.Row], matrix.Summary],
) -> None:
    rows, summary = held_out
    print("\n" + matrix.table(rows, summary))
    assert summary.worst_false[1] <= matrix.WORST_FLOOR[1]
    assert summary.median_false[0] <= matrix.MEDIAN_FLOOR[1]
    assert summary.median_sensitivity[0] >= PUBLISHED_MEDIAN_SENSITIVITY - SENSITIVITY_SLACK
    # more admissions found and fewer false alerts than the rule of thumb in every scenario (the
    # narrowest: noisy-symptoms, 1.53 against 1.68 a year)
    assert [r.scenario for r in rows if not r.beats_thumb()] == []
