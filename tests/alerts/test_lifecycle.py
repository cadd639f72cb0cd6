"""The alert lifecycle as tables: every move from every status, legal or refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alerts.lifecycle import (
    MINUTES_MAX,
    NOTE_MAX_CHARS,
    SYSTEM_OUTCOMES,
    AlertState,
    AlertStatus,
    EventKind,
    IllegalTransition,
    InvalidInput,
    Outcome,
    Severity,
    Transition,
    acknowledge,
    add_note,
    assign,
    attach_evidence,
    close_by_system,
    escalate,
    is_overdue,
    raise_alert,
    raise_severity,
    resolve,
)

RAISED = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)
DUE = RAISED + timedelta(hours=4)
LATER = RAISED + timedelta(hours=1)
OVERDUE = DUE + timedelta(minutes=1)

OPEN = AlertState(status=AlertStatus.OPEN, severity=Severity.AMBER, due_at=DUE, version=3)
ACKNOWLEDGED = replace(
    OPEN,
    status=AlertStatus.ACKNOWLEDGED,
    acknowledged_at=RAISED,
    first_action_at=RAISED,
    version=4,
)
RESOLVED = replace(
    ACKNOWLEDGED,
    status=AlertStatus.RESOLVED,
    resolved_at=RAISED,
    outcome=Outcome.ADVICE_GIVEN,
    version=5,
)
STATES = {"open": OPEN, "acknowledged": ACKNOWLEDGED, "resolved": RESOLVED}

Move = Callable[[AlertState], Transition]
MOVES: dict[str, tuple[Move, EventKind, str | None]] = {
    "acknowledge": (lambda s: acknowledge(s, "nurse-1", LATER), EventKind.ACKNOWLEDGED, "nurse-1"),
    "assign": (lambda s: assign(s, "nurse-2", "nurse-1", LATER), EventKind.ASSIGNED, "nurse-1"),
    "add_note": (
        lambda s: add_note(s, "rang patient", "nurse-1", LATER),
        EventKind.NOTE_ADDED,
        "nurse-1",
    ),
    "resolve": (
        lambda s: resolve(s, Outcome.DIURETIC_ADJUSTED, None, "nurse-1", LATER),
        EventKind.RESOLVED,
        "nurse-1",
    ),
    "escalate": (lambda s: escalate(s, OVERDUE), EventKind.ESCALATED, None),
    "raise_severity": (
        lambda s: raise_severity(s, Severity.RED, OVERDUE, LATER),
        EventKind.SEVERITY_RAISED,
        None,
    ),
    "attach_evidence": (
        lambda s: attach_evidence(s, ("reading-9",), LATER),
        EventKind.EVIDENCE_ADDED,
        None,
    ),
}

# move, from status, resulting status (None: refused with 409)
TABLE = [
    ("acknowledge", "open", AlertStatus.ACKNOWLEDGED),
    ("acknowledge", "acknowledged", None),
    ("acknowledge", "resolved", None),
    ("assign", "open", AlertStatus.OPEN),
    ("assign", "acknowledged", AlertStatus.ACKNOWLEDGED),
    ("assign", "resolved", None),
    ("add_note", "open", AlertStatus.OPEN),
    ("add_note", "acknowledged", AlertStatus.ACKNOWLEDGED),
    ("add_note", "resolved", None),
    ("resolve", "open", AlertStatus.RESOLVED),
    ("resolve", "acknowledged", AlertStatus.RESOLVED),
    ("resolve", "resolved", None),
    ("escalate", "open", AlertStatus.OPEN),
    ("escalate", "acknowledged", AlertStatus.ACKNOWLEDGED),
    ("escalate", "resolved", None),
    ("raise_severity", "open", AlertStatus.OPEN),
    ("raise_severity", "acknowledged", AlertStatus.ACKNOWLEDGED),
    ("raise_severity", "resolved", None),
    ("attach_evidence", "open", AlertStatus.OPEN),
    ("attach_evidence", "acknowledged", AlertStatus.ACKNOWLEDGED),
    ("attach_evidence", "resolved", None),
]


def test_table_covers_every_move_from_every_status() -> None:
    assert {(m, s) for m, s, _ in TABLE} == {(m, s) for m in MOVES for s in STATES}


@pytest.mark.parametrize(("move", "start", "expected"), TABLE)
def test_move(move: str, start: str, expected: AlertStatus | None) -> None:
    apply, kind, actor = MOVES[move]
    state = STATES[start]
    if expected is None:
        with pytest.raises(IllegalTransition) as refused:
            apply(state)
        assert refused.value.message
        return
    new_state, event = apply(state)
    assert new_state.status is expected
    assert new_state.version == state.version + 1
    assert event.version == new_state.version
    assert event.kind is kind
    assert event.actor_id == actor
    assert event.from_status is state.status
    assert event.to_status is expected
    assert event.severity is new_state.severity


def test_raise_alert_starts_open_at_version_one() -> None:
    state, event = raise_alert(Severity.RED, DUE, RAISED)
    assert state == AlertState(status=AlertStatus.OPEN, severity=Severity.RED, due_at=DUE)
    assert state.version == 1
    assert (event.kind, event.version, event.from_status, event.to_status) == (
        EventKind.RAISED,
        1,
        None,
        AlertStatus.OPEN,
    )
    assert event.actor_id is None
    assert event.due_at == DUE


@pytest.mark.parametrize("move", ["acknowledge", "assign", "add_note", "resolve"])
def test_first_clinician_action_sets_first_action_at(move: str) -> None:
    new_state, _ = MOVES[move][0](OPEN)
    assert new_state.first_action_at == LATER


@pytest.mark.parametrize("move", ["assign", "add_note", "resolve"])
def test_later_actions_keep_the_first_action_time(move: str) -> None:
    new_state, _ = MOVES[move][0](ACKNOWLEDGED)
    assert new_state.first_action_at == RAISED


@pytest.mark.parametrize("move", ["escalate", "raise_severity", "attach_evidence"])
def test_system_moves_are_not_clinician_actions(move: str) -> None:
    new_state, _ = MOVES[move][0](OPEN)
    assert new_state.first_action_at is None


def test_acknowledge_records_when() -> None:
    new_state, _ = acknowledge(OPEN, "nurse-1", LATER)
    assert new_state.acknowledged_at == LATER


def test_resolve_records_outcome_time_and_note() -> None:
    new_state, event = resolve(ACKNOWLEDGED, Outcome.ADMITTED, "  sent to A&E  ", "dr-1", LATER)
    assert (new_state.outcome, new_state.resolved_at) == (Outcome.ADMITTED, LATER)
    assert (event.outcome, event.note) == (Outcome.ADMITTED, "sent to A&E")


def test_resolve_treats_a_blank_note_as_none() -> None:
    _, event = resolve(OPEN, Outcome.NO_ACTION_NEEDED, "   ", "dr-1", LATER)
    assert event.note is None


def test_resolve_rejects_an_unknown_outcome() -> None:
    with pytest.raises(InvalidInput) as invalid:
        resolve(OPEN, "cured", None, "dr-1", LATER)  # type: ignore[arg-type]
    assert invalid.value.field == "outcome"


def test_resolve_rejects_an_overlong_note() -> None:
    with pytest.raises(InvalidInput):
        resolve(OPEN, Outcome.REFERRED, "x" * (NOTE_MAX_CHARS + 1), "dr-1", LATER)


def test_resolve_keeps_the_minutes_on_the_alert_and_in_its_event() -> None:
    new_state, event = resolve(OPEN, Outcome.ADVICE_GIVEN, None, "dr-1", LATER, minutes=25)
    assert (new_state.minutes_spent, event.minutes_spent) == (25, 25)


def test_resolve_without_minutes_records_none() -> None:
    new_state, event = resolve(OPEN, Outcome.ADVICE_GIVEN, None, "dr-1", LATER)
    assert (new_state.minutes_spent, event.minutes_spent) == (None, None)


@pytest.mark.parametrize("minutes", [0, 1, MINUTES_MAX])
def test_resolve_takes_minutes_at_the_bounds(minutes: int) -> None:
    assert resolve(
        OPEN, Outcome.REFERRED, None, "dr-1", LATER, minutes=minutes
    ).event.minutes_spent == (minutes)


@pytest.mark.parametrize("minutes", [-1, MINUTES_MAX + 1, True, 2.5])
def test_resolve_refuses_minutes_out_of_range_or_not_whole(minutes: int) -> None:
    with pytest.raises(InvalidInput) as invalid:
        resolve(OPEN, Outcome.REFERRED, None, "dr-1", LATER, minutes=minutes)
    assert invalid.value.field == "minutes"


def test_every_clinician_outcome_resolves() -> None:
    for outcome in Outcome:
        if outcome in SYSTEM_OUTCOMES:
            with pytest.raises(InvalidInput):
                resolve(OPEN, outcome, None, "dr-1", LATER)
        else:
            assert resolve(OPEN, outcome, None, "dr-1", LATER).new_state.outcome is outcome


def test_the_service_closes_with_its_own_outcome_and_no_first_action() -> None:
    state, event = close_by_system(OPEN, Outcome.PATIENT_DIED, " Death recorded. ", LATER)
    assert state.status is AlertStatus.RESOLVED and state.outcome is Outcome.PATIENT_DIED
    assert state.first_action_at is None and state.resolved_at == LATER
    assert event.actor_id is None and event.note == "Death recorded."
    with pytest.raises(InvalidInput):
        close_by_system(OPEN, Outcome.ADVICE_GIVEN, "no", LATER)
    with pytest.raises(IllegalTransition):
        close_by_system(state, Outcome.PATIENT_DIED, "again", LATER)


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("x", "x"),
        ("  weighed again, 81.9 kg \n", "weighed again, 81.9 kg"),
        ("y" * NOTE_MAX_CHARS, "y" * NOTE_MAX_CHARS),
        (" " + "z" * NOTE_MAX_CHARS + " ", "z" * NOTE_MAX_CHARS),
    ],
)
def test_note_text_is_stripped(text: str, stored: str) -> None:
    assert add_note(OPEN, text, "nurse-1", LATER).event.note == stored


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "y" * (NOTE_MAX_CHARS + 1)])
def test_note_text_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as invalid:
        add_note(OPEN, text, "nurse-1", LATER)
    assert invalid.value.field == "text"


def test_invalid_input_is_reported_before_the_state_is_checked() -> None:
    # The API validates the body first, so a blank note on a resolved alert is a 422, not a 409.
    with pytest.raises(InvalidInput):
        add_note(RESOLVED, " ", "nurse-1", LATER)


def test_assign_records_the_handover() -> None:
    first = assign(OPEN, " nurse-2 ", "nurse-1", LATER)
    assert first.new_state.assignee_id == "nurse-2"
    assert (first.event.assignee_id, first.event.previous_assignee_id) == ("nurse-2", None)
    second = assign(first.new_state, "nurse-3", "nurse-2", LATER)
    assert (second.event.assignee_id, second.event.previous_assignee_id) == ("nurse-3", "nurse-2")


def test_assigning_to_the_current_assignee_is_refused() -> None:
    state = replace(OPEN, assignee_id="nurse-2")
    with pytest.raises(IllegalTransition):
        assign(state, "nurse-2", "nurse-1", LATER)


def test_assign_needs_an_assignee() -> None:
    with pytest.raises(InvalidInput):
        assign(OPEN, "  ", "nurse-1", LATER)


@pytest.mark.parametrize(
    "move",
    [
        lambda: acknowledge(OPEN, " ", LATER),
        lambda: assign(OPEN, "nurse-2", "", LATER),
        lambda: add_note(OPEN, "n", "", LATER),
        lambda: resolve(OPEN, Outcome.REFERRED, None, "", LATER),
    ],
)
def test_clinician_moves_need_an_actor(move: Callable[[], Transition]) -> None:
    with pytest.raises(InvalidInput) as invalid:
        move()
    assert invalid.value.field == "actor_id"


NAIVE = datetime(2026, 11, 17, 10, 0)


@pytest.mark.parametrize(
    "move",
    [
        lambda: raise_alert(Severity.RED, DUE, NAIVE),
        lambda: raise_alert(Severity.RED, NAIVE, RAISED),
        lambda: attach_evidence(OPEN, ("r",), NAIVE),
        lambda: raise_severity(OPEN, Severity.RED, NAIVE, LATER),
        lambda: acknowledge(OPEN, "nurse-1", NAIVE),
        lambda: assign(OPEN, "nurse-2", "nurse-1", NAIVE),
        lambda: add_note(OPEN, "n", "nurse-1", NAIVE),
        lambda: resolve(OPEN, Outcome.REFERRED, None, "nurse-1", NAIVE),
        lambda: escalate(OPEN, NAIVE),
        lambda: is_overdue(NAIVE, AlertStatus.OPEN, LATER),
    ],
)
def test_naive_times_are_refused(move: Callable[[], object]) -> None:
    with pytest.raises(InvalidInput):
        move()


def test_escalation_happens_exactly_once() -> None:
    escalated, event = escalate(OPEN, OVERDUE)
    assert escalated.escalated_at == OVERDUE
    assert event.actor_id is None
    with pytest.raises(IllegalTransition, match="already"):
        escalate(escalated, OVERDUE + timedelta(hours=1))
    # ...even after the alert has moved on and is overdue again.
    acknowledged = acknowledge(escalated, "nurse-1", OVERDUE).new_state
    with pytest.raises(IllegalTransition, match="already"):
        escalate(acknowledged, OVERDUE + timedelta(days=1))


@pytest.mark.parametrize("now", [RAISED, DUE])
def test_escalation_waits_until_overdue(now: datetime) -> None:
    with pytest.raises(IllegalTransition, match="not overdue"):
        escalate(OPEN, now)


def test_escalating_a_resolved_alert_is_refused_even_when_late() -> None:
    with pytest.raises(IllegalTransition, match="resolved"):
        escalate(RESOLVED, OVERDUE + timedelta(days=3))


@pytest.mark.parametrize("to", [Severity.AMBER])
def test_severity_never_falls_or_stays(to: Severity) -> None:
    with pytest.raises(IllegalTransition):
        raise_severity(OPEN, to, DUE, LATER)
    red = replace(OPEN, severity=Severity.RED)
    for lower_or_same in Severity:
        with pytest.raises(IllegalTransition):
            raise_severity(red, lower_or_same, DUE, LATER)


def test_severity_rise_keeps_the_earlier_due_time() -> None:
    sooner = DUE - timedelta(hours=2)
    risen, event = raise_severity(OPEN, Severity.RED, sooner, LATER, ("r-2",))
    assert (risen.severity, risen.due_at) == (Severity.RED, sooner)
    assert (event.previous_severity, event.severity, event.due_at) == (
        Severity.AMBER,
        Severity.RED,
        sooner,
    )
    assert event.evidence_ids == ("r-2",)
    later_due = raise_severity(OPEN, Severity.RED, DUE + timedelta(days=1), LATER).new_state
    assert later_due.due_at == DUE


def test_attach_evidence_needs_evidence() -> None:
    with pytest.raises(InvalidInput):
        attach_evidence(OPEN, (), LATER)
    assert attach_evidence(OPEN, ("a", "b"), LATER).event.evidence_ids == ("a", "b")


@pytest.mark.parametrize(
    ("status", "now", "overdue"),
    [
        (AlertStatus.OPEN, DUE - timedelta(seconds=1), False),
        (AlertStatus.OPEN, DUE, False),
        (AlertStatus.OPEN, DUE + timedelta(microseconds=1), True),
        (AlertStatus.ACKNOWLEDGED, DUE + timedelta(hours=1), True),
        (AlertStatus.RESOLVED, DUE + timedelta(hours=1), False),
    ],
)
def test_is_overdue(status: AlertStatus, now: datetime, overdue: bool) -> None:
    assert is_overdue(DUE, status, now) is overdue


def test_severity_orders_by_urgency() -> None:
    assert Severity.AMBER < Severity.RED
    assert Severity.AMBER <= Severity.AMBER
    assert Severity.RED > Severity.AMBER
    assert Severity.RED >= Severity.RED
    assert max(Severity) is Severity.RED
    assert sorted([Severity.RED, Severity.AMBER]) == [Severity.AMBER, Severity.RED]
    assert [Severity.from_rank(s.rank) for s in Severity] == list(Severity)
    with pytest.raises(ValueError, match="rank"):
        Severity.from_rank(0)


@pytest.mark.parametrize(
    "compare",
    [
        lambda: Severity.RED < 1,
        lambda: Severity.RED <= 1,
        lambda: Severity.RED > 1,
        lambda: Severity.RED >= 1,
    ],
)
def test_severity_does_not_compare_with_other_types(compare: Callable[[], bool]) -> None:
    with pytest.raises(TypeError):
        compare()


def test_wire_values_match_the_contract() -> None:
    assert [o.value for o in Outcome] == [
        "advice_given",
        "diuretic_adjusted",
        "medication_titrated",
        "seen_in_person",
        "referred",
        "admitted",
        "no_action_needed",
        "patient_unreachable",
        "patient_died",
        "no_longer_due",
    ]
    assert [s.value for s in AlertStatus] == ["open", "acknowledged", "resolved"]


@given(st.lists(st.sampled_from(sorted(MOVES)), max_size=12))
def test_any_sequence_of_moves_keeps_the_invariants(moves: list[str]) -> None:
    state, _ = raise_alert(Severity.AMBER, DUE, RAISED)
    escalations = 0
    first_action: datetime | None = None
    for move in moves:
        try:
            new_state, event = MOVES[move][0](state)
        except IllegalTransition:
            continue
        assert state.status is not AlertStatus.RESOLVED
        assert new_state.version == state.version + 1 == event.version
        assert new_state.severity >= state.severity
        if first_action is not None:
            assert new_state.first_action_at == first_action
        first_action = new_state.first_action_at
        escalations += event.kind is EventKind.ESCALATED
        state = new_state
    assert escalations <= 1
