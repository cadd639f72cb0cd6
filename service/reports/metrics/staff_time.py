"""Resources: the patient-months monitored and the staff time spent on them, which stewards
cost (nurse hours x the PSSRU nurse-hour cost, ``service.stewardship.costs``).

Staff time is what clinicians say: the minutes given when resolving an alert or review task
(counted in the month it was resolved) and the minutes of each contact with a patient (counted
in the London month it happened). Patient-months are the patient-days of ``ALERT_EXPOSURE``
over the days of the whole month, so a patient on the pathway all month is one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Float, cast, literal
from sqlalchemy.sql.elements import ColumnElement

from service.reports.context import Ctx
from service.reports.families import ALERT_EXPOSURE, STAFF_TIME
from service.reports.metrics.registry import RESOURCES, Measure, Metric, register

# A row's fraction (a patient's share of a month, minutes as hours) is a whole number of
# 2^-30ths: the integer division truncates alike on both databases, and sums of such values are
# exact in floating point whatever order a database adds the rows in, so SQLite and PostgreSQL
# give the same figure to the bit. Exact up to 2^23 (8 million) hours or patient-months.
_UNITS = 2**30


def _fraction(numerator: Any, denominator: Any) -> ColumnElement[Any]:
    units = cast(numerator, BigInteger) * literal(_UNITS, BigInteger) // denominator
    return cast(units, Float) / literal(float(_UNITS), Float)


def _patient_months(ctx: Ctx, row: Any) -> ColumnElement[Any]:
    return _fraction(row.patient_days, ctx.month_days)


def _hours(minutes: Any) -> ColumnElement[Any]:
    return _fraction(minutes, literal(60, BigInteger))


def _staff_minutes(row: Any) -> Any:
    return row.alert_minutes + row.contact_minutes


def _on_pathway(ctx: Ctx, row: Any) -> Any:
    return row.patient_days > 0


register(
    Metric(
        "patient_months",
        "Patient-months monitored",
        RESOURCES,
        "sum",
        "patient-months",
        "Patient-days on the pathway in the month, over the days in the month",
        None,
        "A patient on the pathway the whole month counts 1; the unit the monitoring kit and staff "
        "time are costed per.",
        Measure(ALERT_EXPOSURE, where=_on_pathway, num=_patient_months),
        higher_is_better=None,
    )
)
register(
    Metric(
        "contacts",
        "Contacts",
        RESOURCES,
        "count",
        "contacts",
        "Calls, visits and messages with patients that happened in the month",
        None,
        "Recorded by the team with the minutes each took (patient_contacts).",
        Measure(STAFF_TIME, where=lambda ctx, r: r.contacts > 0, num=lambda ctx, r: r.contacts),
    )
)
register(
    Metric(
        "staff_hours",
        "Staff hours",
        RESOURCES,
        "sum",
        "hours",
        "Minutes said on alerts resolved in the month and on the month's contacts, over 60",
        None,
        "Staff time as clinicians recorded it: alerts and review tasks resolved without minutes "
        "add nothing.",
        Measure(
            STAFF_TIME,
            where=lambda ctx, r: _staff_minutes(r) > 0,
            num=lambda ctx, r: _hours(_staff_minutes(r)),
        ),
        higher_is_better=None,
    )
)
register(
    Metric(
        "staff_hours_alerts",
        "Staff hours on alerts",
        RESOURCES,
        "sum",
        "hours",
        "Minutes said on alerts and review tasks resolved in the month, over 60",
        None,
        "All the work on an alert, as the clinician resolving it said (alerts.minutes_spent).",
        Measure(
            STAFF_TIME,
            where=lambda ctx, r: r.alert_minutes > 0,
            num=lambda ctx, r: _hours(r.alert_minutes),
        ),
        higher_is_better=None,
    )
)
register(
    Metric(
        "staff_hours_contacts",
        "Staff hours on contacts",
        RESOURCES,
        "sum",
        "hours",
        "Minutes of the contacts that happened in the month, over 60",
        None,
        "Calls, visits and messages as the team recorded them.",
        Measure(
            STAFF_TIME,
            where=lambda ctx, r: r.contact_minutes > 0,
            num=lambda ctx, r: _hours(r.contact_minutes),
        ),
        higher_is_better=None,
    )
)
register(
    Metric(
        "staff_minutes_per_alert",
        "Staff minutes per alert",
        RESOURCES,
        "rate",
        "minutes per alert",
        "Minutes said on alerts and review tasks resolved in the month",
        "Alerts and review tasks resolved in the month with minutes said",
        "The mean time an alert took, over the alerts whose time was recorded.",
        Measure(
            STAFF_TIME,
            where=lambda ctx, r: r.alerts_timed > 0,
            num=lambda ctx, r: r.alert_minutes,
            den=lambda ctx, r: r.alerts_timed,
        ),
        higher_is_better=None,
        scale=1.0,
    )
)
register(
    Metric(
        "staff_minutes_per_patient_month",
        "Staff minutes per patient-month",
        RESOURCES,
        "rate",
        "minutes per patient-month",
        "Minutes said on alerts resolved in the month and on the month's contacts",
        "Patient-months on the pathway in the month",
        "Staff time per patient monitored for a month: the figure a caseload per nurse follows.",
        Measure(
            STAFF_TIME,
            num=lambda ctx, r: _staff_minutes(r),
            den=_patient_months,
        ),
        higher_is_better=None,
        scale=1.0,
    )
)
