"""The post-discharge reviews the service raises as tasks (NICE NG106: within 2 weeks of
discharge from hospital), counted apart from the alerts. Registered last by
``service.reports.metrics``, after the out-of-hours metrics, in the section of the alerts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.sql.elements import ColumnElement

from alerts.lifecycle import SYSTEM_OUTCOMES
from service.patients.state import REVIEW_GROUP
from service.reports.context import Ctx
from service.reports.families import MONTH_TASKS
from service.reports.metrics.registry import ALERTS, Measure, Metric, flag, one, register


def _review(ctx: Ctx, task: Any) -> ColumnElement[bool]:
    review: ColumnElement[bool] = task.alert_group == REVIEW_GROUP
    return review


def _judged(ctx: Ctx, task: Any) -> ColumnElement[bool]:
    # A review closed by the service (readmitted, died) was not owed; one not done and not yet
    # due cannot be judged late or on time.
    return and_(
        _review(ctx, task),
        or_(task.outcome.is_(None), task.outcome.not_in(sorted(SYSTEM_OUTCOMES))),
        or_(task.resolved_at.is_not(None), task.due_at < ctx.as_of_end_utc),
    )


def _done_in_time(ctx: Ctx, task: Any) -> ColumnElement[int]:
    return flag(and_(task.resolved_at.is_not(None), task.resolved_at <= task.due_at))


register(
    Metric(
        "post_discharge_reviews_due",
        "Post-discharge reviews due",
        ALERTS,
        "count",
        "reviews",
        "Post-discharge review tasks raised in the month",
        None,
        "One task per recorded discharge from hospital while on the pathway, due within 14 days "
        "(NICE NG106).",
        Measure(MONTH_TASKS, where=_review),
    )
)
register(
    Metric(
        "post_discharge_reviews_in_time",
        "Post-discharge reviews within 14 days",
        ALERTS,
        "proportion",
        "%",
        "Review tasks resolved by a clinician at or before their due time",
        "Review tasks raised in the month, done or past their due time, and still owed",
        "Reviews closed by the service (the patient was readmitted or died) are left out.",
        Measure(MONTH_TASKS, where=_judged, num=_done_in_time, den=one),
        higher_is_better=True,
    )
)
