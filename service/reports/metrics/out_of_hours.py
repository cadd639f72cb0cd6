"""Red alerts raised out of hours: how many, how each site handled them, and how fast the team
answered them. Registered with the other metrics (``service.reports.metrics`` imports this
module after the sections above it), so they run in the same statement and go through the same
disclosure control.

The rows are the month's red alerts that became red outside the team's working hours: the alert
recorded, at that moment, what the site's setting did with it (``alerts.out_of_hours_handling``,
``alerts.out_of_hours.Handling``). Alerts raised before that column existed carry no handling
and are not counted.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, exists, or_, select

from alerts.out_of_hours import Handling
from service.models import Alert, OutboxEvent, Patient, Webhook, WebhookDelivery
from service.reports.context import Ctx
from service.reports.families import Family, in_instants
from service.reports.metrics.registry import ALERTS, Measure, Metric, one, register

HANDED_OVER = (Handling.OUT_OF_HOURS_WEBHOOK, Handling.URGENT_COMMUNITY_RESPONSE)
# Each handling's metric id suffix and title.
HANDLINGS = {
    Handling.QUEUE: ("queued", "queued for the next working day"),
    Handling.OUT_OF_HOURS_WEBHOOK: ("to_ooh_service", "sent to the out-of-hours service"),
    Handling.URGENT_COMMUNITY_RESPONSE: ("to_ucr", "sent to urgent community response"),
    Handling.HANDOVER_UNAVAILABLE: ("handover_unavailable", "handover unavailable, queued"),
}


def _out_of_hours_alerts(ctx: Ctx) -> Any:
    """Red alerts raised in the month out of hours, with their handling, and whether their
    handover reached the out-of-hours service by the report's as-of time."""
    delivered = exists().where(
        OutboxEvent.alert_id == Alert.id,
        WebhookDelivery.event_id == OutboxEvent.id,
        Webhook.id == WebhookDelivery.webhook_id,
        Webhook.purpose == "out_of_hours",
        WebhookDelivery.status == "delivered",
        WebhookDelivery.delivered_at < ctx.as_of_end_utc,
    )
    return (
        select(
            Alert.patient_id,
            Alert.due_at,
            Alert.first_action_at,
            Alert.out_of_hours_handling.label("handling"),
            case((delivered, 1), else_=0).label("handover_delivered"),
        )
        .join(Patient, Patient.id == Alert.patient_id)
        .where(
            in_instants(Alert.raised_at, ctx),
            Alert.severity == "red",
            Alert.out_of_hours_handling.is_not(None),
        )
    )


OUT_OF_HOURS_ALERTS = Family("out_of_hours_alerts", _out_of_hours_alerts)


def _handled(handling: Handling) -> Measure:
    return Measure(OUT_OF_HOURS_ALERTS, where=lambda ctx, a: a.handling == str(handling))


_in_time = Measure(
    OUT_OF_HOURS_ALERTS,
    # As ``red_alerts_actioned_in_time``: an alert neither worked nor yet due is not judged.
    where=lambda ctx, a: or_(a.first_action_at.is_not(None), a.due_at < ctx.as_of_end_utc),
    num=lambda ctx, a: case((a.first_action_at <= a.due_at, 1), else_=0),
    den=one,
)
_delivered = Measure(
    OUT_OF_HOURS_ALERTS,
    where=lambda ctx, a: a.handling.in_([str(h) for h in HANDED_OVER]),
    num=lambda ctx, a: a.handover_delivered,
    den=one,
)

register(
    Metric(
        "red_alerts_out_of_hours",
        "Red alerts raised out of hours",
        ALERTS,
        "count",
        "alerts",
        "Red alerts raised in the month outside the team's working hours",
        None,
        "Alerts that became red outside the site's working hours (its response calendar: "
        "evenings, nights, weekends, bank holidays and closures), however the site handled them.",
        Measure(OUT_OF_HOURS_ALERTS),
    )
)
for _handling, (_suffix, _title) in HANDLINGS.items():
    register(
        Metric(
            f"red_alerts_out_of_hours_{_suffix}",
            f"Out-of-hours red alerts: {_title}",
            ALERTS,
            "count",
            "alerts",
            f"Red alerts raised out of hours in the month, handling '{_handling.value}'",
            None,
            "What the site's out_of_hours_handling setting did with the alert when it was raised "
            "(alerts.out_of_hours_handling).",
            _handled(_handling),
        )
    )
register(
    Metric(
        "red_alerts_out_of_hours_actioned_in_time",
        "Out-of-hours red alerts acknowledged within response time",
        ALERTS,
        "proportion",
        "%",
        "Out-of-hours red alerts whose first clinician action was at or before the due time",
        "Red alerts raised out of hours in the month, acted on or past their due time",
        "The team's response (acknowledge, assign, note or resolve) against alerts.due_at, "
        "which the calendar sets after the next opening for an alert raised out of hours.",
        _in_time,
        higher_is_better=True,
    )
)
register(
    Metric(
        "red_alerts_out_of_hours_handover_delivered",
        "Out-of-hours handovers delivered",
        ALERTS,
        "proportion",
        "%",
        "Handed-over red alerts whose signed delivery reached the out-of-hours service",
        "Red alerts raised out of hours and handed to an out-of-hours service",
        "A handover is a webhook delivery, retried for 24 hours; one not delivered by the "
        "report's as-of time counts as not delivered.",
        _delivered,
        higher_is_better=True,
    )
)
