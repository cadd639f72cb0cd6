"""What happens to a red alert raised while the team is not at work: a site's choice.

The response calendar (``pathway.response``, which also sets ``due_at``) decides whether the team
is at work; this module only maps that answer and the site's setting to a handling, which the
alert records when it becomes red. Every handling keeps the alert in the team's queue, due by the
calendar: a handover adds a signed delivery to the site's out-of-hours service, it never takes
the alert away from the team.

- ``queue_for_next_working_day`` (the default): the alert waits for the team, as it always has.
- ``out_of_hours_webhook``: the alert event also goes to the site's named out-of-hours webhook
  (e.g. the out-of-hours GP service).
- ``urgent_community_response``: the same, to the urgent community response team's webhook.
- ``handover_unavailable`` is recorded, never chosen: the site asked for a handover but its
  webhook is no longer active, so the alert waits for the team as with the default.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from alerts.lifecycle import Severity
from pathway.response import ResponsePolicy

__all__ = ["HANDOVERS", "SITE_CHOICES", "Handling", "handling_for"]


class Handling(StrEnum):
    """What was done with a red alert raised out of hours (``alerts.out_of_hours_handling``)."""

    QUEUE = "queue_for_next_working_day"
    OUT_OF_HOURS_WEBHOOK = "out_of_hours_webhook"
    URGENT_COMMUNITY_RESPONSE = "urgent_community_response"
    HANDOVER_UNAVAILABLE = "handover_unavailable"


# The choices that hand the alert over to a service outside the team.
HANDOVERS = frozenset({Handling.OUT_OF_HOURS_WEBHOOK, Handling.URGENT_COMMUNITY_RESPONSE})
# What a site may set (``response_policy.out_of_hours_handling``): all but the fallback.
SITE_CHOICES = frozenset({Handling.QUEUE, *HANDOVERS})


def handling_for(
    severity: Severity,
    raised_at: datetime,
    calendar: ResponsePolicy,
    choice: Handling,
    target_active: bool,
) -> Handling | None:
    """The handling of an alert that became ``severity`` at ``raised_at``; None when it needs
    none (amber, or raised while the team is at work).

    ``target_active``: whether the site's named out-of-hours webhook can take deliveries now.
    """
    if choice not in SITE_CHOICES:
        raise ValueError(f"{choice} is recorded, not chosen")
    if severity is not Severity.RED or calendar.is_working_time(raised_at):
        return None
    if choice in HANDOVERS and not target_active:
        return Handling.HANDOVER_UNAVAILABLE
    return choice
