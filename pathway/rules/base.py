"""What every rule sees: the configuration, the patient's thresholds and the bounded window."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pathway.catalogue import RULES
from pathway.config import PathwayConfig, Thresholds
from pathway.model import (
    AnkleSwelling,
    Breathlessness,
    Fatigue,
    Finding,
    PatientContext,
    Reading,
    SymptomAnswers,
)
from pathway.window import Window


@dataclass(frozen=True, slots=True)
class Context:
    config: PathwayConfig
    thresholds: Thresholds
    patient: PatientContext
    window: Window

    def on(self, rule_id: str) -> bool:
        return self.config.enabled(rule_id)

    def finding(
        self, rule_id: str, evidence: tuple[str, ...], summary: str, anchor: Reading
    ) -> Finding:
        spec = RULES[rule_id]
        return Finding(
            rule_id=rule_id,
            level=spec.level,
            pathway_version=self.config.version,
            evidence=evidence,
            summary=summary,
            title=spec.title,
            observed_at=anchor.taken_at,
        )


@dataclass(frozen=True, slots=True)
class Held:
    """A rule that would fire but waits for a confirming reading; `advice` tells the patient
    what to do meanwhile (an advice code)."""

    rule_id: str
    advice: str


Rule = Callable[[Context, Reading], Finding | Held | None]


def congestion_signs(answers: SymptomAnswers) -> list[str]:
    """Symptoms that, with a weight gain, point to fluid building up."""
    signs = []
    if answers.breathlessness in (Breathlessness.WORSE, Breathlessness.AT_REST):
        signs.append("worse breathlessness")
    if answers.orthopnoea:
        signs.append("breathless lying flat")
    if answers.ankle_swelling is AnkleSwelling.WORSE:
        signs.append("worse ankle swelling")
    return signs


def any_worse(answers: SymptomAnswers) -> bool:
    return bool(congestion_signs(answers)) or answers.dizziness or answers.fatigue is Fatigue.WORSE


def kg(value: float) -> str:
    return f"{value:+.1f} kg"


def value(r: Reading) -> float:
    # evaluate() drops readings without their value, so NaN is never seen by a rule.
    return r.value if r.value is not None else float("nan")


def answers(r: Reading) -> SymptomAnswers:
    return r.symptoms if r.symptoms is not None else SymptomAnswers()
