"""Caseload and flow: referrals, enrolments, the caseload, discharges from monitoring and how
long patients stay on the pathway, from the month's patients (``MONTH_PATIENTS``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_
from sqlalchemy.sql.elements import ColumnElement

from service.models.patients import DISCHARGE_REASONS
from service.reports.context import Ctx
from service.reports.families import (
    MONTH_PATIENTS,
    active_at_end,
    active_in_period,
    in_days,
    in_instants,
)
from service.reports.metrics.registry import CASELOAD, Measure, Metric, register
from service.reports.sqlfuncs import days_between

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
