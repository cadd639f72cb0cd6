"""Refuse a pathway, site override or personal threshold that would be unsafe to run."""

from __future__ import annotations

from datetime import timedelta

from pathway.catalogue import RULES
from pathway.config import DEFAULT_ADVICE, PathwayConfig, Thresholds, UnsafeConfiguration
from pathway.model import Level

# Rules judged from readings of one type, so "the previous reading" is well defined.
CONFIRMABLE = frozenset(
    {
        "amber.spo2",
        "amber.systolic",
        "amber.pulse",
        "amber.weight_gain_3d",
        "amber.weight_gain_2d",
        "amber.weight_above_target",
        "amber.symptoms_worse",
        "trend.moving_average",
        "trend.macd",
    }
)


def _check(ok: bool, name: str, message: str) -> None:
    if not ok:
        raise UnsafeConfiguration(name, message)


_DEFAULT = Thresholds()


def validate_thresholds(t: Thresholds, prefix: str) -> None:
    # Emergency bands may be made stricter (catching more readings), never looser. A personal
    # red limit set further out than an emergency band takes the band with it (the rules keep
    # the band a step beyond red), so a patient whose usual pressure is low keeps a red band.
    _check(
        _DEFAULT.spo2_emergency_at_or_below <= t.spo2_emergency_at_or_below <= 96,
        f"{prefix}.spo2_emergency_at_or_below",
        f"must be between {_DEFAULT.spo2_emergency_at_or_below:g} and 96 %",
    )
    _check(
        _DEFAULT.systolic_emergency_below <= t.systolic_emergency_below <= 120,
        f"{prefix}.systolic_emergency_below",
        f"must be between {_DEFAULT.systolic_emergency_below} and 120 mmHg",
    )
    _check(
        _DEFAULT.pulse_low_emergency <= t.pulse_low_emergency <= 50,
        f"{prefix}.pulse_low_emergency",
        f"must be between {_DEFAULT.pulse_low_emergency} and 50 /min",
    )
    _check(
        110 <= t.pulse_high_emergency <= _DEFAULT.pulse_high_emergency,
        f"{prefix}.pulse_high_emergency",
        f"must be between 110 and {_DEFAULT.pulse_high_emergency} /min",
    )
    _check(
        85 <= t.spo2_red_at_or_below <= 96,
        f"{prefix}.spo2_red_at_or_below",
        "the red SpO2 floor must be between 85 and 96 %",
    )
    _check(
        t.spo2_red_at_or_below <= t.spo2_amber_at_or_below <= 98,
        f"{prefix}.spo2_amber_at_or_below",
        "must be at or above the red floor and at most 98 %",
    )
    _check(
        70 <= t.systolic_red_below <= 120,
        f"{prefix}.systolic_red_below",
        "must be between 70 and 120 mmHg",
    )
    _check(
        t.systolic_red_below <= t.systolic_amber_below <= 140,
        f"{prefix}.systolic_amber_below",
        "must be at or above the red limit and at most 140 mmHg",
    )
    _check(30 <= t.pulse_low_red <= 50, f"{prefix}.pulse_low_red", "must be 30-50 /min")
    _check(
        t.pulse_low_red <= t.pulse_low_amber <= 60,
        f"{prefix}.pulse_low_amber",
        "must be at or above the red limit and at most 60 /min",
    )
    _check(110 <= t.pulse_high_red <= 180, f"{prefix}.pulse_high_red", "must be 110-180 /min")
    _check(
        90 <= t.pulse_high_amber <= t.pulse_high_red,
        f"{prefix}.pulse_high_amber",
        "must be 90 /min or more and at or below the red limit",
    )
    _check(30 <= t.pulse_dizzy_below <= 60, f"{prefix}.pulse_dizzy_below", "must be 30-60 /min")
    _check(
        t.target_weight_kg is None or 25 <= t.target_weight_kg <= 350,
        f"{prefix}.target_weight_kg",
        "must be 25-350 kg",
    )
    _check(
        0 < t.weight_above_target_kg <= 5,
        f"{prefix}.weight_above_target_kg",
        "must be more than 0 and at most 5 kg",
    )


