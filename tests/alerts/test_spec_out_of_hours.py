"""Out-of-hours handling of red alerts: raised time in London x the site's setting -> handling.

The response calendar (``pathway.response``, the one ``due_at`` uses) says whether the team is at
work; ``alerts.out_of_hours`` maps that and the site's choice to what the alert records. Working
hours: 08:00 up to 18:00 London time, Monday to Friday, England and Wales bank holidays and the
site's closures off. The red cut-off (14:00) moves the due time, not the team's hours.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from alerts.lifecycle import Severity
from alerts.out_of_hours import SITE_CHOICES, Handling, handling_for
from pathway.response import ResponsePolicy, due_at

LONDON = ZoneInfo("Europe/London")
CALENDAR = ResponsePolicy(holidays=frozenset({date(2026, 12, 29)}))  # a site closure
QUEUE, WEBHOOK, UCR = (
    Handling.QUEUE,
    Handling.OUT_OF_HOURS_WEBHOOK,
    Handling.URGENT_COMMUNITY_RESPONSE,
)
IN_HOURS = None


def london(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


# (raised, London wall clock; day type; handling with queue, with a webhook, with UCR)
SPEC = [
    ("2026-11-27T13:00", "Friday in hours", IN_HOURS, IN_HOURS, IN_HOURS),
    ("2026-11-27T14:30", "Friday after the red cut-off, team still at work", None, None, None),
    ("2026-11-27T17:59", "Friday, a minute before closing", IN_HOURS, IN_HOURS, IN_HOURS),
    ("2026-11-27T18:00", "Friday at closing", QUEUE, WEBHOOK, UCR),
    ("2026-11-27T18:01", "Friday after closing", QUEUE, WEBHOOK, UCR),
    ("2026-11-28T12:00", "Saturday noon", QUEUE, WEBHOOK, UCR),
    ("2026-11-30T07:59", "Monday before opening", QUEUE, WEBHOOK, UCR),
    ("2026-11-30T08:00", "Monday at opening", IN_HOURS, IN_HOURS, IN_HOURS),
    ("2026-11-23T00:00", "London midnight, Monday", QUEUE, WEBHOOK, UCR),
    ("2026-11-22T23:59", "a minute before London midnight, Sunday", QUEUE, WEBHOOK, UCR),
    ("2026-08-31T10:00", "summer bank holiday Monday", QUEUE, WEBHOOK, UCR),
    ("2026-12-25T10:00", "Christmas Day (a Friday)", QUEUE, WEBHOOK, UCR),
    ("2026-12-28T10:00", "Boxing Day substitute (Monday 28 December)", QUEUE, WEBHOOK, UCR),
    ("2026-12-29T10:00", "the site's own closure", QUEUE, WEBHOOK, UCR),
    ("2026-12-30T10:00", "an ordinary working day after Christmas", None, None, None),
    # Spring forward (Sunday 29 March 01:00 UTC): on Monday 30 March 08:00 London is 07:00 UTC.
    ("2026-03-30T07:59", "Monday after the clocks go forward, before opening", QUEUE, WEBHOOK, UCR),
    ("2026-03-30T08:00", "Monday after the clocks go forward, at opening", None, None, None),
    # Fall back (Sunday 25 October 01:00 UTC): on Monday 26 October 18:00 London is 18:00 UTC.
    ("2026-10-26T17:59", "Monday after the clocks go back, before closing", None, None, None),
    ("2026-10-26T18:00", "Monday after the clocks go back, at closing", QUEUE, WEBHOOK, UCR),
    ("2026-10-25T01:30", "the repeated hour of the autumn change (Sunday)", QUEUE, WEBHOOK, UCR),
]


@pytest.mark.parametrize(("raised", "day", "queue", "webhook", "ucr"), SPEC)
def test_handling_by_raised_time_and_setting(raised, day, queue, webhook, ucr):
    at = london(raised)
    got = [
        handling_for(Severity.RED, at, CALENDAR, choice, target_active=True)
        for choice in (QUEUE, WEBHOOK, UCR)
    ]
    assert got == [queue, webhook, ucr], day
    # The handling depends on the instant, not on the zone it is written in.
    assert [
        handling_for(Severity.RED, at.astimezone(UTC), CALENDAR, c, True)
        for c in (QUEUE, WEBHOOK, UCR)
    ] == got


@pytest.mark.parametrize("raised", [row[0] for row in SPEC])
def test_amber_alerts_are_never_handled_out_of_hours(raised):
    for choice in SITE_CHOICES:
        assert handling_for(Severity.AMBER, london(raised), CALENDAR, choice, True) is None


@pytest.mark.parametrize("choice", [WEBHOOK, UCR])
def test_a_handover_without_an_active_webhook_waits_for_the_team(choice):
    night = london("2026-11-27T22:00")
    assert (
        handling_for(Severity.RED, night, CALENDAR, choice, False) is Handling.HANDOVER_UNAVAILABLE
    )
    assert handling_for(Severity.RED, night, CALENDAR, QUEUE, False) is Handling.QUEUE


def test_a_team_that_works_bank_holidays_is_in_hours_on_them():
    works = ResponsePolicy(bank_holidays=False)
    assert handling_for(Severity.RED, london("2026-12-25T10:00"), works, WEBHOOK, True) is None


def test_out_of_hours_is_exactly_when_the_calendar_defers_a_red_alert_to_the_next_opening():
    """One clock: out of hours, a red alert is due ``red_within`` after the next opening, so it
    is never due while the team is away; in hours it is due within the working day."""
    for raised, *_ in SPEC:
        at = london(raised)
        due = due_at(at, "red", CALENDAR)
        if CALENDAR.is_working_time(at):
            assert due > at
        else:
            assert CALENDAR.is_working_time(due - CALENDAR.red_within)
            assert not CALENDAR.is_working_time(at)
            assert due - at >= timedelta(hours=4)


def test_the_fallback_is_recorded_never_chosen():
    with pytest.raises(ValueError, match="recorded, not chosen"):
        handling_for(
            Severity.RED, london("2026-11-27T22:00"), CALENDAR, Handling.HANDOVER_UNAVAILABLE, True
        )


def test_the_calendar_refuses_a_naive_instant():
    with pytest.raises(ValueError, match="timezone-aware"):
        CALENDAR.is_working_time(datetime(2026, 11, 27, 22, 0))
