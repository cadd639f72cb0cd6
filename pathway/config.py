"""The versioned pathway definition, its overrides and its safety validation."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache

from pathway.model import Level, PatientContext, PersonalThresholds

PATHWAY_VERSION = "mhf-2026.3"


class UnsafeConfiguration(ValueError):
    """A pathway, site override or personal threshold that would be unsafe to run."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.detail = message

    def __reduce__(self) -> tuple[type[UnsafeConfiguration], tuple[str, str]]:
        # Survives pickling, so the CLI's worker processes can report it.
        return (UnsafeConfiguration, (self.field, self.detail))


@dataclass(frozen=True, slots=True)
class Thresholds:
    # Emergency bands, beyond red: the patient is told to call 999 now, at any hour, whatever
    # the team's hours (see pathway/README.md for the sources). A site or a patient's team may
    # make them stricter, never looser (validation).
    spo2_emergency_at_or_below: float = 88.0
    systolic_emergency_below: int = 80
    pulse_low_emergency: int = 35
    pulse_high_emergency: int = 150
    spo2_red_at_or_below: float = 92.0
    spo2_amber_at_or_below: float = 94.0
    systolic_red_below: int = 90
    # Amber band is 90-100 mmHg, so "below 101" for whole-number readings.
    systolic_amber_below: int = 101
    pulse_low_red: int = 40
    pulse_low_amber: int = 50
    pulse_high_amber: int = 111
    pulse_high_red: int = 131
    pulse_dizzy_below: int = 50
    target_weight_kg: float | None = None
    weight_above_target_kg: float = 2.0


@dataclass(frozen=True, slots=True)
class WeightRules:
    """Gain = latest weight minus the LOWEST weight on the N preceding London calendar days.

    The lowest (not the first) weight is the comparator so that one heavy morning early in the
    window cannot hide a gain; earlier weights on the latest reading's own day are not compared.
    """

    gain_3d_kg: float = 2.0
    gain_3d_days: int = 3
    gain_2d_kg: float = 1.5
    gain_2d_days: int = 2
    with_symptoms_kg: float = 2.0
    with_symptoms_days: int = 3
    # A worse-symptom answer this many days before the weight (or after) joins the gain.
    symptom_days: int = 3


@dataclass(frozen=True, slots=True)
class SymptomRules:
    """How worse answers raise amber.symptoms_worse.

    By default (`score`) no single answer does: each worse answer scores points, scaled down
    when this patient gives it often (a personal baseline per answer), over the last
    `persist_days` London days, plus points for a weight above the personal baseline; the amber
    is raised at `score_threshold`, the one setting a site tunes (pathway/README.md, issue 15).
    With `score` false, the single-answer rules below (the first build's) apply instead.
    """

    score: bool = True
    score_threshold: float = 3.0
    persist_days: int = 3
    # Orthopnoea and ankle swelling build over about a week before an admission (Born 2019:
    # median onset 5-7 days before; breathlessness 3): they count over this many days (5: a
    # week gave the noisy-symptoms scenario as many false alerts as the rule of thumb).
    slow_sign_days: int = 5
    # Points per day an answer is given (a day counts once, however many questionnaires).
    # Worse tiredness alone never raised it (first build); it scores nothing by default.
    breathlessness_points: float = 0.5
    orthopnoea_points: float = 1.0
    ankle_swelling_points: float = 1.0
    dizziness_points: float = 0.4
    fatigue_points: float = 0.0
    # Points per kg the recent weight mean is above the personal baseline mean, up to a cap.
    points_per_kg: float = 0.7
    weight_cap_kg: float = 3.0
    # Home vitals against the patient's own baseline (median over the baseline days below):
    # points per % the recent SpO2 mean is below it beyond `spo2_free_percent`, and per 10 bpm
    # the recent pulse mean is above it beyond `pulse_free_bpm` (the day-to-day spread of a
    # stable patient stays within these; 8 bpm because a cold or chest infection raises the
    # pulse too, and 5 bpm scored those spells).
    spo2_points_per_percent: float = 1.0
    spo2_free_percent: float = 1.0
    pulse_points_per_10_bpm: float = 1.0
    pulse_free_bpm: float = 8.0
    min_vitals_baseline: int = 5
    # The personal baseline: the share of questionnaires with the answer over `baseline_days`
    # ending `baseline_gap_days` before the answer (a deterioration building for a week does
    # not become the patient's usual), shrunk towards `prior_rate` as if `prior_answers` more
    # questionnaires had been seen. An answer given on up to `full_rate` of questionnaires
    # scores in full (stable patients give each on 1-2 %, issue 15); on `usual_rate` or more,
    # nothing; points fall in proportion between.
    baseline_days: int = 42
    baseline_gap_days: int = 7
    prior_rate: float = 0.02
    prior_answers: int = 10
    full_rate: float = 0.03
    usual_rate: float = 0.10
    # --- the single-answer rules (score = false) ---
    # Off by default: on its own it fired mostly without a deterioration (see README).
    fatigue_alone: bool = False
    dizziness_alone: bool = True
    # Worse breathlessness on exertion with no other congestion sign raises the amber only when
    # the previous questionnaire (within 3 days) also showed a congestion sign (see README).
    breathlessness_alone_repeat: bool = True
    # ... or at once when the recent weight mean is this far above the personal baseline mean.
    breathlessness_weight_kg: float = 1.0


