"""Pathway configuration: overrides, personal thresholds, validation, describe()."""

from __future__ import annotations

import dataclasses
import json
import pickle
from datetime import timedelta

import pytest

from pathway import (
    PATHWAY_VERSION,
    Cohort,
    PatientContext,
    PersonalThresholds,
    UnsafeConfiguration,
    default_pathway,
    describe,
    validate,
)
from pathway.catalogue import RULES


def test_default_is_versioned_and_valid() -> None:
    config = default_pathway()
    assert config.version == PATHWAY_VERSION == "mhf-2026.3"
    assert validate(config) is config


def test_overrides_layer_on_top_and_record_a_digest_in_the_version() -> None:
    config = default_pathway().with_overrides(
        {
            "thresholds": {"spo2_red_at_or_below": 90, "target_weight_kg": None},
            "weight": {"gain_3d_kg": 2.5},
            "symptoms": {"fatigue_alone": True},
            "history_window_days": 90,
            "advice": {"green": "Thank you. All is well."},
            "confirm": {"amber.spo2": 1},
            "disabled": ["trend.macd"],
        }
    )
    assert config.thresholds.spo2_red_at_or_below == 90.0
    assert config.weight.gain_3d_kg == 2.5
    assert config.symptoms.fatigue_alone is True
    assert config.history_window == timedelta(days=90)
    assert config.advice["green"].text == "Thank you. All is well."
    assert config.confirm["amber.spo2"] == 1
    assert config.disabled == frozenset({"trend.macd"})
    assert config.version.startswith(f"{PATHWAY_VERSION}+")
    again = default_pathway().with_overrides({"weight": {"gain_3d_kg": 2.5}})
    assert (
        again.version == default_pathway().with_overrides({"weight": {"gain_3d_kg": 2.5}}).version
    )
    assert again.version != config.version


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"thresholds": {"spo2_red_at_or_below": 84}}, "thresholds.spo2_red_at_or_below"),
        ({"thresholds": {"spo2_red_at_or_below": 85}}, None),
        ({"thresholds": {"spo2_amber_at_or_below": 91}}, "thresholds.spo2_amber_at_or_below"),
        ({"thresholds": {"systolic_red_below": 69}}, "thresholds.systolic_red_below"),
        ({"thresholds": {"systolic_red_below": 70, "systolic_amber_below": 80}}, None),
        ({"thresholds": {"systolic_amber_below": 85}}, "thresholds.systolic_amber_below"),
        ({"thresholds": {"pulse_low_red": 29}}, "thresholds.pulse_low_red"),
        ({"thresholds": {"pulse_low_amber": 39}}, "thresholds.pulse_low_amber"),
        ({"thresholds": {"pulse_high_red": 181}}, "thresholds.pulse_high_red"),
        ({"thresholds": {"pulse_high_amber": 140}}, "thresholds.pulse_high_amber"),
        ({"thresholds": {"pulse_dizzy_below": 61}}, "thresholds.pulse_dizzy_below"),
        ({"thresholds": {"target_weight_kg": 20}}, "thresholds.target_weight_kg"),
        ({"thresholds": {"weight_above_target_kg": 5.1}}, "thresholds.weight_above_target_kg"),
        ({"weight": {"gain_3d_kg": 5.1}}, "weight.gain_3d_kg"),
        ({"weight": {"gain_3d_kg": 5.0}}, None),
        ({"weight": {"gain_2d_kg": 0}}, "weight.gain_2d_kg"),
        ({"weight": {"with_symptoms_days": 8}}, "weight.with_symptoms_days"),
        ({"weight": {"symptom_days": 0}}, "weight.symptom_days"),
        ({"moving_average": {"baseline_days": 6}}, "moving_average.baseline_days"),
        ({"moving_average": {"recent_days": 8}}, "moving_average.recent_days"),
        ({"moving_average": {"k_sd": 0}}, "moving_average.k_sd"),
        ({"moving_average": {"min_gain_kg": 6}}, "moving_average.min_gain_kg"),
        ({"moving_average": {"min_sd_kg": 0}}, "moving_average.min_sd_kg"),
        ({"moving_average": {"min_baseline_readings": 1}}, "moving_average.min_baseline_readings"),
        ({"moving_average": {"min_recent_readings": 0}}, "moving_average.min_recent_readings"),
        ({"macd": {"fast_days": 20}}, "macd.fast_days"),
        ({"macd": {"slow_days": 29}}, "macd.slow_days"),
        ({"macd": {"signal_days": 0}}, "macd.signal_days"),
        ({"macd": {"threshold_kg": 0}}, "macd.threshold_kg"),
        ({"macd": {"min_days": 0}}, "macd.min_days"),
        ({"titration": {"potassium_red_above": 4.9}}, "titration.potassium_amber_above"),
        ({"titration": {"creatinine_amber_above": 99}}, "titration.creatinine_amber_above"),
        ({"titration": {"creatinine_rise_pct": 101}}, "titration.creatinine_rise_pct"),
        ({"titration": {"egfr_amber_below": 61}}, "titration.egfr_amber_below"),
        ({"titration": {"beta_blocker_days": 57}}, "titration.beta_blocker_days"),
        ({"titration": {"beta_blocker_pulse_below": 39}}, "titration.beta_blocker_pulse_below"),
        ({"missed": {"expected_days": 0}}, "missed.expected_days"),
        ({"disabled": ["red.spo2"]}, "disabled"),
        ({"disabled": ["no.such_rule"]}, "disabled"),
        ({"disabled": "amber.spo2"}, "disabled"),
        ({"history_window_days": 20}, "history_window"),
        ({"history_window_days": 121}, "history_window"),
        # The alert policy has no quiet period (pathway.alert_policy): refused, not ignored.
        ({"quiet_period_days": 7}, "quiet_period_days"),
        ({"confirm": {"red.spo2": 2}}, "confirm.red.spo2"),
        ({"confirm": {"no.rule": 2}}, "confirm.no.rule"),
        ({"confirm": {"amber.potassium": 2}}, "confirm.amber.potassium"),
        ({"confirm": {"amber.spo2": 4}}, "confirm.amber.spo2"),
        ({"confirm": ["amber.spo2"]}, "confirm"),
        ({"advice": {"green": ""}}, "advice.green"),
        ({"advice": {"purple": "Hello."}}, "advice.purple"),
        ({"advice": "Hello."}, "advice"),
        ({"thresholds": 5}, "thresholds"),
        ({"thresholds": {"colour": 5}}, "thresholds.colour"),
        ({"thresholds": {"pulse_low_red": 40.5}}, "thresholds.pulse_low_red"),
        ({"thresholds": {"pulse_low_red": True}}, "thresholds.pulse_low_red"),
        ({"symptoms": {"fatigue_alone": 1}}, "symptoms.fatigue_alone"),
        ({"symptoms": {"breathlessness_weight_kg": 0}}, "symptoms.breathlessness_weight_kg"),
        ({"symptoms": {"breathlessness_weight_kg": 6}}, "symptoms.breathlessness_weight_kg"),
        ({"symptoms": {"breathlessness_alone_repeat": 1}}, "symptoms.breathlessness_alone_repeat"),
        ({"symptoms": {"score": 1}}, "symptoms.score"),
        ({"symptoms": {"score_threshold": 0}}, "symptoms.score_threshold"),
        ({"symptoms": {"score_threshold": 5.5}}, "symptoms.score_threshold"),
        ({"symptoms": {"persist_days": 0}}, "symptoms.persist_days"),
        ({"symptoms": {"persist_days": 8}}, "symptoms.persist_days"),
        ({"symptoms": {"ankle_swelling_points": -1}}, "symptoms.ankle_swelling_points"),
        ({"symptoms": {"points_per_kg": 6}}, "symptoms.points_per_kg"),
        (
            {
                "symptoms": {
                    "breathlessness_points": 0,
                    "orthopnoea_points": 0,
                    "ankle_swelling_points": 0,
                }
            },
            "symptoms.orthopnoea_points",
        ),
        ({"symptoms": {"weight_cap_kg": 0}}, "symptoms.weight_cap_kg"),
        ({"symptoms": {"baseline_days": 6}}, "symptoms.baseline_days"),
        ({"symptoms": {"baseline_days": 57}}, "symptoms.baseline_days"),
        ({"symptoms": {"baseline_gap_days": 2}}, "symptoms.baseline_gap_days"),
        ({"symptoms": {"baseline_gap_days": 15}}, "symptoms.baseline_gap_days"),
        ({"symptoms": {"prior_rate": 0.06}}, "symptoms.prior_rate"),
        ({"symptoms": {"prior_rate": -0.01}}, "symptoms.prior_rate"),
        ({"symptoms": {"full_rate": 0.15}}, "symptoms.full_rate"),
        ({"symptoms": {"prior_answers": 101}}, "symptoms.prior_answers"),
        ({"symptoms": {"usual_rate": 1.1}}, "symptoms.usual_rate"),
        ({"symptoms": {"baseline_days": 56, "baseline_gap_days": 14}}, "history_window"),
        ({"symptoms": {"baseline_days": 49, "baseline_gap_days": 10}}, None),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_validation_names_the_field(overrides: dict[str, object], field: str | None) -> None:
    if field is None:
        default_pathway().with_overrides(overrides)
        return
    with pytest.raises(UnsafeConfiguration) as caught:
        default_pathway().with_overrides(overrides)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_missing_advice_or_response_time_is_refused() -> None:
    config = default_pathway()
    no_advice = dataclasses.replace(config, advice={})
    with pytest.raises(UnsafeConfiguration, match=r"advice\.emergency"):
        validate(no_advice)
    with pytest.raises(UnsafeConfiguration, match=r"response_times\.red"):
        validate(dataclasses.replace(config, response_times={}))


