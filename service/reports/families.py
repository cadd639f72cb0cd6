"""Families: the rows metrics are read from, one query for every metric of a kind.

A family is one query over ``patients`` and what is counted about them (this month's patients,
alerts raised in the month, the month's events, each HFrEF patient's latest medicines...). A
metric names its family and says which of the family's rows it counts and what each row
contributes (``service.reports.metrics``). So the caseload metrics share one scan of patients,
the alert metrics one scan of alerts, and a report reads each family once for all its metrics.

Every family has ``patients`` in its FROM, unaliased, so the group a row falls in (a column of
the patient or of the patient's team) can be added to the family's own query, without joining
its rows back to patients.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Date,
    Float,
    Integer,
    and_,
    case,
    cast,
    distinct,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.sql.elements import ColumnElement

from service.models import (
    Alert,
    KccqScore,
    MedicationChange,
    Patient,
    PatientContact,
    PatientEvent,
    Reading,
)
from service.models.patients import PILLARS
from service.models.readings import READING_LOCAL_DATE
from service.reports.context import Ctx
from service.reports.sqlfuncs import days_between, epoch_seconds, greatest, least


@dataclass(frozen=True)
class Family:
    name: str
    rows: Callable[[Ctx], Any]
    # At most one row per patient: the people behind a figure are its rows, not a distinct count.
    per_patient: bool = False

    def cte(self, ctx: Ctx) -> Any:
        return ctx.cte(self.name, self.rows)


# --- predicates -------------------------------------------------------------------------------


def in_days(column: Any, ctx: Ctx) -> ColumnElement[bool]:
    return and_(column >= ctx.first_day, column <= ctx.last_day)


def in_instants(column: Any, ctx: Ctx) -> ColumnElement[bool]:
    return and_(column >= ctx.start_utc, column < ctx.end_utc)


def active_in_period(ctx: Ctx, enrolled_on: Any, discharged_on: Any) -> ColumnElement[bool]:
    return and_(
        enrolled_on <= ctx.last_day,
        or_(discharged_on.is_(None), discharged_on >= ctx.first_day),
    )


def active_at_end(ctx: Ctx, enrolled_on: Any, discharged_on: Any) -> ColumnElement[bool]:
    return and_(
        enrolled_on <= ctx.last_day,
        or_(discharged_on.is_(None), discharged_on > ctx.last_day),
    )


def _days_in_period(ctx: Ctx) -> ColumnElement[int]:
    """Calendar days of the period the patient was on the pathway (enrolment and discharge
    days included)."""
    first = greatest(Patient.enrolled_on, ctx.first_day)
    last = least(func.coalesce(Patient.discharged_on, ctx.last_day), ctx.last_day)
    return days_between(last, first) + 1


def _during_monitoring(day: Any) -> ColumnElement[bool]:
    """Outcomes count while the patient is on the pathway: an admission before enrolment is the
    reason for referral, not an outcome of the service."""
    return and_(
        day >= Patient.enrolled_on,
        or_(Patient.discharged_on.is_(None), day <= Patient.discharged_on),
    )


def _hfref_at_end(ctx: Ctx) -> ColumnElement[bool]:
    return and_(
        Patient.hf_type == "HFrEF",
        active_at_end(ctx, Patient.enrolled_on, Patient.discharged_on),
    )


# --- caseload and flow ------------------------------------------------------------------------


def _month_patients(ctx: Ctx) -> Any:
    """The patients any caseload or flow metric of the month can count: referred, enrolled,
    on the pathway or discharged in it."""
    return select(
        Patient.id.label("patient_id"),
        Patient.created_at,
        Patient.enrolled_on,
        Patient.discharged_on,
        Patient.discharge_reason,
    ).where(
        or_(
            in_instants(Patient.created_at, ctx),
            in_days(Patient.enrolled_on, ctx),
            active_in_period(ctx, Patient.enrolled_on, Patient.discharged_on),
            in_days(Patient.discharged_on, ctx),
        )
    )


MONTH_PATIENTS = Family("month_patients", _month_patients, per_patient=True)


# --- adherence --------------------------------------------------------------------------------


def _weight_days(ctx: Ctx) -> Any:
    """Each patient expecting daily weights and on the pathway in the period: the calendar days
    of the period on the pathway, and how many of them have a weight.

    The days with a weight are counted per patient from the stored London date
    ``readings.local_date``, through the partial index on (patient_id, local_date): one
    index-only range scan per patient over the patient's days of the month, counted as it is
    read. The literal ``type = 'weight'`` (not a bound parameter) is what lets both databases
    match the partial index.
    """
    day = READING_LOCAL_DATE
    first = greatest(Patient.enrolled_on, ctx.first_day)
    last = least(func.coalesce(Patient.discharged_on, ctx.last_day), ctx.last_day)
    with_weight = (
        select(func.count(distinct(day)))
        .where(
            Reading.patient_id == Patient.id,
            text("readings.type = 'weight'"),
            day >= first,
            day <= last,
        )
        .scalar_subquery()
    )
    return select(
        Patient.id.label("patient_id"),
        with_weight.label("days_with_weight"),
        _days_in_period(ctx).label("expected_days"),
    ).where(
        Patient.expects_daily_weight.is_(True),
        active_in_period(ctx, Patient.enrolled_on, Patient.discharged_on),
    )


WEIGHT_DAYS = Family("weight_days", _weight_days, per_patient=True)


# --- alerts -----------------------------------------------------------------------------------


def _month_alerts(ctx: Ctx) -> Any:
    """Alerts raised or resolved in the month, with the hours from raised to the first action."""
    seconds = epoch_seconds(Alert.first_action_at) - epoch_seconds(Alert.raised_at)
    return (
        select(
            Alert.patient_id,
            Alert.severity,
            Alert.raised_at,
            Alert.due_at,
            Alert.first_action_at,
            (cast(seconds, Float) / literal(3600.0, Float)).label("hours_to_first_action"),
            Alert.resolved_at,
            Alert.outcome,
        )
        .join(Patient, Patient.id == Alert.patient_id)
        .where(
            Alert.kind == "alert",
            or_(in_instants(Alert.raised_at, ctx), in_instants(Alert.resolved_at, ctx)),
        )
    )


MONTH_ALERTS = Family("month_alerts", _month_alerts)


def _month_tasks(ctx: Ctx) -> Any:
    """Tasks the service raised for the team (post-discharge reviews) raised in the month."""
    return (
        select(
            Alert.patient_id,
            Alert.alert_group,
            Alert.raised_at,
            Alert.due_at,
            Alert.resolved_at,
            Alert.outcome,
        )
        .join(Patient, Patient.id == Alert.patient_id)
        .where(Alert.kind == "task", in_instants(Alert.raised_at, ctx))
    )


MONTH_TASKS = Family("month_tasks", _month_tasks)


def _alert_exposure(ctx: Ctx) -> Any:
    """Each patient on the pathway in the period or with an alert raised in it: the alerts
    raised, and the patient-days on the pathway (0 for a patient not on it)."""
    raised = (
        select(Alert.patient_id, func.count().label("alerts"))
        .where(Alert.kind == "alert", in_instants(Alert.raised_at, ctx))
        .group_by(Alert.patient_id)
        .subquery("alerts_by_patient")
    )
    active = active_in_period(ctx, Patient.enrolled_on, Patient.discharged_on)
    return (
        select(
            Patient.id.label("patient_id"),
            func.coalesce(raised.c.alerts, 0).label("alerts"),
            case((active, _days_in_period(ctx)), else_=0).label("patient_days"),
        )
        .select_from(Patient)
        .outerjoin(raised, raised.c.patient_id == Patient.id)
        .where(or_(active, raised.c.patient_id.is_not(None)))
    )


ALERT_EXPOSURE = Family("alert_exposure", _alert_exposure, per_patient=True)


def _staff_time(ctx: Ctx) -> Any:
    """Each patient on the pathway in the period, or with staff time recorded in it: the
    patient-days on the pathway (as ``ALERT_EXPOSURE`` counts them), the minutes said on the
    alerts and review tasks resolved in the period and how many said them, and the contacts of
    the period (by when they happened) with their minutes.

    Queue items resolved without minutes are left out of both sums: nobody said the time, and
    the reports cost what was said.
    """
    timed = (
        select(
            Alert.patient_id,
            func.count().label("alerts_timed"),
            func.sum(Alert.minutes_spent).label("alert_minutes"),
        )
        .where(Alert.minutes_spent.is_not(None), in_instants(Alert.resolved_at, ctx))
        .group_by(Alert.patient_id)
        .subquery("alert_minutes_by_patient")
    )
    contacts = (
        select(
            PatientContact.patient_id,
            func.count().label("contacts"),
            func.sum(PatientContact.minutes).label("contact_minutes"),
        )
        .where(in_instants(PatientContact.occurred_at, ctx))
        .group_by(PatientContact.patient_id)
        .subquery("contacts_by_patient")
    )
    active = active_in_period(ctx, Patient.enrolled_on, Patient.discharged_on)
    return (
        select(
            Patient.id.label("patient_id"),
            case((active, _days_in_period(ctx)), else_=0).label("patient_days"),
            func.coalesce(timed.c.alerts_timed, 0).label("alerts_timed"),
            func.coalesce(timed.c.alert_minutes, 0).label("alert_minutes"),
            func.coalesce(contacts.c.contacts, 0).label("contacts"),
            func.coalesce(contacts.c.contact_minutes, 0).label("contact_minutes"),
        )
        .select_from(Patient)
        .outerjoin(timed, timed.c.patient_id == Patient.id)
        .outerjoin(contacts, contacts.c.patient_id == Patient.id)
        .where(or_(active, timed.c.patient_id.is_not(None), contacts.c.patient_id.is_not(None)))
    )


STAFF_TIME = Family("staff_time", _staff_time, per_patient=True)


# --- outcomes ---------------------------------------------------------------------------------


def _events(ctx: Ctx) -> Any:
    """Events of the month while the patient was on the pathway, with the patient's NHS number
    (readmissions look for earlier episodes of the same person)."""
    return (
        select(
            PatientEvent.id,
            PatientEvent.patient_id,
            PatientEvent.kind,
            PatientEvent.occurred_on,
            PatientEvent.hf_related,
            PatientEvent.emergency,
            Patient.nhs_number,
        )
        .join(Patient, Patient.id == PatientEvent.patient_id)
        .where(
            in_days(PatientEvent.occurred_on, ctx),
            _during_monitoring(PatientEvent.occurred_on),
        )
    )


EVENTS = Family("events", _events)


def _hospital_stays(ctx: Ctx) -> Any:
    """Admissions while on the pathway with nights in hospital in the period: each night counts
    in the month it starts, and a stay still open counts up to the period end."""
    stay_end = least(
        func.coalesce(PatientEvent.discharged_on, ctx.after_last_day), ctx.after_last_day
    )
    stay_start = greatest(PatientEvent.occurred_on, ctx.first_day)
    nights = days_between(stay_end, stay_start)
    return (
        select(PatientEvent.patient_id, nights.label("nights"))
        .join(Patient, Patient.id == PatientEvent.patient_id)
        .where(
            PatientEvent.kind == "admission",
            PatientEvent.occurred_on <= ctx.last_day,
            _during_monitoring(PatientEvent.occurred_on),
            nights > 0,
        )
    )


HOSPITAL_STAYS = Family("hospital_stays", _hospital_stays)


# --- medicines --------------------------------------------------------------------------------


def _latest_medicines(ctx: Ctx) -> Any:
    """Each HFrEF patient's latest record per pillar on or before the last day, a row per
    patient: ``<pillar>_status`` and ``<pillar>_at_target`` (1 or 0) for each pillar.

    Ranked with ROW_NUMBER() over the records of the patients in scope, all four pillars in one
    pass (a join, not a correlated LIMIT 1 per patient and pillar), then turned into one row per
    patient.
    """
    rank = func.row_number().over(
        partition_by=(MedicationChange.patient_id, MedicationChange.pillar),
        order_by=(
            MedicationChange.changed_on.desc(),
            MedicationChange.recorded_at.desc(),
            MedicationChange.id.desc(),
        ),
    )
    ranked = (
        select(
            MedicationChange.patient_id,
            MedicationChange.pillar,
            MedicationChange.status,
            MedicationChange.at_target_or_max_tolerated,
            rank.label("rn"),
        )
        .join(Patient, Patient.id == MedicationChange.patient_id)
        .where(MedicationChange.changed_on <= ctx.last_day, _hfref_at_end(ctx))
        .subquery("ranked_medicines")
    )
    columns = []
    for pillar in PILLARS:
        this = ranked.c.pillar == pillar
        at_target = and_(this, ranked.c.at_target_or_max_tolerated.is_(True))
        columns.append(func.max(case((this, ranked.c.status))).label(f"{pillar}_status"))
        columns.append(
            func.max(case((at_target, literal_column("1", Integer)), else_=0)).label(
                f"{pillar}_at_target"
            )
        )
    return (
        select(ranked.c.patient_id, *columns)
        .where(ranked.c.rn == 1)
        .group_by(ranked.c.patient_id)
        .subquery("latest_medicines")
    )


def _hfref_medicines(ctx: Ctx) -> Any:
    """HFrEF patients on the pathway at month end, with their latest record per pillar (none
    for a pillar never recorded)."""
    latest = _latest_medicines(ctx)
    pillars = [latest.c[f"{p}_{what}"] for p in PILLARS for what in ("status", "at_target")]
    return (
        select(Patient.id.label("patient_id"), *pillars)
        .select_from(Patient)
        .outerjoin(latest, latest.c.patient_id == Patient.id)
        .where(_hfref_at_end(ctx))
    )


HFREF_MEDICINES = Family("hfref_medicines", _hfref_medicines, per_patient=True)


def _optimised(ctx: Ctx) -> Any:
    """HFrEF patients optimised in the month, with the days from enrolment.

    A pillar is settled from the first record at target or maximum tolerated dose, or ruled out
    (not tolerated, contraindicated); a patient is optimised when all four are settled.
    Optimised in the month means the last pillar settled in the month, on a settling record
    dated in the month: only those patients' histories need reading, not every patient's.
    """
    settles = or_(
        and_(
            MedicationChange.status == "started",
            MedicationChange.at_target_or_max_tolerated.is_(True),
        ),
        MedicationChange.status.in_(("not_tolerated", "contraindicated")),
    )
    candidates = select(MedicationChange.patient_id).where(
        settles, in_days(MedicationChange.changed_on, ctx)
    )
    settled = (
        select(
            MedicationChange.patient_id,
            MedicationChange.pillar,
            func.min(MedicationChange.changed_on).label("settled_on"),
        )
        .where(settles, MedicationChange.patient_id.in_(candidates))
        .group_by(MedicationChange.patient_id, MedicationChange.pillar)
        .subquery("settled")
    )
    optimised = (
        select(settled.c.patient_id, func.max(settled.c.settled_on).label("optimised_on"))
        .group_by(settled.c.patient_id)
        # A row per settled pillar (grouped above): all four settled.
        .having(func.count() == len(PILLARS))
        .subquery("optimised_on")
    )
    return (
        select(
            Patient.id.label("patient_id"),
            days_between(optimised.c.optimised_on, Patient.enrolled_on).label("days_to_optimise"),
        )
        .join(optimised, optimised.c.patient_id == Patient.id)
        .where(
            Patient.hf_type == "HFrEF",
            in_days(optimised.c.optimised_on, ctx),
            optimised.c.optimised_on >= Patient.enrolled_on,
        )
    )


OPTIMISED = Family("optimised", _optimised, per_patient=True)


# --- KCCQ-12 ----------------------------------------------------------------------------------

KCCQ_EPOCH = date(2000, 1, 1)


def _kccq_pairs(ctx: Ctx) -> Any:
    """Patients discharged from monitoring in the period with a start and a discharge score:
    the first start score and the last discharge score.

    One ROW_NUMBER() over the start and discharge scores of the month's discharges only (a join,
    not a correlated subquery per patient, so PostgreSQL costs it for the rows it reads and does
    not JIT-compile it): earliest first for the start timepoint, latest first for discharge.
    """
    day = days_between(KccqScore.assessed_on, literal(KCCQ_EPOCH, Date))
    is_start = KccqScore.timepoint == "start"
    rank = func.row_number().over(
        partition_by=(KccqScore.patient_id, KccqScore.timepoint),
        order_by=(
            case((is_start, day), else_=-day),
            KccqScore.recorded_at.desc(),
            KccqScore.id.desc(),
        ),
    )
    ranked = (
        select(KccqScore.patient_id, KccqScore.timepoint, KccqScore.score, rank.label("rn"))
        .join(Patient, Patient.id == KccqScore.patient_id)
        .where(
            KccqScore.timepoint.in_(("start", "discharge")),
            in_days(Patient.discharged_on, ctx),
        )
        .subquery("kccq_ranked")
    )
    pairs = (
        select(
            ranked.c.patient_id,
            func.max(case((ranked.c.timepoint == "start", ranked.c.score))).label("start_score"),
            func.max(case((ranked.c.timepoint == "discharge", ranked.c.score))).label(
                "discharge_score"
            ),
        )
        .where(ranked.c.rn == 1)
        .group_by(ranked.c.patient_id)
        # One chosen score per timepoint: two rows means both were recorded.
        .having(func.count() == 2)
        .subquery("kccq_pairs")
    )
    return select(
        Patient.id.label("patient_id"), pairs.c.start_score, pairs.c.discharge_score
    ).join(pairs, pairs.c.patient_id == Patient.id)


KCCQ_PAIRS = Family("kccq_pairs", _kccq_pairs, per_patient=True)
