"""Domain values of the pathway: readings in, findings and advice out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Level(StrEnum):
    RED = "red"
    AMBER = "amber"
    # GREEN is only ever advice: a finding is always red or amber.
    GREEN = "green"


class Cohort(StrEnum):
    NEW_DIAGNOSIS = "new_diagnosis"
    POST_DISCHARGE = "post_discharge"
    MEDICATION_OPTIMISATION = "medication_optimisation"
    PALLIATIVE = "palliative"


class ReadingType(StrEnum):
    WEIGHT = "weight"
    BLOOD_PRESSURE = "blood_pressure"
    HEART_RATE = "heart_rate"
    SPO2 = "spo2"
    SYMPTOMS = "symptoms"
    POTASSIUM = "potassium"
    CREATININE = "creatinine"
    EGFR = "egfr"


class Breathlessness(StrEnum):
    NONE = "none"
    USUAL = "usual"
    WORSE = "worse"
    AT_REST = "at_rest"


class AnkleSwelling(StrEnum):
    NONE = "none"
    USUAL = "usual"
    WORSE = "worse"


class Fatigue(StrEnum):
    USUAL = "usual"
    WORSE = "worse"


class DrugClass(StrEnum):
    ACEI_ARB_ARNI = "acei_arb_arni"
    BETA_BLOCKER = "beta_blocker"
    MRA = "mra"
    SGLT2I = "sglt2i"
    DIURETIC = "diuretic"


@dataclass(frozen=True, slots=True)
class SymptomAnswers:
    breathlessness: Breathlessness = Breathlessness.USUAL
    orthopnoea: bool = False
    ankle_swelling: AnkleSwelling = AnkleSwelling.USUAL
    dizziness: bool = False
    chest_pain: bool = False
    fatigue: Fatigue = Fatigue.USUAL
    # Not in the API contract yet: the domain's emergency list names them.
    fainting: bool = False
    confusion: bool = False


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True, slots=True)
class Reading:
    id: str
    type: ReadingType
    taken_at: datetime
    value: float | None = None
    systolic: int | None = None
    diastolic: int | None = None
    symptoms: SymptomAnswers | None = None

    def __post_init__(self) -> None:
        _require_aware(self.taken_at, "taken_at")


@dataclass(frozen=True, slots=True)
class MedicationChange:
    changed_at: datetime
    drug_class: DrugClass
    description: str = ""

    def __post_init__(self) -> None:
        _require_aware(self.changed_at, "changed_at")


@dataclass(frozen=True, slots=True)
class PersonalThresholds:
    """Per-patient overrides agreed with the team; None keeps the pathway default."""

    target_weight_kg: float | None = None
    systolic_red_below: int | None = None
    systolic_amber_below: int | None = None
    pulse_low_red: int | None = None
    pulse_low_amber: int | None = None
    pulse_high_amber: int | None = None
    pulse_high_red: int | None = None
    spo2_red_at_or_below: float | None = None
    spo2_amber_at_or_below: float | None = None


@dataclass(frozen=True, slots=True)
class PatientContext:
    patient_id: str
    cohort: Cohort
    thresholds: PersonalThresholds = field(default_factory=PersonalThresholds)
    expects_daily_weight: bool = True
    medication_changes: tuple[MedicationChange, ...] = ()


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    level: Level
    pathway_version: str
    evidence: tuple[str, ...]
    summary: str
    title: str
    observed_at: datetime


@dataclass(frozen=True, slots=True)
class Advice:
    level: Level
    code: str
    text: str


@dataclass(frozen=True, slots=True)
class Evaluation:
    findings: tuple[Finding, ...]
    advice: Advice
