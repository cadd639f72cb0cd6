"""The metric registry: every site and network measure as a named definition with its SQL.

A metric reads the rows of one family (``service.reports.families``): which rows it counts
(``where``) and what each contributes, ``num`` and ``den`` for counts, sums, proportions and
rates, ``val`` for medians and percentiles. Its *unit query*, one row per thing counted with the
patient it belongs to, is that selection from the family's rows: it is the SQL published beside
the metric's values, and what ``service.reports.runner.compute`` groups one metric by. A report
reads each family once for all its metrics (``compute_all``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from sqlalchemy import (
    Float,
    Integer,
    Select,
    and_,
    case,
    cast,
    exists,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from service.models import Alert, Patient, PatientEvent
from service.models.patients import DISCHARGE_REASONS, PILLARS
from service.reports.context import ALERT_LOOKBACK_DAYS, Ctx
from service.reports.families import (
    ALERT_EXPOSURE,
    EVENTS,
    HFREF_MEDICINES,
    HOSPITAL_STAYS,
    KCCQ_PAIRS,
    MONTH_ALERTS,
    MONTH_PATIENTS,
    OPTIMISED,
    WEIGHT_DAYS,
    Family,
    active_at_end,
    active_in_period,
    in_days,
    in_instants,
)
from service.reports.period import Period
from service.reports.sqlfuncs import days_between

Kind = Literal["count", "sum", "proportion", "rate", "median", "percentile"]
ADDITIVE_KINDS = ("count", "sum", "proportion", "rate")
READMISSION_DAYS = 30
KCCQ_MEANINGFUL_CHANGE = 5.0
PILLAR_TITLES = {
    "acei_arb_arni": "ACE inhibitor, ARB or ARNI",
    "beta_blocker": "beta-blocker",
    "mra": "MRA",
    "sglt2i": "SGLT2 inhibitor",
}

# An expression over the period and one row of a family (its CTE's columns).
RowExpression = Callable[[Ctx, Any], ColumnElement[Any]]


def _one(ctx: Ctx, row: Any) -> ColumnElement[int]:
    return literal_column("1", Integer)


@dataclass(frozen=True)
class Measure:
    """What a metric reads from its family's rows."""

    family: Family
    # The rows that are units of the metric; every row when None.
    where: RowExpression | None = None
    # What a unit adds to the numerator (1 when None) and the denominator (none when None).
    num: RowExpression | None = None
    den: RowExpression | None = None
    # A median's or percentile's value of a unit.
    val: RowExpression | None = None


@dataclass(frozen=True)
class Metric:
    id: str
    title: str
    section: str
    kind: Kind
    unit: str
    numerator: str
    denominator: str | None
    description: str
    measure: Measure = field(repr=False)
    percentile: int = 50
    # For charts and reading: None where neither direction is good in itself (e.g. referrals).
    higher_is_better: bool | None = None

    @property
    def is_proportion(self) -> bool:
        return self.kind == "proportion"

    @property
    def additive(self) -> bool:
        return self.kind in ADDITIVE_KINDS

    def where(self, ctx: Ctx, row: Any) -> ColumnElement[bool] | None:
        return None if self.measure.where is None else self.measure.where(ctx, row)

    def num(self, ctx: Ctx, row: Any) -> ColumnElement[Any]:
        return (self.measure.num or _one)(ctx, row)

    def den(self, ctx: Ctx, row: Any) -> ColumnElement[Any] | None:
        return None if self.measure.den is None else self.measure.den(ctx, row)

    def val(self, ctx: Ctx, row: Any) -> ColumnElement[Any]:
        if self.measure.val is None:
            raise ValueError(f"{self.id} is a {self.kind}: it needs a value per unit")
        return cast(self.measure.val(ctx, row), Float)

    def units(self, ctx: Ctx) -> Select[Any]:
        """One row per thing counted: ``patient_id`` and ``num`` (and ``den``), or ``val``."""
        row = self.measure.family.cte(ctx).c
        columns: list[Any] = [row.patient_id]
        if self.additive:
            columns.append(self.num(ctx, row).label("num"))
            den = self.den(ctx, row)
            if den is not None:
                columns.append(den.label("den"))
        else:
            columns.append(self.val(ctx, row).label("val"))
        units = select(*columns)
        where = self.where(ctx, row)
        return units if where is None else units.where(where)

    def sql(self) -> str:
        """The unit query as PostgreSQL, with the period as named parameters."""
        return _published_sql(self.id)