def test_personal_thresholds_layer_on_site_values() -> None:
    config = default_pathway().with_overrides({"thresholds": {"spo2_red_at_or_below": 90}})
    who = PatientContext("p", Cohort.NEW_DIAGNOSIS, PersonalThresholds(target_weight_kg=71.5))
    merged = config.thresholds_for(who)
    assert merged.target_weight_kg == 71.5
    assert merged.spo2_red_at_or_below == 90
    plain = PatientContext("p", Cohort.NEW_DIAGNOSIS)
    assert config.thresholds_for(plain) is config.thresholds


def test_unsafe_personal_threshold_is_refused() -> None:
    who = PatientContext("p", Cohort.NEW_DIAGNOSIS, PersonalThresholds(spo2_red_at_or_below=80))
    with pytest.raises(UnsafeConfiguration) as caught:
        default_pathway().thresholds_for(who)
    assert caught.value.field == "patient.thresholds.spo2_red_at_or_below"


def test_describe_is_json_and_lists_every_rule() -> None:
    data = describe(default_pathway())
    text = json.dumps(data)
    assert json.loads(text)["version"] == PATHWAY_VERSION
    listed = data["rules"]
    assert isinstance(listed, list)
    assert {rule["id"] for rule in listed} == set(RULES)
    rules = {rule["id"]: rule for rule in listed}
    assert rules["red.spo2"]["enabled"] is True
    assert rules["amber.potassium"]["cohort"] == "medication_optimisation"
    assert rules["trend.macd"]["parameters"] == "macd"
    assert data["response_times"]["red"]["working_hours"] == 4  # type: ignore[index]
    assert "lowest" in str(data["weight_gain_comparator"])


