"""Detection metrics: an alert is true if an event follows within 14 days (domain.md)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from pathway.evaluation.cohort import Event
from pathway.evaluation.replay import Alert
from pathway.window import LONDON

HORIZON_DAYS = 14


@dataclass(frozen=True, slots=True)
class Metrics:
    name: str
    events: int
    detected: int
    alerts: int
    false_alerts: int
    patient_days: int
    warning_days: tuple[int, ...]

    @property
    def sensitivity(self) -> float:
        return self.detected / self.events if self.events else 0.0

    @property
    def false_per_patient_year(self) -> float:
        return self.false_alerts / (self.patient_days / 365.25) if self.patient_days else 0.0

    @property
    def burden_per_100_days(self) -> float:
        return 100.0 * self.alerts / self.patient_days if self.patient_days else 0.0

    @property
    def median_warning_days(self) -> float | None:
        return statistics.median(self.warning_days) if self.warning_days else None


def _alert_day(alert: Alert) -> date:
    return alert.raised_at.astimezone(LONDON).date()


def measure(
    name: str,
    alerts: Iterable[Alert],
    events: Sequence[Event],
    patient_days: int,
    rule_ids: Iterable[str] | None = None,
) -> Metrics:
    """Sensitivity: share of events with an alert 0-14 days before. False alert: no event in the
    14 days after it. Warning: days from the first alert in that window to the event."""
    wanted = None if rule_ids is None else frozenset(rule_ids)
    by_patient: dict[str, list[date]] = defaultdict(list)
    count = 0
    for alert in alerts:
        if wanted is None or alert.rule_id in wanted:
            by_patient[alert.patient_id].append(_alert_day(alert))
            count += 1
    events_by_patient: dict[str, list[date]] = defaultdict(list)
    for event in events:
        events_by_patient[event.patient_id].append(event.day)
    detected = 0
    warnings = []
    for event in events:
        leads = [
            (event.day - day).days
            for day in by_patient.get(event.patient_id, ())
            if 0 <= (event.day - day).days <= HORIZON_DAYS
        ]
        if leads:
            detected += 1
            warnings.append(max(leads))
    false = 0
    for patient_id, days in by_patient.items():
        own = events_by_patient.get(patient_id, [])
        false += sum(1 for day in days if not any(0 <= (e - day).days <= HORIZON_DAYS for e in own))
    return Metrics(name, len(events), detected, count, false, patient_days, tuple(warnings))