REGISTRY: dict[str, Metric] = {}


def register(metric: Metric) -> Metric:
    if metric.id in REGISTRY:
        raise ValueError(f"metric {metric.id} registered twice")
    if metric.additive == (metric.measure.val is not None):
        raise ValueError(
            f"metric {metric.id}: a {metric.kind} needs {'num' if metric.additive else 'val'}"
        )
    REGISTRY[metric.id] = metric
    return metric


@cache
def _published_sql(metric_id: str) -> str:
    metric = REGISTRY[metric_id]
    ctx = Ctx.build(Period.for_month("2026-10"))
    compiled = metric.units(ctx).compile(dialect=postgresql.dialect())  # type: ignore[no-untyped-call]
    return str(compiled)


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


# --- caseload and flow ------------------------------------------------------------------------

_referred = Measure(MONTH_PATIENTS, where=lambda ctx, p: in_instants(p.created_at, ctx))
_onboarded = Measure(MONTH_PATIENTS, where=lambda ctx, p: in_days(p.enrolled_on, ctx))
_caseload = Measure(
    MONTH_PATIENTS, where=lambda ctx, p: active_in_period(ctx, p.enrolled_on, p.discharged_on)
)
_active_month_end = Measure(
    MONTH_PATIENTS, where=lambda ctx, p: active_at_end(ctx, p.enrolled_on, p.discharged_on)
)


def _discharged(reason: str | None) -> Measure:
    def where(ctx: Ctx, p: Any) -> ColumnElement[bool]:
        discharged = in_days(p.discharged_on, ctx)
        return discharged if reason is None else and_(discharged, p.discharge_reason == reason)

    return Measure(MONTH_PATIENTS, where=where)


_days_on_pathway = Measure(
    MONTH_PATIENTS,
    where=lambda ctx, p: in_days(p.discharged_on, ctx),
    val=lambda ctx, p: days_between(p.discharged_on, p.enrolled_on),
)

# --- adherence --------------------------------------------------------------------------------

_adherence = Measure(
    WEIGHT_DAYS, num=lambda ctx, a: a.days_with_weight, den=lambda ctx, a: a.expected_days
)

# --- alerts -----------------------------------------------------------------------------------


def _raised(ctx: Ctx, a: Any) -> ColumnElement[bool]:
    return in_instants(a.raised_at, ctx)


def _alerts(severity: str) -> Measure:
    return Measure(MONTH_ALERTS, where=lambda ctx, a: and_(_raised(ctx, a), a.severity == severity))


_alert_rate = Measure(
    ALERT_EXPOSURE, num=lambda ctx, e: e.alerts, den=lambda ctx, e: e.patient_days
)
_time_to_action = Measure(
    MONTH_ALERTS,
    where=lambda ctx, a: and_(_raised(ctx, a), a.first_action_at.is_not(None)),
    val=lambda ctx, a: a.hours_to_first_action,
)
_red_in_time = Measure(
    MONTH_ALERTS,
    where=lambda ctx, a: and_(
        _raised(ctx, a),
        a.severity == "red",
        # An alert not yet due and not yet worked cannot be judged late or on time.
        or_(a.first_action_at.is_not(None), a.due_at < ctx.as_of_end_utc),
    ),
    num=lambda ctx, a: _flag(a.first_action_at <= a.due_at),
    den=_one,
)
_no_action_needed = Measure(
    MONTH_ALERTS,
    where=lambda ctx, a: in_instants(a.resolved_at, ctx),
    num=lambda ctx, a: _flag(a.outcome == "no_action_needed"),
    den=_one,
)

# --- outcomes ---------------------------------------------------------------------------------


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
    return _flag(before)


_hf_admission_after_alert = Measure(
    EVENTS, where=_emergency_hf_admission, num=_alerted_before, den=_one
)

# --- medicines --------------------------------------------------------------------------------


def _on_pillar(pillar: str) -> Measure:
    return Measure(
        HFREF_MEDICINES, num=lambda ctx, m: _flag(m[f"{pillar}_status"] == "started"), den=_one
    )


def _at_target(pillar: str) -> Measure:
    return Measure(
        HFREF_MEDICINES,
        where=lambda ctx, m: m[f"{pillar}_status"] == "started",
        num=lambda ctx, m: m[f"{pillar}_at_target"],
        den=_one,
    )


