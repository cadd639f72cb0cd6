"""Emergency bands beyond red: "call 999 now" at any hour, never a later call from the team."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from pathway import default_pathway, evaluate
from pathway.config import UnsafeConfiguration
from tests.pathway.tables import bp, fired, hr, o2, patient

NO_LATER_CALL = ("team will call", "will call you", "today", "tomorrow")


@pytest.mark.parametrize(
    ("reading", "expected"),
    [
        (o2(0, 82), {"emergency.spo2"}),
        (o2(0, 88), {"emergency.spo2"}),
        (o2(0, 89), {"red.spo2"}),
        (hr(0, 34), {"emergency.pulse"}),
        (hr(0, 35), {"emergency.pulse"}),
        (hr(0, 36), {"red.pulse"}),
        (hr(0, 149), {"red.pulse"}),
        (hr(0, 150), {"emergency.pulse"}),
        (bp(0, 72, 40), {"emergency.systolic"}),
        (bp(0, 79, 40), {"emergency.systolic"}),
        (bp(0, 80, 40), {"red.systolic"}),
    ],
)
def test_the_bands_beyond_red(reading, expected):
    assert fired([reading]) == expected


@pytest.mark.parametrize("reading", [o2(0, 82), hr(0, 34), bp(0, 72, 40)])
@pytest.mark.parametrize("hhmm", ["02:05", "09:00", "17:59", "23:30"])
def test_an_extreme_reading_tells_the_patient_to_call_999_now_at_any_hour(reading, hhmm):
    at = reading.taken_at.replace(hour=int(hhmm[:2]), minute=int(hhmm[3:]))
    timed = dataclasses.replace(reading, taken_at=at)
    advice = evaluate(default_pathway(), patient(), [], [timed], at + timedelta(minutes=1)).advice
    assert advice.code == "emergency"
    assert advice.text.startswith("Call 999 now")
    assert not any(words in advice.text.lower() for words in NO_LATER_CALL)


def test_a_personal_red_limit_beyond_the_band_takes_the_band_with_it():
    # a patient whose usual pressure is low: red below 80, so 79 is red and 78 is 999
    who = patient(systolic_red_below=80)
    assert fired([bp(0, 79, 40)], who=who) == {"red.systolic"}
    assert fired([bp(0, 78, 40)], who=who) == {"emergency.systolic"}
    assert fired([o2(0, 88)], who=patient(spo2_red_at_or_below=88)) == {"red.spo2"}
    assert fired([o2(0, 87)], who=patient(spo2_red_at_or_below=88)) == {"emergency.spo2"}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (
            {"thresholds": {"spo2_emergency_at_or_below": 85}},
            "thresholds.spo2_emergency_at_or_below",
        ),
        ({"thresholds": {"systolic_emergency_below": 75}}, "thresholds.systolic_emergency_below"),
        ({"thresholds": {"pulse_low_emergency": 30}}, "thresholds.pulse_low_emergency"),
        ({"thresholds": {"pulse_high_emergency": 170}}, "thresholds.pulse_high_emergency"),
        ({"disabled": ["emergency.spo2"]}, "disabled"),
    ],
)
def test_a_site_may_not_loosen_or_switch_off_the_emergency_bands(overrides, field):
    with pytest.raises(UnsafeConfiguration) as caught:
        default_pathway().with_overrides(overrides)
    assert caught.value.field == field


def test_a_site_may_make_them_stricter():
    config = default_pathway().with_overrides(
        {"thresholds": {"spo2_emergency_at_or_below": 90, "pulse_high_emergency": 140}}
    )
    assert fired([o2(0, 90)], config=config) == {"emergency.spo2"}
    assert fired([hr(0, 140)], config=config) == {"emergency.pulse"}