def test_rule_ids_are_stable_strings() -> None:
    for rule_id, spec in RULES.items():
        prefix = rule_id.split(".")[0]
        assert prefix in {"emergency", "red", "amber", "trend"}
        # an emergency finding is a red alert for the team; its advice is 999 for the patient
        expected = {"emergency": "red"}.get(prefix, prefix)
        assert prefix == "trend" or expected == spec.level.value


def test_unsafe_configuration_survives_pickling() -> None:
    error = pickle.loads(pickle.dumps(UnsafeConfiguration("macd.slow_days", "too long")))
    assert (error.field, error.detail, str(error)) == (
        "macd.slow_days",
        "too long",
        "macd.slow_days: too long",
    )


def test_the_tuned_default_rule_set() -> None:
    """Documented in pathway/README.md: what the default changes from the domain table."""
    config = default_pathway()
    assert config.disabled == {
        "amber.weight_gain_3d",
        "amber.weight_gain_2d",
        "amber.weight_above_target",
    }
    assert all(RULES[r].level.value == "amber" for r in config.disabled)
    s = config.symptoms
    # mhf-2026.2 (issue 15): worse answers are scored, no single one raises the amber;
    # mhf-2026.3: slow signs over 5 days, home vitals against their baselines, rarer baselines
    assert (s.score, s.score_threshold, s.persist_days, s.slow_sign_days) == (True, 3.0, 3, 5)
    assert (
        s.breathlessness_points,
        s.orthopnoea_points,
        s.ankle_swelling_points,
        s.dizziness_points,
        s.fatigue_points,
        s.points_per_kg,
        s.weight_cap_kg,
    ) == (0.5, 1.0, 1.0, 0.4, 0.0, 0.7, 3.0)
    assert (s.spo2_points_per_percent, s.spo2_free_percent) == (1.0, 1.0)
    assert (s.pulse_points_per_10_bpm, s.pulse_free_bpm, s.min_vitals_baseline) == (1.0, 8.0, 5)
    assert (s.baseline_days, s.baseline_gap_days, s.prior_rate, s.prior_answers) == (
        42,
        7,
        0.02,
        10,
    )
    assert (s.full_rate, s.usual_rate) == (0.03, 0.10)
    # the single-answer settings a site gets back with score = false
    assert s.fatigue_alone is False
    assert s.breathlessness_alone_repeat is True
    assert s.breathlessness_weight_kg == 1.0
    assert (config.moving_average.k_sd, config.moving_average.min_gain_kg) == (2.5, 3.0)
    assert (config.macd.slow_days, config.macd.threshold_kg) == (18.0, 1.4)
    assert dict(config.confirm) == {
        "amber.spo2": 2,
        "amber.systolic": 2,
        "amber.pulse": 2,
        "amber.weight_gain_3d": 2,
    }