_time_to_optimisation = Measure(OPTIMISED, val=lambda ctx, o: o.days_to_optimise)

# --- KCCQ-12 ----------------------------------------------------------------------------------


def _kccq_value(which: str) -> Measure:
    def value(ctx: Ctx, pair: Any) -> Any:
        if which == "change":
            return pair.discharge_score - pair.start_score
        return pair[f"{which}_score"]

    return Measure(KCCQ_PAIRS, val=value)


_kccq_improved = Measure(
    KCCQ_PAIRS,
    num=lambda ctx, pair: _flag(pair.discharge_score - pair.start_score >= KCCQ_MEANINGFUL_CHANGE),
    den=_one,
)


# --- the registry -----------------------------------------------------------------------------

CASELOAD, ADHERENCE, ALERTS, OUTCOMES, MEDICINES, KCCQ = (
    "caseload",
    "adherence",
    "alerts",
    "outcomes",
    "medicines",
    "patient_reported",
)

register(
    Metric(
        "referred",
        "Referred",
        CASELOAD,
        "count",
        "patients",
        "Patients whose record was created in the month",
        None,
        "Referrals received: patient records created by the team during the month.",
        _referred,
    )
)
register(
    Metric(
        "onboarded",
        "Onboarded",
        CASELOAD,
        "count",
        "patients",
        "Patients enrolled on the pathway with an enrolment date in the month",
        None,
        "New enrolments, by enrolment date.",
        _onboarded,
    )
)
register(
    Metric(
        "caseload",
        "Caseload",
        CASELOAD,
        "count",
        "patients",
        "Patients on the pathway on any day of the month",
        None,
        "Enrolment episodes active at any time in the month (a patient discharged and re-enrolled "
        "counts once per episode).",
        _caseload,
    )
)
register(
    Metric(
        "active_month_end",
        "Active at month end",
        CASELOAD,
        "count",
        "patients",
        "Patients enrolled on or before the last day and not discharged by it",
        None,
        "Caseload on the last day of the month (today, for the month in progress).",
        _active_month_end,
    )
)
register(
    Metric(
        "discharged",
        "Discharged from monitoring",
        CASELOAD,
        "count",
        "patients",
        "Patients discharged from monitoring in the month",
        None,
        "All discharges from monitoring, any reason.",
        _discharged(None),
    )
)
for _reason in DISCHARGE_REASONS:
    register(
        Metric(
            f"discharged_{_reason}",
            f"Discharged: {_reason.replace('_', ' ')}",
            CASELOAD,
            "count",
            "patients",
            f"Patients discharged from monitoring in the month, reason {_reason}",
            None,
            f"Discharges from monitoring with reason '{_reason}'.",
            _discharged(_reason),
        )
    )
register(
    Metric(
        "days_on_pathway_median",
        "Median days on the pathway",
        CASELOAD,
        "median",
        "days",
        "Days from enrolment to discharge (median)",
        "Patients discharged from monitoring in the month",
        "Length of stay on the pathway of patients discharged in the month.",
        _days_on_pathway,
    )
)

register(
    Metric(
        "weight_adherence",
        "Weight adherence",
        ADHERENCE,
        "proportion",
        "%",
        "Expected reading-days with a weight",
        "Expected reading-days",
        "For patients expecting daily weights, each London calendar day they were on the pathway "
        "in "
        "the month (enrolment and discharge days included) is an expected reading-day; it has a "
        "valid reading if at least one weight was accepted that day.",
        _adherence,
        higher_is_better=True,
    )
)

