"""HFrEF medicines: each of the four pillars started and at target dose, and the time to
optimisation (``HFREF_MEDICINES``, ``OPTIMISED``)."""

from __future__ import annotations

from service.models.patients import PILLARS
from service.reports.families import HFREF_MEDICINES, OPTIMISED
from service.reports.metrics.registry import MEDICINES, Measure, Metric, flag, one, register

PILLAR_TITLES = {
    "acei_arb_arni": "ACE inhibitor, ARB or ARNI",
    "beta_blocker": "beta-blocker",
    "mra": "MRA",
    "sglt2i": "SGLT2 inhibitor",
}


def _on_pillar(pillar: str) -> Measure:
    return Measure(
        HFREF_MEDICINES, num=lambda ctx, m: flag(m[f"{pillar}_status"] == "started"), den=one
    )


def _at_target(pillar: str) -> Measure:
    return Measure(
        HFREF_MEDICINES,
        where=lambda ctx, m: m[f"{pillar}_status"] == "started",
        num=lambda ctx, m: m[f"{pillar}_at_target"],
        den=one,
    )


_time_to_optimisation = Measure(OPTIMISED, val=lambda ctx, o: o.days_to_optimise)


for _pillar in PILLARS:
    _name = PILLAR_TITLES[_pillar]
    register(
        Metric(
            f"on_{_pillar}",
            f"HFrEF patients on {_name}",
            MEDICINES,
            "proportion",
            "%",
            f"HFrEF patients whose latest {_name} record is 'started'",
            "HFrEF patients active at month end",
            "The latest record for the pillar on or before the last day decides.",
            _on_pillar(_pillar),
            higher_is_better=True,
        )
    )
    register(
        Metric(
            f"at_target_{_pillar}",
            f"{_name}: at target or maximum tolerated dose",
            MEDICINES,
            "proportion",
            "%",
            f"HFrEF patients on {_name} at target or maximum tolerated dose",
            f"HFrEF patients active at month end on {_name}",
            "From the latest record for the pillar.",
            _at_target(_pillar),
            higher_is_better=True,
        )
    )
register(
    Metric(
        "time_to_optimisation_median_days",
        "Time to optimisation (median)",
        MEDICINES,
        "median",
        "days",
        "Days from enrolment to optimisation",
        "HFrEF patients optimised in the month",
        "Optimised on the date every pillar was first at target or maximum tolerated dose, or "
        "ruled "
        "out as not tolerated or contraindicated.",
        _time_to_optimisation,
        higher_is_better=False,
    )
)