def _validate_gain(kg: float, days: int, name: str) -> None:
    _check(
        0 < kg <= 5, f"{name}_kg", "a weight gain threshold must be more than 0 and at most 5 kg"
    )
    _check(1 <= days <= 7, f"{name}_days", "must be 1-7 days")


def _validate_score(config: PathwayConfig) -> None:
    s = config.symptoms
    # Above 5 points no plausible combination of answers and weight could reach it.
    _check(0 < s.score_threshold <= 5, "symptoms.score_threshold", "must be more than 0, at most 5")
    _check(1 <= s.persist_days <= 7, "symptoms.persist_days", "must be 1-7 days")
    for name in (
        "breathlessness_points",
        "orthopnoea_points",
        "ankle_swelling_points",
        "dizziness_points",
        "fatigue_points",
        "points_per_kg",
        "spo2_points_per_percent",
        "pulse_points_per_10_bpm",
    ):
        _check(0 <= getattr(s, name) <= 5, f"symptoms.{name}", "must be 0-5 points")
    _check(
        max(s.orthopnoea_points, s.ankle_swelling_points, s.breathlessness_points) > 0,
        "symptoms.orthopnoea_points",
        "at least one sign of congestion must score",
    )
    _check(0 < s.weight_cap_kg <= 10, "symptoms.weight_cap_kg", "must be more than 0, at most 10")
    _check(0 <= s.spo2_free_percent <= 5, "symptoms.spo2_free_percent", "must be 0-5 %")
    _check(0 <= s.pulse_free_bpm <= 30, "symptoms.pulse_free_bpm", "must be 0-30 bpm")
    _check(3 <= s.min_vitals_baseline <= 28, "symptoms.min_vitals_baseline", "must be 3-28")
    _check(7 <= s.baseline_days <= 56, "symptoms.baseline_days", "must be 7-56 days")
    _check(
        s.persist_days <= s.baseline_gap_days <= 14,
        "symptoms.baseline_gap_days",
        "must be at least persist_days and at most 14 days",
    )
    _check(
        s.persist_days <= s.slow_sign_days <= s.baseline_gap_days,
        "symptoms.slow_sign_days",
        "must be at least persist_days and at most baseline_gap_days",
    )
    _check(0 <= s.prior_rate <= s.full_rate, "symptoms.prior_rate", "must be 0 to full_rate")
    _check(s.full_rate < s.usual_rate, "symptoms.full_rate", "must be below usual_rate")
    _check(0 <= s.prior_answers <= 100, "symptoms.prior_answers", "must be 0-100")
    _check(0 < s.usual_rate <= 1, "symptoms.usual_rate", "must be more than 0 and at most 1")