@dataclass(frozen=True, slots=True)
class MovingAverage:
    """Ledwidge 2013: alert when the recent mean exceeds the personal baseline mean by
    k baseline standard deviations and at least min_gain_kg."""

    baseline_days: int = 28
    recent_days: int = 3
    # Tuned on the synthetic cohort (pathway/README.md): k 2.5 and 3.0 kg, up from 2.0 / 1.5;
    # MACD finds the faster rises, this is the safety net for a large slow gain.
    k_sd: float = 2.5
    min_gain_kg: float = 3.0
    min_sd_kg: float = 0.3
    min_baseline_readings: int = 7
    min_recent_readings: int = 2


@dataclass(frozen=True, slots=True)
class Macd:
    """Gyllensten 2016: MACD = fast EMA - slow EMA of daily weight; alert when it is above
    threshold_kg and above its signal line (an EMA of MACD)."""

    fast_days: float = 3.0
    # Tuned on the synthetic cohort (pathway/README.md): 18 days (from 14); 1.4 kg (from 1.0,
    # then 1.1) on the scenario matrix's tuning seeds, where weighing in clothes, dietary gains
    # and scale changes made 1.1 kg raise 0.8 false alerts a year.
    slow_days: float = 18.0
    signal_days: float = 5.0
    threshold_kg: float = 1.4
    min_days: int = 14


@dataclass(frozen=True, slots=True)
class Titration:
    potassium_amber_above: float = 5.0
    potassium_red_above: float = 6.0
    creatinine_amber_above: float = 221.0
    creatinine_red_above: float = 354.0
    creatinine_rise_pct: float = 50.0
    egfr_amber_below: float = 30.0
    # Red limits (potassium, creatinine, eGFR) judge every patient's results, not only while
    # medicines are titrated (pathway.rules.bloods); they live here beside their cautions.
    egfr_red_below: float = 15.0
    beta_blocker_days: int = 28
    beta_blocker_pulse_below: int = 50


@dataclass(frozen=True, slots=True)
class Missed:
    # Expected readings in a row without a weight (a daily plan expects one each day).
    expected_days: int = 2


@dataclass(frozen=True, slots=True)
class ResponseTime:
    description: str
    working_hours: int | None = None
    working_days: int | None = None


@dataclass(frozen=True, slots=True)
class AdviceText:
    level: Level
    text: str


DEFAULT_ADVICE = {
    "emergency": AdviceText(Level.RED, "Call 999 now. Tell them you have heart failure."),
    "red_same_day": AdviceText(
        Level.RED, "Your heart failure team will call you today. If you feel worse, call 999."
    ),
    "amber_next_day": AdviceText(
        Level.AMBER,
        "Your heart failure team will call you on the next working day. "
        "If you feel worse, call 111.",
    ),
    "green": AdviceText(Level.GREEN, "Thank you. All your readings are within your plan."),
    "remeasure": AdviceText(
        Level.GREEN, "Please take this reading again in 30 minutes. Sit and rest first."
    ),
    "symptoms_again": AdviceText(
        Level.GREEN,
        "Thank you. Please answer the questions again tomorrow. "
        "If you feel worse, call 111. If you are breathless at rest, call 999.",
    ),
}

