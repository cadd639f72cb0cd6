"""What to tell the patient after their readings, from the most urgent finding."""

from __future__ import annotations

from collections.abc import Iterable

from pathway.config import PathwayConfig
from pathway.model import Advice, Finding, Level

EMERGENCY_RULES = frozenset({"red.emergency_symptoms"})


def advise(
    config: PathwayConfig, findings: Iterable[Finding], *, remeasure: bool = False
) -> Advice:
    """The most urgent finding decides; with none, a borderline reading waiting for its
    confirming re-measure asks for one."""
    levels = set()
    code = "green"
    for finding in findings:
        if finding.rule_id in EMERGENCY_RULES:
            code = "emergency"
        levels.add(finding.level)
    if code != "emergency":
        if Level.RED in levels:
            code = "red_same_day"
        elif Level.AMBER in levels:
            code = "amber_next_day"
        elif remeasure:
            code = "remeasure"
    text = config.advice[code]
    return Advice(level=text.level, code=code, text=text.text)
