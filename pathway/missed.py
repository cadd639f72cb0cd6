"""Missed-reading detection, run by the scheduler rather than by a reading arriving."""

from __future__ import annotations

from datetime import datetime

from pathway.catalogue import RULES
from pathway.config import PathwayConfig
from pathway.model import Finding, PatientContext
from pathway.window import london_day

RULE_ID = "amber.missed_weight"


def missed_readings(
    config: PathwayConfig,
    patient: PatientContext,
    last_weight_at: datetime | None,
    enrolled_at: datetime,
    now: datetime,
) -> Finding | None:
    """Amber when no weight has been taken for N expected days.

    Days are Europe/London calendar days. A daily plan expects a weight every day, an
    alternate-day plan every second day; today counts as expected, so with N = 2 a patient who
    last weighed on Monday is flagged on Wednesday. Before any weight, enrolment day stands in
    for the last weight (nothing is expected on the day of enrolment).
    """
    if not config.enabled(RULE_ID):
        return None
    every = 1 if patient.expects_daily_weight else 2
    since = last_weight_at if last_weight_at is not None else enrolled_at
    gap = london_day(now) - london_day(since)
    if gap < config.missed.expected_days * every:
        return None
    spec = RULES[RULE_ID]
    return Finding(
        rule_id=RULE_ID,
        level=spec.level,
        pathway_version=config.version,
        evidence=(),
        summary=f"no weight for {gap} days",
        title=spec.title,
        observed_at=now,
    )
