"""Patient-reported outcomes: KCCQ-12 scores at the start and at discharge, and how many
improved by a clinically meaningful change (``KCCQ_PAIRS``)."""

from __future__ import annotations

from typing import Any

from service.reports.context import Ctx
from service.reports.families import KCCQ_PAIRS
from service.reports.metrics.registry import KCCQ, Measure, Metric, flag, one, register

KCCQ_MEANINGFUL_CHANGE = 5.0


def _kccq_value(which: str) -> Measure:
    def value(ctx: Ctx, pair: Any) -> Any:
        if which == "change":
            return pair.discharge_score - pair.start_score
        return pair[f"{which}_score"]

    return Measure(KCCQ_PAIRS, val=value)


_kccq_improved = Measure(
    KCCQ_PAIRS,
    num=lambda ctx, pair: flag(pair.discharge_score - pair.start_score >= KCCQ_MEANINGFUL_CHANGE),
    den=one,
)


register(
    Metric(
        "kccq_start_median",
        "KCCQ-12 at start (median)",
        KCCQ,
        "median",
        "score",
        "KCCQ-12 overall summary at start",
        "Patients discharged in the month with both scores",
        "First score recorded at the start timepoint.",
        _kccq_value("start"),
    )
)
register(
    Metric(
        "kccq_discharge_median",
        "KCCQ-12 at discharge (median)",
        KCCQ,
        "median",
        "score",
        "KCCQ-12 overall summary at discharge",
        "Patients discharged in the month with both scores",
        "Last score recorded at the discharge timepoint.",
        _kccq_value("discharge"),
        higher_is_better=True,
    )
)
register(
    Metric(
        "kccq_change_median",
        "KCCQ-12 change (median)",
        KCCQ,
        "median",
        "points",
        "Discharge minus start score",
        "Patients discharged in the month with both scores",
        "A change of 5 points is clinically meaningful.",
        _kccq_value("change"),
        higher_is_better=True,
    )
)
register(
    Metric(
        "kccq_improved",
        "KCCQ-12 improved by 5 or more",
        KCCQ,
        "proportion",
        "%",
        "Patients whose score rose by at least 5 points",
        "Patients discharged in the month with both scores",
        "A 5-point change in the overall summary score is clinically meaningful.",
        _kccq_improved,
        higher_is_better=True,
    )
)
