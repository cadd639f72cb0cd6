"""The due time and the "became red at" of a rise in severity, pinned on the working calendar.

The service stores what ``raise_severity`` returns; the queue (API and page) and the escalation
job read that one due time, so these cases are what all three show.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from alerts.lifecycle import AlertState, AlertStatus, Severity, escalate, raise_severity
from alerts.sla import ResponsePolicy, due_at, is_overdue

LONDON = ZoneInfo("Europe/London")
POLICY = ResponsePolicy(holidays=frozenset({date(2026, 12, 25), date(2026, 12, 28)}))


def london(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def amber_raised(at: str) -> AlertState:
    raised = london(at)
    return AlertState(
        status=AlertStatus.OPEN, severity=Severity.AMBER, due_at=due_at(raised, "amber", POLICY)
    )


def rise(state: AlertState, at: str) -> AlertState:
    now = london(at)
    return raise_severity(state, Severity.RED, due_at(now, "red", POLICY), now).new_state


CASES = [
    # amber raised, turned red at, due (London), why
    (
        "2026-09-10T09:00",
        "2026-12-07T10:00",
        "2026-12-07T14:00",
        "amber overdue for months: the red clock starts at the rise, not 86 days ago",
    ),
    (
        "2026-11-17T09:30",
        "2026-11-19T09:00",
        "2026-11-19T13:00",
        "amber overdue since yesterday's close: red due 4 h after the rise",
    ),
    (
        "2026-11-17T09:30",
        "2026-11-17T10:00",
        "2026-11-17T14:00",
        "amber still running: red due sooner than the amber, so the red time",
    ),
    (
        "2026-11-17T09:30",
        "2026-11-18T16:00",
        "2026-11-18T18:00",
        "amber due at 18:00 today, red after the cut-off would be tomorrow: keep the amber",
    ),
    (
        "2026-11-16T09:30",
        "2026-11-20T19:00",
        "2026-11-23T12:00",
        "overdue amber turns red out of hours on a Friday evening: Monday's opening + 4 h",
    ),
    (
        "2026-12-20T09:00",
        "2026-12-24T15:00",
        "2026-12-29T12:00",
        "red after Christmas Eve's cut-off: past both bank holidays",
    ),
]


@pytest.mark.parametrize(("raised", "risen", "due", "why"), CASES)
def test_due_time_after_a_rise(raised: str, risen: str, due: str, why: str) -> None:
    state = rise(amber_raised(raised), risen)
    assert state.due_at == london(due), why
    assert state.severity_raised_at == london(risen)
    assert state.severity is Severity.RED


def test_an_overdue_amber_is_on_time_again_as_red_and_the_job_does_not_escalate_it() -> None:
    amber = amber_raised("2026-09-10T09:00")
    now = london("2026-12-07T10:00")
    assert is_overdue(amber.due_at, amber.status, now)
    red = rise(amber, "2026-12-07T10:00")
    assert not is_overdue(red.due_at, red.status, now)
    with pytest.raises(Exception, match="not overdue"):
        escalate(red, london("2026-12-07T14:00"))
    assert escalate(red, london("2026-12-07T14:01")).new_state.escalated_at is not None


def test_the_due_time_is_exactly_the_boundary_of_the_old_window() -> None:
    # At its due time an amber alert is still on time, so its window still caps the red one.
    amber = amber_raised("2026-11-17T09:30")  # due 2026-11-18 18:00
    red = rise(amber, "2026-11-18T18:00")
    assert red.due_at == london("2026-11-18T18:00")


def test_later_moves_keep_when_it_became_red() -> None:
    red = rise(amber_raised("2026-11-17T09:30"), "2026-11-17T10:00")
    escalated = escalate(red, london("2026-11-17T15:00")).new_state
    assert escalated.severity_raised_at == london("2026-11-17T10:00")
    assert amber_raised("2026-11-17T09:30").severity_raised_at is None
