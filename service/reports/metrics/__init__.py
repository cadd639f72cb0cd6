"""The metric registry: every site and network measure as a named definition with its SQL.

``REGISTRY`` holds them in the order the reports list them. Each report section's module
registers its metrics when it is imported, so the order of the imports below is that order
(the out-of-hours, review and staff-time metrics, added later, come last to keep the published
order).
"""

# isort: off
from service.reports.metrics import (  # noqa: F401 (imported to register, in this order)
    caseload,
    adherence,
    alerts,
    outcomes,
    medicines,
    patient_reported,
    out_of_hours,
    reviews,
    staff_time,
)

# isort: on
from service.reports.metrics.registry import REGISTRY, Measure, Metric, register

__all__ = ["REGISTRY", "Measure", "Metric", "register"]