_DEFAULT_RESPONSE = {
    Level.RED: ResponseTime("within 4 working hours, the same day", working_hours=4),
    Level.AMBER: ResponseTime("by the end of the next working day", working_days=1),
}

# The tuned default (pathway/README.md has the evaluation): the personal trend detectors
# (moving average, MACD) stand in for the fixed-threshold amber weight rules, which on the
# synthetic cohort fired on noise and slow drift far more often than before admissions. The red
# weight-with-symptoms rule stays, and red rules can never be switched off.
_DEFAULT_DISABLED: frozenset[str] = frozenset(
    {"amber.weight_gain_3d", "amber.weight_gain_2d", "amber.weight_above_target"}
)
# Borderline single readings ask the patient to re-measure; the amber needs the second one too.
_DEFAULT_CONFIRM: dict[str, int] = {
    "amber.spo2": 2,
    "amber.systolic": 2,
    "amber.pulse": 2,
    "amber.weight_gain_3d": 2,
}


@dataclass(frozen=True, slots=True)
class PathwayConfig:
    version: str = PATHWAY_VERSION
    thresholds: Thresholds = field(default_factory=Thresholds)
    weight: WeightRules = field(default_factory=WeightRules)
    symptoms: SymptomRules = field(default_factory=SymptomRules)
    moving_average: MovingAverage = field(default_factory=MovingAverage)
    macd: Macd = field(default_factory=Macd)
    titration: Titration = field(default_factory=Titration)
    missed: Missed = field(default_factory=Missed)
    disabled: frozenset[str] = _DEFAULT_DISABLED
    # The service bounds its history query by this, so evaluation cost never grows with time.
    history_window: timedelta = timedelta(days=60)
    response_times: Mapping[Level, ResponseTime] = field(
        default_factory=lambda: dict(_DEFAULT_RESPONSE)
    )
    advice: Mapping[str, AdviceText] = field(default_factory=lambda: dict(DEFAULT_ADVICE))
    # Amber rules that must fire on this many readings of a type in a row (a re-measure).
    confirm: Mapping[str, int] = field(default_factory=lambda: dict(_DEFAULT_CONFIRM))

    def enabled(self, rule_id: str) -> bool:
        return rule_id not in self.disabled

    def with_overrides(self, overrides: Mapping[str, object]) -> PathwayConfig:
        """Layer a site's overrides on top; the version records a digest of them."""
        from pathway.overrides import apply_overrides  # noqa: PLC0415 - it imports this module

        return apply_overrides(self, overrides)

    def thresholds_for(self, patient: PatientContext) -> Thresholds:
        merged = _merged_thresholds(self.thresholds, patient.thresholds)
        # The cache answers with an equal copy; without personal limits, the pathway's own.
        return self.thresholds if patient.thresholds == _NO_PERSONAL else merged


_NO_PERSONAL = PersonalThresholds()


# Both are frozen values and the answer is pure, so memoising is safe; evaluate() asks on every
# call. An unsafe combination raises every time (lru_cache does not keep exceptions).
@lru_cache(maxsize=4096)
def _merged_thresholds(pathway: Thresholds, patient: PersonalThresholds) -> Thresholds:
    personal = {
        f.name: getattr(patient, f.name)
        for f in dataclasses.fields(patient)
        if getattr(patient, f.name) is not None
    }
    merged = dataclasses.replace(pathway, **personal) if personal else pathway
    from pathway.validation import validate_thresholds  # noqa: PLC0415 - it imports this module

    validate_thresholds(merged, "patient.thresholds" if personal else "thresholds")
    return merged


def default_pathway() -> PathwayConfig:
    from pathway.validation import validate  # noqa: PLC0415 - it imports this module

    return validate(PathwayConfig())
