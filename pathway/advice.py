"""What to tell the patient after their readings, from the most urgent finding."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pathway.config import PathwayConfig
from pathway.model import Advice, Finding, Level

# Findings whose answer is "call 999 now" at any hour: no plan may rest on the team calling later.
EMERGENCY_RULES = frozenset(
    {"red.emergency_symptoms", "emergency.spo2", "emergency.systolic", "emergency.pulse"}
)


def advise(
    config: PathwayConfig, findings: Iterable[Finding], *, held: Sequence[str] = ()
) -> Advice:
    """The most urgent finding decides; with none, a reading waiting for its confirmation
    asks for it (`held`: advice codes; a re-measure now comes before questions tomorrow)."""
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
        elif "remeasure" in held:
            code = "remeasure"
        elif held:
            code = held[0]
    text = config.advice[code]
    return Advice(level=text.level, code=code, text=text.text)