register(
    Metric(
        "alerts_red",
        "Red alerts",
        ALERTS,
        "count",
        "alerts",
        "Red alerts raised in the month",
        None,
        "Alerts raised at red level.",
        _alerts("red"),
    )
)
register(
    Metric(
        "alerts_amber",
        "Amber alerts",
        ALERTS,
        "count",
        "alerts",
        "Amber alerts raised in the month",
        None,
        "Alerts raised at amber level.",
        _alerts("amber"),
    )
)
register(
    Metric(
        "alerts_per_100_patient_days",
        "Alerts per 100 patient-days",
        ALERTS,
        "rate",
        "per 100 patient-days",
        "Alerts raised in the month",
        "Patient-days on the pathway in the month",
        "Alert burden, comparable across caseload sizes.",
        _alert_rate,
    )
)
register(
    Metric(
        "alert_first_action_median_hours",
        "Time to first action (median)",
        ALERTS,
        "median",
        "hours",
        "Hours from alert raised to the first clinician action",
        "Alerts raised in the month that have been acted on",
        "First action: acknowledge, assign, note or resolve (alerts.first_action_at).",
        _time_to_action,
        higher_is_better=False,
    )
)
register(
    Metric(
        "alert_first_action_p90_hours",
        "Time to first action (90th percentile)",
        ALERTS,
        "percentile",
        "hours",
        "Hours from alert raised to the first clinician action",
        "Alerts raised in the month that have been acted on",
        "90th percentile, linear interpolation between ranks (as percentile_cont).",
        _time_to_action,
        percentile=90,
        higher_is_better=False,
    )
)
register(
    Metric(
        "red_alerts_actioned_in_time",
        "Red alerts actioned within response time",
        ALERTS,
        "proportion",
        "%",
        "Red alerts whose first action was at or before the due time",
        "Red alerts raised in the month, acted on or past their due time",
        "Response against the site's response policy (alerts.due_at).",
        _red_in_time,
        higher_is_better=True,
    )
)
register(
    Metric(
        "alerts_resolved_no_action_needed",
        "Alerts resolved 'no action needed'",
        ALERTS,
        "proportion",
        "%",
        "Alerts resolved in the month with outcome no_action_needed",
        "Alerts resolved in the month",
        "A signal of alert fatigue: rules that fire without clinical need.",
        _no_action_needed,
        higher_is_better=False,
    )
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

for _pillar in PILLARS:
    _name = PILLAR_TITLES[_pillar]
    register(
        Metric(
            f"on_{_pillar}",
            f"HFrEF patients on {_name}",
            MEDICINES,
            "proportion",
            "%",
            f"HFrEF patients whose latest {_name} record is 'started'",
            "HFrEF patients active at month end",
            "The latest record for the pillar on or before the last day decides.",
            _on_pillar(_pillar),
            higher_is_better=True,
        )
    )
    register(
        Metric(
            f"at_target_{_pillar}",
            f"{_name}: at target or maximum tolerated dose",
            MEDICINES,
            "proportion",
            "%",
            f"HFrEF patients on {_name} at target or maximum tolerated dose",
            f"HFrEF patients active at month end on {_name}",
            "From the latest record for the pillar.",
            _at_target(_pillar),
            higher_is_better=True,
        )
    )
register(
    Metric(
        "time_to_optimisation_median_days",
        "Time to optimisation (median)",
        MEDICINES,
        "median",
        "days",
        "Days from enrolment to optimisation",
        "HFrEF patients optimised in the month",
        "Optimised on the date every pillar was first at target or maximum tolerated dose, or "
        "ruled "
        "out as not tolerated or contraindicated.",
        _time_to_optimisation,
        higher_is_better=False,
    )
)

register(
    Metric(
        "kccq_start_median",
        "KCCQ-12 at start (median)",
        KCCQ,
        "median",
        "score",
        "KCCQ-12 overall summary at start",
        "Patients discharged in the month with both scores",
        "First score recorded at the start timepoint.",
        _kccq_value("start"),
    )
)
register(
    Metric(
        "kccq_discharge_median",
        "KCCQ-12 at discharge (median)",
        KCCQ,
        "median",
        "score",
        "KCCQ-12 overall summary at discharge",
        "Patients discharged in the month with both scores",
        "Last score recorded at the discharge timepoint.",
        _kccq_value("discharge"),
        higher_is_better=True,
    )
)
register(
    Metric(
        "kccq_change_median",
        "KCCQ-12 change (median)",
        KCCQ,
        "median",
        "points",
        "Discharge minus start score",
        "Patients discharged in the month with both scores",
        "A change of 5 points is clinically meaningful.",
        _kccq_value("change"),
        higher_is_better=True,
    )
)
register(
    Metric(
        "kccq_improved",
        "KCCQ-12 improved by 5 or more",
        KCCQ,
        "proportion",
        "%",
        "Patients whose score rose by at least 5 points",
        "Patients discharged in the month with both scores",
        "A 5-point change in the overall summary score is clinically meaningful.",
        _kccq_improved,
        higher_is_better=True,
    )
)

# Registered after the metrics above, in their own module: red alerts raised out of hours.
from service.reports import out_of_hours as _out_of_hours  # noqa: E402, F401

# Registered last, in a module of their own: the post-discharge review tasks.
from service.reports import review_metrics as _review_metrics  # noqa: E402, F401
