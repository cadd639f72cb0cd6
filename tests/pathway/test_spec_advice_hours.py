"""Advice that knows the team's hours: reading x London local time x day type -> advice and due.

One response policy sets the alert's due time and the patient's answer, so the answer never says
"today" for a call due on another day, and names NHS 111 when the team is not there now.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from pathway import Advice, Level
from pathway.advice import when_the_team_calls
from pathway.response import ResponsePolicy, due_at
from tests.support.readability import flesch_kincaid_grade

LONDON = ZoneInfo("Europe/London")
RED = Advice(Level.RED, "red_same_day", "Your heart failure team will call you today.")
AMBER = Advice(Level.AMBER, "amber_next_day", "Your heart failure team will call you.")


def london(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


SPEC = [
    # (advice, raised in London, day type, due in London, what the answer says)
    (
        RED,
        "2026-11-27T13:00",
        "Friday in hours",
        "2026-11-27T17:00",
        "today, by 17:00. If you feel worse, call 999.",
    ),
    (
        RED,
        "2026-11-27T17:59",
        "Friday after the red cut-off",
        "2026-11-30T12:00",
        "on Monday 30 November, by 12:00. If you feel worse before then, call NHS 111 now.",
    ),
    (
        RED,
        "2026-11-27T18:01",
        "Friday after closing",
        "2026-11-30T12:00",
        "on Monday 30 November, by 12:00.",
    ),
    (
        RED,
        "2026-11-23T02:05",
        "Monday night",
        "2026-11-23T12:00",
        "today, by 12:00. If you feel worse before then, call NHS 111 now.",
    ),
    (
        RED,
        "2026-11-23T23:59",
        "Monday, a minute before London midnight",
        "2026-11-24T12:00",
        "tomorrow, by 12:00. If you feel worse before then",
    ),
    (
        RED,
        "2026-11-24T00:00",
        "Tuesday at London midnight",
        "2026-11-24T12:00",
        "today, by 12:00. If you feel worse before then",
    ),
    (
        RED,
        "2026-12-24T15:00",
        "Christmas Eve afternoon",
        "2026-12-29T12:00",
        "on Tuesday 29 December, by 12:00.",
    ),
    (
        RED,
        "2026-12-25T10:00",
        "Christmas Day",
        "2026-12-29T12:00",
        "on Tuesday 29 December, by 12:00.",
    ),
    (
        AMBER,
        "2026-05-04T10:00",
        "bank-holiday Monday",
        "2026-05-05T18:00",
        "tomorrow, by 18:00. If you feel worse before then, call NHS 111.",
    ),
    (AMBER, "2026-11-27T12:00", "Friday", "2026-11-30T18:00", "on Monday 30 November, by 18:00."),
    (
        RED,
        "2026-03-28T22:00",
        "Saturday before the spring clock change",
        "2026-03-30T12:00",
        "on Monday 30 March, by 12:00.",
    ),
    (
        RED,
        "2026-10-24T22:00",
        "Saturday before the autumn clock change",
        "2026-10-26T12:00",
        "on Monday 26 October, by 12:00.",
    ),
]


@pytest.mark.parametrize(("advice", "raised", "day", "due", "says"), SPEC, ids=[r[2] for r in SPEC])
def test_the_answer_and_the_due_time_come_from_one_policy(advice, raised, day, due, says):
    now = london(raised)
    due_time = due_at(now, str(advice.level), ResponsePolicy())
    assert due_time == london(due).astimezone(UTC)
    answer = when_the_team_calls(advice, due_time, now, LONDON)
    assert says in answer.text
    assert answer.code == advice.code
    if due_time.astimezone(LONDON).date() != now.date():
        assert "today" not in answer.text
    assert flesch_kincaid_grade(answer.text) <= 6.0, answer.text


def test_the_site_names_its_own_out_of_hours_number():
    now = london("2026-11-27T19:00")
    due = due_at(now, "red", ResponsePolicy())
    answer = when_the_team_calls(RED, due, now, LONDON, out_of_hours="the Derby urgent care line")
    assert "call the Derby urgent care line now" in answer.text


def test_other_advice_is_left_as_it_is():
    green = Advice(Level.GREEN, "green", "Thank you.")
    now = london("2026-11-27T19:00")
    assert when_the_team_calls(green, now, now, LONDON) is green
