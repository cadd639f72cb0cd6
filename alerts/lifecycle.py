"""Alert lifecycle: a pure state machine over a small immutable state.

Every move is a function ``(state, ..., now) -> Transition(new_state, event)`` or raises
``IllegalTransition`` (the API answers 409). Bad input, such as an empty note, raises
``InvalidInput`` instead (the API answers 422): the two must not be confused, because a 409 tells
a clinician "someone else already moved this alert", a 422 "fix what you typed".

Legal moves::

    move              from                      sets
    raise_alert       (new alert)               status=open, version=1
    attach_evidence   open, acknowledged        (evidence rows are the service's)
    raise_severity    open, acknowledged        severity (only upwards), severity_raised_at,
                                                due_at (the new severity's, see below)
    acknowledge       open                      status=acknowledged, acknowledged_at
    assign            open, acknowledged        assignee_id (a different one)
    add_note          open, acknowledged        (the note lives in the event)
    resolve           open, acknowledged        status=resolved, resolved_at, outcome,
                                                minutes_spent (optional, 0..1440)
    escalate          open, acknowledged,       escalated_at (once per alert)
                      overdue, not escalated

Nothing leaves ``resolved``: a resolved alert never reopens, a new episode is a new alert.

Concurrency: every transition returns ``version + 1``. The service persists with
``UPDATE alerts SET ..., version = :new WHERE id = :id AND version = :old`` and treats zero rows
as a conflict (409), so two clinicians cannot silently overwrite each other's move. The event's
``version`` is the version the alert has after the event, which orders an alert's events.

Identifiers (alert, user) are opaque strings: the service passes ``str(uuid)``. Times must be
timezone-aware; they are stored as given (the service passes UTC).

Reports measure time to first action from ``first_action_at``: the first acknowledge, assign,
note or resolve by a clinician. System moves (raise, evidence, severity, escalation) do not count.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

__all__ = [
    "MINUTES_MAX",
    "NOTE_MAX_CHARS",
    "AlertEvent",
    "AlertState",
    "AlertStatus",
    "EventKind",
    "IllegalTransition",
    "InvalidInput",
    "Outcome",
    "Severity",
    "Transition",
    "acknowledge",
    "add_note",
    "assign",
    "attach_evidence",
    "escalate",
    "is_overdue",
    "raise_alert",
    "raise_severity",
    "resolve",
]

NOTE_MAX_CHARS = 4000
# The minutes a clinician may say one piece of work took: a day. More is a typing slip, and the
# reports cost staff time from these minutes.
MINUTES_MAX = 1440


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Severity(StrEnum):
    """Alert severity, ordered by clinical urgency (``AMBER < RED``), not alphabetically."""

    AMBER = "amber"
    RED = "red"

    @property
    def rank(self) -> int:
        """Higher is more urgent; stored in the database so the queue index can sort on it."""
        return _SEVERITY_RANK[self]

    @classmethod
    def from_rank(cls, rank: int) -> Severity:
        for severity, known in _SEVERITY_RANK.items():
            if known == rank:
                return severity
        raise ValueError(f"no severity has rank {rank}")

    # str already defines the comparisons (alphabetically), so total_ordering would add nothing:
    # each one is spelled out to compare by rank.
    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank


_SEVERITY_RANK: dict[Severity, int] = {Severity.AMBER: 1, Severity.RED: 2}


class Outcome(StrEnum):
    ADVICE_GIVEN = "advice_given"
    DIURETIC_ADJUSTED = "diuretic_adjusted"
    MEDICATION_TITRATED = "medication_titrated"
    SEEN_IN_PERSON = "seen_in_person"
    REFERRED = "referred"
    ADMITTED = "admitted"
    NO_ACTION_NEEDED = "no_action_needed"
    PATIENT_UNREACHABLE = "patient_unreachable"
    # Closed by the service, never chosen by a clinician (``close_by_system``).
    PATIENT_DIED = "patient_died"
    NO_LONGER_DUE = "no_longer_due"


# The outcomes only the service records: the API's list of clinicians' outcomes leaves them out.
SYSTEM_OUTCOMES = frozenset({Outcome.PATIENT_DIED, Outcome.NO_LONGER_DUE})


class EventKind(StrEnum):
    RAISED = "raised"
    EVIDENCE_ADDED = "evidence_added"
    SEVERITY_RAISED = "severity_raised"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    NOTE_ADDED = "note_added"
    RESOLVED = "resolved"
    ESCALATED = "escalated"


class IllegalTransition(Exception):
    """The lifecycle does not allow this move from the alert's current state (HTTP 409)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(ValueError):
    """The move is allowed but its input is not, e.g. a blank note (HTTP 422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertState:
    """The part of an alert the lifecycle decides on; the service keeps the rest in its row.

    ``due_at`` is here, not only in the row, because escalation depends on it and a severity
    rise may bring it forward.
    """

    status: AlertStatus
    severity: Severity
    due_at: datetime
    assignee_id: str | None = None
    version: int = 1
    escalated_at: datetime | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    outcome: Outcome | None = None
    first_action_at: datetime | None = None
    # When the alert last rose in severity (for the queue: "became red at"); None until it does.
    severity_raised_at: datetime | None = None
    # What the resolving clinician said all the work on the alert took; None if not said.
    minutes_spent: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertEvent:
    """One row of the alert's audit trail: what happened, who did it (``None`` = system), when.

    Only the fields that belong to ``kind`` are set; the others stay ``None``/empty.
    """

    kind: EventKind
    at: datetime
    actor_id: str | None
    version: int
    from_status: AlertStatus | None
    to_status: AlertStatus
    severity: Severity
    previous_severity: Severity | None = None
    assignee_id: str | None = None
    previous_assignee_id: str | None = None
    note: str | None = None
    outcome: Outcome | None = None
    evidence_ids: tuple[str, ...] = ()
    due_at: datetime | None = None
    minutes_spent: int | None = None


class Transition(NamedTuple):
    """A NamedTuple, not a dataclass, so that ``state, event = acknowledge(...)`` keeps types."""

    new_state: AlertState
    event: AlertEvent


def raise_alert(severity: Severity, due_at: datetime, now: datetime) -> Transition:
    """A new open alert at version 1 and its ``raised`` event.

    ``due_at`` comes from ``alerts.sla.due_at``; evidence is attached by the service from the
    ``RaiseAlert`` action of ``alerts.raising.plan``.
    """
    _require_aware(now, "now")
    _require_aware(due_at, "due_at")
    state = AlertState(status=AlertStatus.OPEN, severity=severity, due_at=due_at, version=1)
    event = AlertEvent(
        kind=EventKind.RAISED,
        at=now,
        actor_id=None,
        version=1,
        from_status=None,
        to_status=AlertStatus.OPEN,
        severity=severity,
        due_at=due_at,
    )
    return Transition(state, event)


def attach_evidence(state: AlertState, evidence_ids: tuple[str, ...], now: datetime) -> Transition:
    """Record that new readings support an open alert (the pathway found the same rule again)."""
    _require_aware(now, "now")
    _require_not_resolved(state, "attach evidence to")
    if not evidence_ids:
        raise InvalidInput("evidence_ids", "at least one evidence id is needed")
    return _system_move(state, EventKind.EVIDENCE_ADDED, now, evidence_ids=evidence_ids)


def raise_severity(
    state: AlertState,
    to: Severity,
    due_at: datetime,
    now: datetime,
    evidence_ids: tuple[str, ...] = (),
) -> Transition:
    """Make an unresolved alert more urgent; never lowers it, and records when it rose.

    ``due_at`` is the due time of the new severity counted from ``now`` (``alerts.sla.due_at``,
    which knows the working hours). The rise starts the new severity's clock:

    - while the old due time is still ahead, the alert keeps the earlier of the two, so a red rise
      near the end of an amber window does not give the team longer than it already had;
    - once the old due time has passed, the alert is due at the new severity's time: a rise is a
      new clinical fact that needs a response within the red time, and an amber alert overdue by
      weeks must not make a red finding of today read "overdue by 86 days". Its lateness as an
      amber alert stays on record (``escalated_at``, the events).
    """
    _require_aware(now, "now")
    _require_aware(due_at, "due_at")
    _require_not_resolved(state, "raise the severity of")
    if to <= state.severity:
        raise IllegalTransition(f"severity can only rise: the alert is already {state.severity}")
    new_due = due_at if is_overdue(state.due_at, state.status, now) else min(state.due_at, due_at)
    return _system_move(
        state,
        EventKind.SEVERITY_RAISED,
        now,
        severity=to,
        due_at=new_due,
        severity_raised_at=now,
        previous_severity=state.severity,
        evidence_ids=evidence_ids,
    )


def acknowledge(state: AlertState, actor_id: str, now: datetime) -> Transition:
    """A clinician has seen the alert and is dealing with it. Only from ``open``."""
    _require_actor(actor_id)
    _require_aware(now, "now")
    if state.status is not AlertStatus.OPEN:
        raise IllegalTransition(f"only an open alert can be acknowledged; it is {state.status}")
    new_state = replace(
        state,
        status=AlertStatus.ACKNOWLEDGED,
        acknowledged_at=now,
        version=state.version + 1,
        first_action_at=_first_action(state, now),
    )
    return Transition(new_state, _event(state, new_state, EventKind.ACKNOWLEDGED, now, actor_id))


def assign(state: AlertState, assignee_id: str, actor_id: str, now: datetime) -> Transition:
    """Give the alert to a clinician; the service checks the assignee belongs to the team."""
    _require_actor(actor_id)
    _require_aware(now, "now")
    assignee = assignee_id.strip()
    if not assignee:
        raise InvalidInput("user_id", "an assignee is needed")
    _require_not_resolved(state, "assign")
    if assignee == state.assignee_id:
        # Refused rather than recorded so the audit trail does not fill with no-op handovers.
        raise IllegalTransition("the alert is already assigned to that user")
    new_state = replace(
        state,
        assignee_id=assignee,
        version=state.version + 1,
        first_action_at=_first_action(state, now),
    )
    event = _event(
        state,
        new_state,
        EventKind.ASSIGNED,
        now,
        actor_id,
        assignee_id=assignee,
        previous_assignee_id=state.assignee_id,
    )
    return Transition(new_state, event)


def add_note(state: AlertState, text: str, actor_id: str, now: datetime) -> Transition:
    """Append a clinical note (1..4000 characters after stripping whitespace)."""
    _require_actor(actor_id)
    _require_aware(now, "now")
    note = _clean_note(text)
    if note is None:
        raise InvalidInput("text", "a note cannot be blank")
    _require_not_resolved(state, "add a note to")
    new_state = replace(state, version=state.version + 1, first_action_at=_first_action(state, now))
    return Transition(
        new_state, _event(state, new_state, EventKind.NOTE_ADDED, now, actor_id, note=note)
    )


def resolve(
    state: AlertState,
    outcome: Outcome,
    note: str | None,
    actor_id: str,
    now: datetime,
    *,
    minutes: int | None = None,
) -> Transition:
    """Close the alert with an outcome from the fixed list; a blank note counts as no note.

    ``minutes`` is the time all the work on the alert took, as the clinician says (0..1440),
    kept on the alert and in its ``resolved`` event; ``None`` when they did not say.
    """
    _require_actor(actor_id)
    _require_aware(now, "now")
    if not isinstance(outcome, Outcome) or outcome in SYSTEM_OUTCOMES:
        raise InvalidInput("outcome", f"unknown outcome {outcome!r}")
    if minutes is not None and not (
        isinstance(minutes, int) and not isinstance(minutes, bool) and 0 <= minutes <= MINUTES_MAX
    ):
        raise InvalidInput("minutes", f"minutes must be a whole number from 0 to {MINUTES_MAX}")
    clean = None if note is None else _clean_note(note)
    _require_not_resolved(state, "resolve")
    new_state = replace(
        _resolved(state, outcome, now, _first_action(state, now)), minutes_spent=minutes
    )
    event = _event(
        state,
        new_state,
        EventKind.RESOLVED,
        now,
        actor_id,
        note=clean,
        outcome=outcome,
        minutes_spent=minutes,
    )
    return Transition(new_state, event)


def close_by_system(state: AlertState, outcome: Outcome, note: str, now: datetime) -> Transition:
    """Close an alert because of a recorded fact (a death, a review no longer owed), with the
    outcome and a note saying why. No actor, and ``first_action_at`` is left as it was: the
    service closing an alert is not a response to the patient, so it never counts as one."""
    _require_aware(now, "now")
    _require_not_resolved(state, "close")
    if outcome not in SYSTEM_OUTCOMES:
        raise InvalidInput("outcome", f"{outcome!r} is a clinician's outcome")
    new_state = _resolved(state, outcome, now, state.first_action_at)
    event = _event(
        state, new_state, EventKind.RESOLVED, now, None, note=_clean_note(note), outcome=outcome
    )
    return Transition(new_state, event)


def _resolved(
    state: AlertState, outcome: Outcome, now: datetime, first_action_at: datetime | None
) -> AlertState:
    return replace(
        state,
        status=AlertStatus.RESOLVED,
        resolved_at=now,
        outcome=outcome,
        version=state.version + 1,
        first_action_at=first_action_at,
    )


def escalate(state: AlertState, now: datetime) -> Transition:
    """Mark an overdue, unresolved alert as escalated, once per alert (a system move).

    An acknowledged alert can still be escalated: acknowledging is not a response to the patient,
    and the response time is met only by resolving. A later severity rise does not re-escalate;
    the ``alert.severity_raised`` notification covers that case.
    """
    _require_aware(now, "now")
    _require_not_resolved(state, "escalate")
    if state.escalated_at is not None:
        raise IllegalTransition("the alert has already been escalated")
    if not is_overdue(state.due_at, state.status, now):
        raise IllegalTransition("the alert is not overdue")
    return _system_move(state, EventKind.ESCALATED, now, escalated_at=now)


def _system_move(
    state: AlertState,
    kind: EventKind,
    now: datetime,
    *,
    severity: Severity | None = None,
    due_at: datetime | None = None,
    escalated_at: datetime | None = None,
    severity_raised_at: datetime | None = None,
    previous_severity: Severity | None = None,
    evidence_ids: tuple[str, ...] = (),
) -> Transition:
    new_state = replace(
        state,
        severity=state.severity if severity is None else severity,
        due_at=state.due_at if due_at is None else due_at,
        escalated_at=state.escalated_at if escalated_at is None else escalated_at,
        severity_raised_at=(
            state.severity_raised_at if severity_raised_at is None else severity_raised_at
        ),
        version=state.version + 1,
    )
    event = _event(
        state,
        new_state,
        kind,
        now,
        None,
        previous_severity=previous_severity,
        evidence_ids=evidence_ids,
        due_at=due_at,
    )
    return Transition(new_state, event)


def _event(
    old: AlertState,
    new: AlertState,
    kind: EventKind,
    now: datetime,
    actor_id: str | None,
    *,
    previous_severity: Severity | None = None,
    assignee_id: str | None = None,
    previous_assignee_id: str | None = None,
    note: str | None = None,
    outcome: Outcome | None = None,
    evidence_ids: tuple[str, ...] = (),
    due_at: datetime | None = None,
    minutes_spent: int | None = None,
) -> AlertEvent:
    return AlertEvent(
        kind=kind,
        at=now,
        actor_id=actor_id,
        version=new.version,
        from_status=old.status,
        to_status=new.status,
        severity=new.severity,
        previous_severity=previous_severity,
        assignee_id=assignee_id,
        previous_assignee_id=previous_assignee_id,
        note=note,
        outcome=outcome,
        evidence_ids=evidence_ids,
        due_at=due_at,
        minutes_spent=minutes_spent,
    )


def is_overdue(due_at: datetime, status: AlertStatus, now: datetime) -> bool:
    """Past its due time and not resolved. Exactly at ``due_at`` is still on time.

    Acknowledged alerts can be overdue: the response time is met by resolving, not by opening
    the alert. Re-exported by ``alerts.sla``, which computes ``due_at``.
    """
    _require_aware(due_at, "due_at")
    _require_aware(now, "now")
    return status is not AlertStatus.RESOLVED and now > due_at


def _first_action(state: AlertState, now: datetime) -> datetime:
    return now if state.first_action_at is None else state.first_action_at


def _require_not_resolved(state: AlertState, verb: str) -> None:
    if state.status is AlertStatus.RESOLVED:
        raise IllegalTransition(f"cannot {verb} a resolved alert")


def _require_actor(actor_id: str) -> None:
    if not actor_id.strip():
        raise InvalidInput("actor_id", "a clinician move needs the acting user")


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(name, "a timezone-aware datetime is needed")


def _clean_note(text: str) -> str | None:
    note = text.strip()
    if not note:
        return None
    if len(note) > NOTE_MAX_CHARS:
        raise InvalidInput("text", f"a note is at most {NOTE_MAX_CHARS} characters")
    return note
