"""Outcomes the teams record as patient events: emergency admissions, readmissions, bed days,
A&E attendances, deaths, and heart-failure admissions an alert came before (``EVENTS``,
``HOSPITAL_STAYS``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from service.models import Alert, Patient, PatientEvent
from service.reports.context import ALERT_LOOKBACK_DAYS, Ctx
from service.reports.families import EVENTS, HOSPITAL_STAYS
from service.reports.metrics.registry import OUTCOMES, Measure, Metric, flag, one, register
from service.reports.sqlfuncs import days_between

READMISSION_DAYS = 30


def _emergency_admission(ev: Any) -> ColumnElement[bool]:
    return and_(ev.kind == "admission", ev.emergency.is_(True))


def _emergency_hf_admission(ctx: Ctx, ev: Any) -> ColumnElement[bool]:
    return and_(_emergency_admission(ev), ev.hf_related.is_(True))


def _admissions(hf_only: bool) -> Measure:
    if hf_only:
        return Measure(EVENTS, where=_emergency_hf_admission)
    return Measure(EVENTS, where=lambda ctx, ev: _emergency_admission(ev))


def _readmitted(ctx: Ctx, ev: Any) -> ColumnElement[bool]:
    earlier = aliased(PatientEvent)
    earlier_episode = aliased(Patient)
    # A previous admission of the same person: re-enrolment makes a new patient row, so match on
    # the NHS number to see admissions from an earlier episode too.
    previous = exists().where(
        earlier.patient_id == earlier_episode.id,
        earlier_episode.nhs_number == ev.nhs_number,
        earlier.kind == "admission",
        earlier.id != ev.id,
        earlier.discharged_on.is_not(None),
        earlier.discharged_on <= ev.occurred_on,
        days_between(ev.occurred_on, earlier.discharged_on) <= READMISSION_DAYS,
    )
    return and_(_emergency_admission(ev), previous)


_readmissions = Measure(EVENTS, where=_readmitted)
_bed_days = Measure(HOSPITAL_STAYS, num=lambda ctx, stay: stay.nights)


def _kind(kind: str) -> Measure:
    return Measure(EVENTS, where=lambda ctx, ev: ev.kind == kind)


def _alerted_before(ctx: Ctx, ev: Any) -> ColumnElement[int]:
    alert_day = ctx.london_date(Alert.raised_at)
    before = exists().where(
        Alert.patient_id == ev.patient_id,
        Alert.kind == "alert",
        Alert.raised_at >= ctx.lookback_utc,
        Alert.raised_at < ctx.end_utc,
        days_between(ev.occurred_on, alert_day).between(0, ALERT_LOOKBACK_DAYS),
    )
    return flag(before)


_hf_admission_after_alert = Measure(
    EVENTS, where=_emergency_hf_admission, num=_alerted_before, den=one
)


register(
    Metric(
        "admissions_hf",
        "Heart-failure emergency admissions",
        OUTCOMES,
        "count",
        "admissions",
        "Emergency admissions related to heart failure, admitted in the month",
        None,
        "Recorded by the team as patient events, while the patient was on the pathway.",
        _admissions(hf_only=True),
        higher_is_better=False,
    )
)
register(
    Metric(
        "admissions_all_cause",
        "All-cause emergency admissions",
        OUTCOMES,
        "count",
        "admissions",
        "Emergency admissions, admitted in the month",
        None,
        "Recorded by the team as patient events, while the patient was on the pathway.",
        _admissions(hf_only=False),
        higher_is_better=False,
    )
)
register(
    Metric(
        "readmissions_30d",
        "30-day readmissions",
        OUTCOMES,
        "count",
        "admissions",
        "Emergency admissions in the month within 30 days of discharge from an earlier admission",
        None,
        "Earlier admissions include those before enrolment and in earlier episodes of the same "
        "person (matched on NHS number).",
        _readmissions,
        higher_is_better=False,
    )
)
register(
    Metric(
        "bed_days",
        "Bed days",
        OUTCOMES,
        "sum",
        "bed days",
        "Nights in hospital falling in the month, admissions while on the pathway",
        None,
        "Each night is counted in the month it starts; a stay not yet ended counts to the "
        "month end.",
        _bed_days,
        higher_is_better=False,
    )
)
register(
    Metric(
        "ae_attendances",
        "A&E attendances",
        OUTCOMES,
        "count",
        "attendances",
        "A&E attendances in the month",
        None,
        "Recorded by the team as patient events.",
        _kind("ae_attendance"),
        higher_is_better=False,
    )
)
register(
    Metric(
        "deaths",
        "Deaths",
        OUTCOMES,
        "count",
        "patients",
        "Deaths in the month",
        None,
        "Deaths while on the pathway, recorded by the team.",
        _kind("death"),
    )
)
register(
    Metric(
        "hf_admissions_preceded_by_alert",
        "HF admissions preceded by an alert",
        OUTCOMES,
        "proportion",
        "%",
        "Heart-failure admissions with an alert for the patient in the 14 days before",
        "Heart-failure emergency admissions in the month",
        "Alerts raised on the London calendar day of admission or the 14 days before.",
        _hf_admission_after_alert,
        higher_is_better=True,
    )
)
