"""Weight adherence: the expected reading-days that have a weight (``WEIGHT_DAYS``)."""

from __future__ import annotations

from service.reports.families import WEIGHT_DAYS
from service.reports.metrics.registry import ADHERENCE, Measure, Metric, register

_adherence = Measure(
    WEIGHT_DAYS, num=lambda ctx, a: a.days_with_weight, den=lambda ctx, a: a.expected_days
)


register(
    Metric(
        "weight_adherence",
        "Weight adherence",
        ADHERENCE,
        "proportion",
        "%",
        "Expected reading-days with a weight",
        "Expected reading-days",
        "For patients expecting daily weights, each London calendar day they were on the pathway "
        "in "
        "the month (enrolment and discharge days included) is an expected reading-day; it has a "
        "valid reading if at least one weight was accepted that day.",
        _adherence,
        higher_is_better=True,
    )
)
