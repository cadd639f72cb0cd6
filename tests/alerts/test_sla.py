"""Due times as tables a clinician can check: raised (London time) -> due (London time)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alerts.lifecycle import AlertStatus, Severity
from alerts.sla import ResponsePolicy, due_at, is_overdue

LONDON = ZoneInfo("Europe/London")
AMBER, RED = Severity.AMBER, Severity.RED
# England and Wales bank holidays around Easter and Christmas 2026.
HOLIDAYS = frozenset({date(2026, 4, 3), date(2026, 4, 6), date(2026, 12, 25), date(2026, 12, 28)})
POLICY = ResponsePolicy(holidays=HOLIDAYS)


def london(text: str, fold: int = 0) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON, fold=fold)


CASES = [
    # raised (London), severity, due (London), why
    ("2026-11-17T09:30", RED, "2026-11-17T13:30", "weekday morning: 4 h later"),
    ("2026-11-17T08:00", RED, "2026-11-17T12:00", "at opening"),
    ("2026-11-17T14:00", RED, "2026-11-17T18:00", "exactly at the cut-off: same day"),
    ("2026-11-17T14:01", RED, "2026-11-18T12:00", "after the cut-off: next opening + 4 h"),
    ("2026-11-17T17:59", RED, "2026-11-18T12:00", "late afternoon"),
    ("2026-11-17T06:15", RED, "2026-11-17T12:00", "before opening: that day's opening + 4 h"),
    ("2026-11-17T09:30", AMBER, "2026-11-18T18:00", "end of next working day"),
    ("2026-11-17T07:00", AMBER, "2026-11-18T18:00", "before opening still counts from the day"),
    ("2026-11-17T23:59", AMBER, "2026-11-18T18:00", "last minute of the day"),
    ("2026-11-20T19:00", RED, "2026-11-23T12:00", "Friday evening: Monday"),
    ("2026-11-20T15:00", RED, "2026-11-23T12:00", "Friday after the cut-off: Monday"),
    ("2026-11-20T10:00", RED, "2026-11-20T14:00", "Friday morning: same day"),
    ("2026-11-20T10:00", AMBER, "2026-11-23T18:00", "Friday amber: Monday close"),
    ("2026-11-21T10:00", RED, "2026-11-23T12:00", "Saturday"),
    ("2026-11-22T23:30", AMBER, "2026-11-23T18:00", "Sunday night amber: Monday close"),
    ("2026-11-21T10:00", AMBER, "2026-11-23T18:00", "Saturday amber"),
    ("2026-12-24T15:00", RED, "2026-12-29T12:00", "Christmas Eve afternoon: past 2 bank holidays"),
    ("2026-12-24T10:00", AMBER, "2026-12-29T18:00", "Christmas Eve amber"),
    ("2026-12-25T09:00", RED, "2026-12-29T12:00", "on a bank holiday"),
    ("2026-04-02T16:00", RED, "2026-04-07T12:00", "before Easter"),
    ("2026-04-02T11:00", AMBER, "2026-04-07T18:00", "Easter amber"),
    # Spring forward: Sunday 29 March 2026, 01:00 GMT becomes 02:00 BST.
    ("2026-03-27T16:00", RED, "2026-03-30T12:00", "Friday before spring-forward"),
    ("2026-03-28T23:30", AMBER, "2026-03-30T18:00", "Saturday before spring-forward"),
    ("2026-03-29T02:30", RED, "2026-03-30T12:00", "just after the clocks went forward"),
    ("2026-03-30T09:00", RED, "2026-03-30T13:00", "first BST Monday"),
    # Fall back: Sunday 25 October 2026, 02:00 BST becomes 01:00 GMT.
    ("2026-10-23T15:00", RED, "2026-10-26T12:00", "Friday before fall-back"),
    ("2026-10-23T11:00", AMBER, "2026-10-26T18:00", "Friday amber before fall-back"),
    ("2026-10-26T10:00", RED, "2026-10-26T14:00", "first GMT Monday"),
]


@pytest.mark.parametrize(("raised", "severity", "due", "why"), CASES)
def test_due_at(raised: str, severity: Severity, due: str, why: str) -> None:
    result = due_at(london(raised), severity, POLICY)
    assert result.tzinfo is UTC
    assert result == london(due), why


@pytest.mark.parametrize("fold", [0, 1])
def test_ambiguous_fall_back_hour(fold: int) -> None:
    # 01:30 on 25 October happens twice; both are a Sunday night, due Monday.
    raised = london("2026-10-25T01:30", fold=fold)
    assert due_at(raised, RED, POLICY) == london("2026-10-26T12:00")
    assert due_at(raised, AMBER, POLICY) == london("2026-10-26T18:00")


def test_utc_offsets_matter_not_the_input_zone() -> None:
    # 13:30 UTC in summer is 14:30 BST: after the cut-off, so next day.
    raised = datetime(2026, 6, 16, 13, 30, tzinfo=UTC)
    assert due_at(raised, RED, POLICY) == london("2026-06-17T12:00")
    assert due_at(raised, RED, POLICY) == datetime(2026, 6, 17, 11, 0, tzinfo=UTC)


def test_working_time_is_real_elapsed_time_across_a_clock_change() -> None:
    always_open = ResponsePolicy(
        opens_at=time(0, 0),
        closes_at=time(23, 59),
        red_cutoff=time(20, 0),
        working_days=frozenset(range(7)),
    )
    raised = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)  # 00:00 GMT, an hour before the change
    assert due_at(raised, RED, always_open) == datetime(2026, 3, 29, 4, 0, tzinfo=UTC)
    assert due_at(raised, RED, always_open) == london("2026-03-29T05:00")


def test_red_within_longer_than_the_day_rolls_into_the_next_window() -> None:
    policy = ResponsePolicy(red_within=timedelta(hours=6), red_cutoff=time(16, 0))
    assert due_at(london("2026-11-17T15:00"), RED, policy) == london("2026-11-18T11:00")


def test_configurable_policy() -> None:
    policy = ResponsePolicy(
        opens_at=time(9, 0),
        closes_at=time(17, 0),
        red_within=timedelta(hours=2),
        red_cutoff=time(15, 0),
        amber_working_days=2,
        working_days=frozenset({0, 1, 2, 3, 4, 5}),  # Saturdays worked
    )
    assert due_at(london("2026-11-20T16:00"), RED, policy) == london("2026-11-21T11:00")
    assert due_at(london("2026-11-20T10:00"), AMBER, policy) == london("2026-11-23T17:00")


def test_naive_raised_at_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        due_at(datetime(2026, 11, 17, 9, 0), RED, POLICY)


def _mondays_only_all_holidays() -> ResponsePolicy:
    start = date(2026, 11, 16)
    return ResponsePolicy(
        working_days=frozenset({0}),
        holidays=frozenset(start + timedelta(weeks=w) for w in range(600)),
    )


def test_a_calendar_without_working_days_is_an_error_not_a_hang() -> None:
    policy = _mondays_only_all_holidays()
    with pytest.raises(ValueError, match="no working days"):
        due_at(london("2026-11-17T09:00"), AMBER, policy)
    with pytest.raises(ValueError, match="no working days"):
        due_at(london("2026-11-17T09:00"), RED, policy)
    endless = ResponsePolicy(red_within=timedelta(days=20_000))
    with pytest.raises(ValueError, match="no working days"):
        due_at(london("2026-11-17T09:00"), RED, endless)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timezone": "Mars/Olympus_Mons"},
        {"timezone": "../etc/passwd"},
        {"opens_at": time(8, 0, tzinfo=UTC)},
        {"opens_at": time(18, 0), "closes_at": time(8, 0)},
        {"red_cutoff": time(19, 0)},
        {"red_cutoff": time(7, 0)},
        {"working_days": frozenset()},
        {"working_days": frozenset({7})},
        {"red_within": timedelta(0)},
        {"amber_working_days": 0},
    ],
)
def test_policy_validation(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ResponsePolicy(**kwargs)  # type: ignore[arg-type]


def test_policy_is_a_hashable_value() -> None:
    assert ResponsePolicy() == ResponsePolicy()
    assert hash(ResponsePolicy(holidays=HOLIDAYS)) == hash(POLICY)
    assert POLICY.zone == LONDON


@pytest.mark.parametrize(
    ("status", "minutes_after_due", "overdue"),
    [
        (AlertStatus.OPEN, -1, False),
        (AlertStatus.OPEN, 0, False),
        (AlertStatus.OPEN, 1, True),
        (AlertStatus.ACKNOWLEDGED, 1, True),
        (AlertStatus.RESOLVED, 600, False),
    ],
)
def test_is_overdue(status: AlertStatus, minutes_after_due: int, overdue: bool) -> None:
    due = due_at(london("2026-11-17T09:30"), RED, POLICY)
    assert is_overdue(due, status, due + timedelta(minutes=minutes_after_due)) is overdue


@given(
    st.datetimes(
        min_value=datetime(2025, 1, 1),
        max_value=datetime(2028, 12, 31),
        timezones=st.just(UTC),
    ),
    st.sampled_from(list(Severity)),
)
def test_due_is_always_later_and_inside_working_hours(raised: datetime, severity: Severity) -> None:
    due = due_at(raised, severity, POLICY)
    assert due.tzinfo is UTC
    assert due > raised
    local = due.astimezone(LONDON)
    assert POLICY.is_working_day(local.date())
    assert POLICY.opens_at < local.time() <= POLICY.closes_at
    if severity is RED:
        assert due - raised <= timedelta(days=7), "a red alert is never due a week later"
        assert due <= due_at(raised, AMBER, POLICY), "red is never due after amber"


def test_raised_at_closing_with_a_cut_off_at_closing_rolls_to_the_next_day() -> None:
    policy = ResponsePolicy(red_cutoff=time(18, 0))
    assert due_at(london("2026-11-17T17:00"), RED, policy) == london("2026-11-18T11:00")
    assert due_at(london("2026-11-17T18:00"), RED, policy) == london("2026-11-18T12:00")
