"""Which rules run when a reading of each type arrives."""

from __future__ import annotations

from functools import lru_cache

from pathway.model import ReadingType
from pathway.rules import bloods, symptoms, titration, trends, vitals, weight
from pathway.rules.base import Context, Rule

__all__ = ["BY_TYPE", "TITRATION_BY_TYPE", "Context", "Rule", "active"]

BY_TYPE: dict[ReadingType, tuple[Rule, ...]] = {
    ReadingType.WEIGHT: (
        weight.gain_3d,
        weight.gain_2d,
        weight.above_target,
        weight.gain_with_symptoms,
        trends.moving_average,
        trends.macd,
    ),
    ReadingType.BLOOD_PRESSURE: (vitals.systolic,),
    ReadingType.HEART_RATE: (vitals.pulse, vitals.pulse_dizzy),
    ReadingType.SPO2: (vitals.spo2,),
    ReadingType.SYMPTOMS: (
        symptoms.emergency,
        symptoms.worse,
        vitals.pulse_dizzy,
        weight.gain_with_symptoms,
    ),
    ReadingType.POTASSIUM: (bloods.potassium,),
    ReadingType.CREATININE: (bloods.creatinine,),
    ReadingType.EGFR: (bloods.egfr,),
}

# Only for the medicines-optimisation cohort, whose doses change at home.
TITRATION_BY_TYPE: dict[ReadingType, tuple[Rule, ...]] = {
    ReadingType.HEART_RATE: (titration.beta_blocker_pulse,),
    ReadingType.SYMPTOMS: (titration.beta_blocker_pulse,),
    ReadingType.CREATININE: (titration.creatinine_rise,),
}

# The rule ids each rule function can raise. A function is not run once all of its rules are
# off, so only the functions raising both a red and an amber rule check ctx.on() themselves.
PRODUCES: dict[Rule, frozenset[str]] = {
    weight.gain_3d: frozenset({"amber.weight_gain_3d"}),
    weight.gain_2d: frozenset({"amber.weight_gain_2d"}),
    weight.above_target: frozenset({"amber.weight_above_target"}),
    weight.gain_with_symptoms: frozenset({"red.weight_gain_symptoms"}),
    trends.moving_average: frozenset({"trend.moving_average"}),
    trends.macd: frozenset({"trend.macd"}),
    vitals.systolic: frozenset({"emergency.systolic", "red.systolic", "amber.systolic"}),
    vitals.pulse: frozenset({"emergency.pulse", "red.pulse", "amber.pulse"}),
    vitals.pulse_dizzy: frozenset({"red.pulse_dizzy"}),
    vitals.spo2: frozenset({"emergency.spo2", "red.spo2", "amber.spo2"}),
    symptoms.emergency: frozenset({"red.emergency_symptoms"}),
    symptoms.worse: frozenset({"amber.symptoms_worse"}),
    titration.beta_blocker_pulse: frozenset({"amber.beta_blocker_pulse"}),
    bloods.potassium: frozenset({"red.potassium", "amber.potassium"}),
    bloods.creatinine: frozenset({"red.creatinine", "amber.creatinine"}),
    bloods.egfr: frozenset({"red.egfr", "amber.egfr"}),
    titration.creatinine_rise: frozenset({"amber.creatinine_rise"}),
}


@lru_cache(maxsize=256)
def active(kind: ReadingType, titrating: bool, disabled: frozenset[str]) -> tuple[Rule, ...]:
    """The rule functions to run for a reading of this type."""
    rules = BY_TYPE[kind] + (TITRATION_BY_TYPE.get(kind, ()) if titrating else ())
    return tuple(rule for rule in rules if not PRODUCES[rule] <= disabled)
