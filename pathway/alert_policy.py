"""The alert policy: which findings share an alert, and when a finding raises a new one.

The live service (``service.alerting``) and the replay (``pathway.evaluation.replay``) both
follow it, so the replay's counts are the alerts a team would get:

- Rules that describe one clinical problem share an alert (``PROBLEMS``): SpO2 93 % then 91 %
  raises the open SpO2 alert to red instead of adding a second alert; weight gain, the trend
  detectors and worse symptoms gather in one congestion alert.
- One open alert per patient and problem. A finding of a problem whose alert is open attaches
  to it and may raise its severity (never lower it); a red rise makes it due no later than a
  red alert raised then would be.
- An alert stays open until the team resolves it. The replay takes it as resolved at its
  response time (``pathway.response``), i.e. the team responded on time.
- After that, the next finding of the problem raises a new alert at once, amber or red: there
  is no quiet period. The team's response covered the readings it saw; a reading that still
  meets a rule afterwards is new, and hiding it behind a quiet period would keep an amber
  finding from a team that has not seen it. Alert burden is the rules' business (re-measures,
  repeats, personal baselines), where it can be measured, not the alert queue's.
- An alert keeps the rule id and pathway version of the finding that speaks for it (``lead``);
  every finding it gathers keeps its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from pathway.model import Finding, Level

__all__ = ["PROBLEMS", "DueAt", "OpenAlerts", "Raised", "lead", "problem_of", "rank"]

PROBLEMS: Mapping[str, str] = MappingProxyType(
    {
        "red.spo2": "spo2",
        "amber.spo2": "spo2",
        "red.systolic": "systolic",
        "amber.systolic": "systolic",
        "red.pulse": "pulse",
        "amber.pulse": "pulse",
        "red.pulse_dizzy": "pulse",
        "amber.beta_blocker_pulse": "pulse",
        # Fluid build-up shows as weight gain and as breathlessness, orthopnoea or swollen
        # ankles: one congestion alert gathers them, and turns red when gain and symptoms meet.
        "amber.weight_gain_2d": "congestion",
        "amber.weight_gain_3d": "congestion",
        "amber.weight_above_target": "congestion",
        "amber.symptoms_worse": "congestion",
        "red.weight_gain_symptoms": "congestion",
        "trend.moving_average": "congestion",
        "trend.macd": "congestion",
        "red.potassium": "potassium",
        "amber.potassium": "potassium",
        "red.creatinine": "creatinine",
        "amber.creatinine": "creatinine",
        "amber.creatinine_rise": "creatinine",
    }
)

_RANK = {Level.GREEN: 0, Level.AMBER: 1, Level.RED: 2}

# When an alert of this level raised at this instant is due (a site's response policy).
DueAt = Callable[[Level, datetime], datetime]


def problem_of(rule_id: str) -> str:
    """The clinical problem a rule's findings belong to; a rule not listed is its own."""
    return PROBLEMS.get(rule_id, rule_id)


def rank(level: Level | str) -> int:
    return _RANK[Level(level)]


def lead(findings: Iterable[Finding]) -> Finding:
    """The finding that speaks for an alert: the most severe, then the latest, then by rule id
    and text, so the choice never depends on the order the pathway listed them in."""
    return max(findings, key=lambda f: (rank(f.level), f.observed_at, f.rule_id, f.summary))


@dataclass(frozen=True, slots=True)
class Raised:
    """A new alert: its problem, the finding that speaks for it, and when it was raised."""

    problem: str
    finding: Finding
    raised_at: datetime


@dataclass(slots=True)
class _Open:
    level: Level
    due: datetime


class OpenAlerts:
    """One patient's alerts as the replay keeps them, each resolved at its response time."""

    def __init__(self, due: DueAt) -> None:
        self._due = due
        self._open: dict[str, _Open] = {}

    def offer(self, findings: Iterable[Finding], now: datetime) -> list[Raised]:
        """Apply findings that arrived at ``now``; returns the alerts raised, by problem."""
        by_problem: dict[str, list[Finding]] = {}
        for finding in findings:
            by_problem.setdefault(problem_of(finding.rule_id), []).append(finding)
        raised = []
        for problem in sorted(by_problem):
            top = lead(by_problem[problem])
            current = self._open.get(problem)
            if current is None or now >= current.due:
                self._open[problem] = _Open(top.level, self._due(top.level, now))
                raised.append(Raised(problem, top, now))
            elif rank(top.level) > rank(current.level):
                # As lifecycle.raise_severity: the earlier of the two due times.
                current.level = top.level
                current.due = min(current.due, self._due(top.level, now))
        return raised