def validate(config: PathwayConfig) -> PathwayConfig:
    """Refuse a configuration that could hide a deterioration; the message names the field."""
    validate_thresholds(config.thresholds, "thresholds")
    w = config.weight
    _validate_gain(w.gain_3d_kg, w.gain_3d_days, "weight.gain_3d")
    _validate_gain(w.gain_2d_kg, w.gain_2d_days, "weight.gain_2d")
    _validate_gain(w.with_symptoms_kg, w.with_symptoms_days, "weight.with_symptoms")
    _check(1 <= w.symptom_days <= 7, "weight.symptom_days", "must be 1-7 days")
    _check(
        0 < config.symptoms.breathlessness_weight_kg <= 5,
        "symptoms.breathlessness_weight_kg",
        "must be more than 0 and at most 5 kg",
    )
    _validate_score(config)
    m = config.moving_average
    _check(7 <= m.baseline_days <= 42, "moving_average.baseline_days", "must be 7-42 days")
    _check(1 <= m.recent_days <= 7, "moving_average.recent_days", "must be 1-7 days")
    _check(0 < m.k_sd <= 5, "moving_average.k_sd", "must be more than 0 and at most 5")
    _check(
        0 < m.min_gain_kg <= 5, "moving_average.min_gain_kg", "must be more than 0 and at most 5 kg"
    )
    _check(0 < m.min_sd_kg <= 2, "moving_average.min_sd_kg", "must be more than 0 and at most 2 kg")
    _check(
        2 <= m.min_baseline_readings <= m.baseline_days,
        "moving_average.min_baseline_readings",
        "must be 2 to baseline_days",
    )
    _check(1 <= m.min_recent_readings <= 7, "moving_average.min_recent_readings", "must be 1-7")
    c = config.macd
    _check(
        1 <= c.fast_days < c.slow_days, "macd.fast_days", "must be at least 1 and below slow_days"
    )
    _check(c.slow_days <= 28, "macd.slow_days", "must be at most 28 days")
    _check(1 <= c.signal_days <= 28, "macd.signal_days", "must be 1-28 days")
    _check(0 < c.threshold_kg <= 5, "macd.threshold_kg", "must be more than 0 and at most 5 kg")
    _check(1 <= c.min_days <= 42, "macd.min_days", "must be 1-42 days")
    t = config.titration
    _check(
        4.5 <= t.potassium_amber_above <= t.potassium_red_above <= 6.5,
        "titration.potassium_amber_above",
        "must be 4.5-6.5 mmol/L and at most the red limit",
    )
    _check(
        100 <= t.creatinine_amber_above <= t.creatinine_red_above <= 500,
        "titration.creatinine_amber_above",
        "must be 100-500 umol/L and at most the red limit",
    )
    _check(10 <= t.creatinine_rise_pct <= 100, "titration.creatinine_rise_pct", "must be 10-100 %")
    _check(15 <= t.egfr_amber_below <= 60, "titration.egfr_amber_below", "must be 15-60")
    _check(
        10 <= t.egfr_red_below <= t.egfr_amber_below,
        "titration.egfr_red_below",
        "must be at least 10 and at most the amber limit",
    )
    _check(1 <= t.beta_blocker_days <= 56, "titration.beta_blocker_days", "must be 1-56 days")
    _check(
        40 <= t.beta_blocker_pulse_below <= 60,
        "titration.beta_blocker_pulse_below",
        "must be 40-60 /min",
    )
    _check(1 <= config.missed.expected_days <= 7, "missed.expected_days", "must be 1-7 days")
    unknown = sorted(config.disabled - RULES.keys())
    _check(not unknown, "disabled", f"unknown rule ids {unknown}")
    red = sorted(r for r in config.disabled if RULES[r].level is Level.RED)
    _check(not red, "disabled", f"red rules cannot be switched off: {red}")
    for rule_id, count in config.confirm.items():
        name = f"confirm.{rule_id}"
        _check(rule_id in RULES, name, "unknown rule id")
        _check(RULES[rule_id].level is Level.AMBER, name, "red rules are never held back")
        _check(rule_id in CONFIRMABLE, name, "only single-reading-type rules can be confirmed")
        _check(1 <= count <= 3, name, "must be 1-3 readings")
    s = config.symptoms
    longest = max(
        m.baseline_days + m.recent_days + w.symptom_days,
        s.baseline_gap_days + s.baseline_days,
        3 * c.slow_days,
        w.gain_3d_days + 1,
        t.beta_blocker_days,
    )
    _check(
        timedelta(days=longest) <= config.history_window <= timedelta(days=120),
        "history_window",
        f"must cover the longest rule look-back ({longest} days) and be at most 120 days",
    )
    for code in DEFAULT_ADVICE:
        _check(code in config.advice, f"advice.{code}", "missing advice text")
    for level in (Level.RED, Level.AMBER):
        _check(level in config.response_times, f"response_times.{level}", "missing")
    return config
