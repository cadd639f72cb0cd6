"""Named cohort models: the matrix the default is judged on (pathway/README.md).

Each scenario changes a few parameters of `CohortParams` (whose fields carry their sources);
the comment says why the change is plausible. None is built to suit the pathway: the
confounders of the independent cohort in issue 15 are in all of them at central rates.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from pathway.evaluation.cohort import CohortParams


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    changes: tuple[tuple[str, object], ...] = ()

    def params(self, patients: int, days: int, seed: int) -> CohortParams:
        base = CohortParams(patients=patients, days=days, seed=seed, stream=self.name)
        return dataclasses.replace(base, **dict(self.changes))  # type: ignore[arg-type]


_ALL = (
    Scenario(
        "literature-central",
        "central values: Zhang 2009 weight change, issue 15 answer rates, every confounder",
    ),
    Scenario(
        "noisy-symptoms",
        "stable answer rates doubled, a quarter chronic over-reporters, 3 illness spells a year",
        (
            ("stable_rates", (0.02, 0.02, 0.04, 0.04, 0.04)),
            ("over_reporter_share", 0.25),
            ("spells_per_year", 3.0),
        ),
    ),
    Scenario(
        "small-gains",
        "a quarter of admissions with a 1-2.5 kg ramp, the rest almost none",
        (("ramp_share", 0.25), ("ramp_kg", (1.0, 2.5)), ("flat_change_kg", (0.1, 0.4))),
    ),
    Scenario(
        "low-adherence",
        "35-60 % of days with readings, a third lost over the year, x0.7 after an admission",
        (
            ("adherence", (0.35, 0.6)),
            ("adherence_decay_per_year", 0.33),
            ("adherence_after_admission", 0.7),
        ),
    ),
    Scenario(
        "scale-swap",
        "half change scale, 40 % weigh in clothes, evening and mixed-time weighers, lb/st",
        (
            ("scale_swap_share", 0.5),
            ("clothed_share", 0.4),
            ("evening_share", 0.2),
            ("mixed_time_share", 0.25),
            ("lb_share", 0.4),
            ("st_share", 0.15),
            ("dietary_per_year", 8.0),
        ),
    ),
    Scenario(
        "under-reporters",
        "half the patients report a third of their symptoms",
        (("under_reporter_share", 0.5),),
    ),
    Scenario(
        "high-risk-post-discharge",
        "all recently discharged, 0.7-1.5 admissions a year, adherence x0.7 after each",
        (
            ("cohort_weights", (0, 100, 0, 0)),
            ("event_rate", (0.7, 1.5)),
            ("adherence_after_admission", 0.7),
        ),
    ),
    Scenario(
        "frail-low-signal",
        "noisier weights, small gains, fewer symptoms and under-reporting, late batches",
        (
            ("cohort_weights", (10, 30, 10, 50)),
            ("noise_sd_kg", (0.45, 0.6)),
            ("ramp_share", 0.3),
            ("ramp_kg", (1.0, 2.5)),
            ("symptoms_share_ramp", 0.55),
            ("symptoms_share_flat", 0.7),
            ("under_reporter_share", 0.3),
            ("late_share", 0.3),
        ),
    ),
)

SCENARIOS: dict[str, Scenario] = {s.name: s for s in _ALL}


def named(name: str) -> list[Scenario]:
    """One scenario by name, or every one for 'all'."""
    if name == "all":
        return list(_ALL)
    if name not in SCENARIOS:
        raise KeyError(f"unknown scenario {name!r}; one of: all, {', '.join(SCENARIOS)}")
    return [SCENARIOS[name]]
