"""Small builders so spec tests read as tables of dated readings.

Days are counted from DAY0 (a Monday in winter, GMT) and times are Europe/London wall-clock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pathway import (
    AnkleSwelling,
    Breathlessness,
    Cohort,
    Fatigue,
    PathwayConfig,
    PatientContext,
    PersonalThresholds,
    Reading,
    ReadingType,
    SymptomAnswers,
    default_pathway,
    evaluate,
    validate,
)

LONDON = ZoneInfo("Europe/London")
DAY0 = date(2026, 3, 2)


def at(day: int, hhmm: str = "08:00", base: date = DAY0) -> datetime:
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return datetime.combine(base + timedelta(days=day), time(hours, minutes), LONDON)


def _id(kind: str, day: int, hhmm: str) -> str:
    return f"{kind}{day:+d}@{hhmm}"


def w(day: int, kg: float, hhmm: str = "08:00", base: date = DAY0) -> Reading:
    return Reading(_id("w", day, hhmm), ReadingType.WEIGHT, at(day, hhmm, base), value=kg)


def bp(day: int, systolic: int, diastolic: int = 70, hhmm: str = "08:05") -> Reading:
    return Reading(
        _id("bp", day, hhmm),
        ReadingType.BLOOD_PRESSURE,
        at(day, hhmm),
        systolic=systolic,
        diastolic=diastolic,
    )


def hr(day: int, bpm: float, hhmm: str = "08:05", base: date = DAY0) -> Reading:
    return Reading(_id("hr", day, hhmm), ReadingType.HEART_RATE, at(day, hhmm, base), value=bpm)


def o2(day: int, pct: float, hhmm: str = "08:06") -> Reading:
    return Reading(_id("o2", day, hhmm), ReadingType.SPO2, at(day, hhmm), value=pct)


def lab(kind: ReadingType, day: int, result: float, hhmm: str = "12:00") -> Reading:
    return Reading(_id(kind.value[:3], day, hhmm), kind, at(day, hhmm), value=result)


def sym(day: int, hhmm: str = "08:10", base: date = DAY0, /, **answers: object) -> Reading:
    # Positional-only time: every keyword is an answer, so a spread dict of answers type-checks.
    converters = {
        "breathlessness": Breathlessness,
        "ankle_swelling": AnkleSwelling,
        "fatigue": Fatigue,
    }
    values = {k: converters[k](str(v)) if k in converters else v for k, v in answers.items()}
    return Reading(
        _id("s", day, hhmm),
        ReadingType.SYMPTOMS,
        at(day, hhmm, base),
        symptoms=SymptomAnswers(**values),  # type: ignore[arg-type]
    )


def domain_table() -> PathwayConfig:
    """Every rule on, no re-measure step and one worse answer raising the amber: the domain
    table exactly as written."""
    return validate(
        dataclasses.replace(
            default_pathway(),
            disabled=frozenset(),
            confirm={},
            symptoms=dataclasses.replace(
                default_pathway().symptoms,
                score=False,
                fatigue_alone=True,
                breathlessness_alone_repeat=False,
            ),
        )
    )


def patient(
    cohort: Cohort = Cohort.POST_DISCHARGE, **thresholds: float | int | None
) -> PatientContext:
    return PatientContext("p1", cohort, PersonalThresholds(**thresholds))  # type: ignore[arg-type]


def fired(
    rows: Iterable[Reading],
    new: int = 1,
    config: PathwayConfig | None = None,
    who: PatientContext | None = None,
) -> set[str]:
    """Rule ids raised when the last `new` rows (in table order) arrive after the others."""
    readings = list(rows)
    history, arrived = readings[: len(readings) - new], readings[len(readings) - new :]
    now = max(r.taken_at for r in readings) + timedelta(minutes=1)
    result = evaluate(config or domain_table(), who or patient(), history, arrived, now)
    return {f.rule_id for f in result.findings}
