"""Alerts: how many were raised, the burden per patient-day and how fast teams acted on them
(``MONTH_ALERTS``, ``ALERT_EXPOSURE``). Red alerts raised out of hours and the post-discharge
reviews are in sections of their own (``out_of_hours``, ``reviews``), registered after these."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.sql.elements import ColumnElement

from service.reports.context import Ctx
from service.reports.families import ALERT_EXPOSURE, MONTH_ALERTS, in_instants
from service.reports.metrics.registry import ALERTS, Measure, Metric, flag, one, register


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
    num=lambda ctx, a: flag(a.first_action_at <= a.due_at),
    den=one,
)
_no_action_needed = Measure(
    MONTH_ALERTS,
    where=lambda ctx, a: in_instants(a.resolved_at, ctx),
    num=lambda ctx, a: flag(a.outcome == "no_action_needed"),
    den=one,
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
