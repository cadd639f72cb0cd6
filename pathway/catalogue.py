"""The rules of the pathway: stable ids, levels, plain-words titles and sources."""

from __future__ import annotations

from dataclasses import dataclass

from pathway.model import Level, ReadingType

W = ReadingType.WEIGHT
S = ReadingType.SYMPTOMS
HR = ReadingType.HEART_RATE


@dataclass(frozen=True, slots=True)
class RuleSpec:
    rule_id: str
    level: Level
    title: str
    source: str
    # Reading types whose arrival can make the rule fire; drives which rules run.
    inputs: tuple[ReadingType, ...]
    # Only for the medicines-optimisation cohort.
    titration: bool = False


_SPECS = (
    RuleSpec(
        "red.emergency_symptoms",
        Level.RED,
        "Breathless at rest, chest pain, fainting or new confusion",
        "UK trust patient leaflets",
        (S,),
    ),
    RuleSpec(
        "emergency.spo2",
        Level.RED,
        "Oxygen level at or below the emergency floor: call 999",
        "BTS oxygen guideline (88 % is the lowest target of any patient); NHS oximetry advice",
        (ReadingType.SPO2,),
    ),
    RuleSpec(
        "emergency.systolic",
        Level.RED,
        "Top blood pressure number below the emergency limit: call 999",
        "NEWS2 (90 mmHg or less scores 3); below 80 a margin beyond it",
        (ReadingType.BLOOD_PRESSURE,),
    ),
    RuleSpec(
        "emergency.pulse",
        Level.RED,
        "Pulse at or beyond the emergency limits: call 999",
        "NEWS2 (40 or less, 131 or more score 3); 35 and 150 a margin beyond it",
        (HR,),
    ),
    RuleSpec(
        "red.spo2",
        Level.RED,
        "Oxygen level at or below the red floor",
        "NEWS2; Oximetry @home",
        (ReadingType.SPO2,),
    ),
    RuleSpec(
        "red.systolic",
        Level.RED,
        "Top blood pressure number below the red limit",
        "NEWS2",
        (ReadingType.BLOOD_PRESSURE,),
    ),
    RuleSpec("red.pulse", Level.RED, "Pulse at or beyond the red limits", "NEWS2", (HR,)),
    RuleSpec(
        "red.pulse_dizzy",
        Level.RED,
        "Slow pulse with dizziness on the same day",
        "Beta-blocker guidance",
        (HR, S),
    ),
    RuleSpec(
        "red.weight_gain_symptoms",
        Level.RED,
        "Weight gain with worse breathlessness, orthopnoea or ankle swelling",
        "ESC/HFA; UK leaflets",
        (W, S),
    ),
    RuleSpec(
        "amber.spo2",
        Level.AMBER,
        "Oxygen level in the amber band",
        "Oximetry @home amber",
        (ReadingType.SPO2,),
    ),
    RuleSpec(
        "amber.systolic",
        Level.AMBER,
        "Top blood pressure number in the amber band",
        "NEWS2 2-point band",
        (ReadingType.BLOOD_PRESSURE,),
    ),
    RuleSpec("amber.pulse", Level.AMBER, "Pulse in the amber band", "NEWS2 2-point band", (HR,)),
    RuleSpec(
        "amber.weight_gain_3d",
        Level.AMBER,
        "Weight gain over 3 days (rule of thumb)",
        "ESC/HFA > 2 kg in 3 days",
        (W,),
    ),
    RuleSpec("amber.weight_gain_2d", Level.AMBER, "Weight gain over 2 days", "UK leaflets", (W,)),
    RuleSpec(
        "amber.weight_above_target",
        Level.AMBER,
        "Weight above the target (dry) weight",
        "UK leaflets",
        (W,),
    ),
    RuleSpec(
        "amber.symptoms_worse",
        Level.AMBER,
        "New or worse symptoms",
        "Leaflets; BEAT-HF questions",
        (S,),
    ),
    RuleSpec(
        "trend.moving_average",
        Level.AMBER,
        "Recent weight above the personal moving-average baseline",
        "Ledwidge 2013",
        (W,),
    ),
    RuleSpec("trend.macd", Level.AMBER, "Rising weight trend (MACD)", "Gyllensten 2016", (W,)),
    RuleSpec(
        "red.potassium",
        Level.RED,
        "Potassium above the stop limit",
        "SIGN 147; ESC",
        (ReadingType.POTASSIUM,),
    ),
    RuleSpec(
        "amber.potassium",
        Level.AMBER,
        "Potassium above the caution limit",
        "SIGN 147; ESC",
        (ReadingType.POTASSIUM,),
        True,
    ),
    RuleSpec(
        "red.creatinine",
        Level.RED,
        "Creatinine above the stop limit",
        "SIGN 147; ESC",
        (ReadingType.CREATININE,),
    ),
    RuleSpec(
        "amber.creatinine",
        Level.AMBER,
        "Creatinine above the caution limit",
        "SIGN 147; ESC",
        (ReadingType.CREATININE,),
        True,
    ),
    RuleSpec(
        "amber.creatinine_rise",
        Level.AMBER,
        "Creatinine risen from its level before the last medicine change",
        "UK prescribing reviews",
        (ReadingType.CREATININE,),
        True,
    ),
    RuleSpec(
        "red.egfr",
        Level.RED,
        "Kidney function (eGFR) below the red limit (kidney failure range)",
        "KDIGO 2024 CKD category G5 (below 15)",
        (ReadingType.EGFR,),
    ),
    RuleSpec(
        "amber.egfr",
        Level.AMBER,
        "Kidney function (eGFR) below the caution limit",
        "ESC; BNF cautions",
        (ReadingType.EGFR,),
        True,
    ),
    RuleSpec(
        "amber.beta_blocker_pulse",
        Level.AMBER,
        "Slow pulse with worse symptoms after a beta-blocker change",
        "Beta-blocker guidance",
        (HR, S),
        True,
    ),
    RuleSpec(
        "amber.missed_weight",
        Level.AMBER,
        "No weight for the expected days",
        "Inhealthcare pattern",
        (),
    ),
)

RULES: dict[str, RuleSpec] = {spec.rule_id: spec for spec in _SPECS}
