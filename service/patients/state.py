"""What a patient's recorded events mean for monitoring, as one pure function.

The state is derived from the whole event list every time an event is recorded, edited or
deleted, never updated step by step: events sent out of order, overlapping admissions (a
transfer between wards or hospitals is often recorded as two) and a corrected death then give
the same answer as the events recorded in order. No I/O and no clock: ``today`` is an input.

Days are Europe/London calendar days, as the events are. A patient is in hospital on a day from
the admission day up to, not including, the discharge day: on the day they come home they are
expected to weigh themselves again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

# NICE NG106 (1.7.2): a review within 2 weeks of discharge from hospital.
REVIEW_WITHIN = timedelta(days=14)
# The queue's task for it (an alert of kind 'task' in this group), and the reports' name for it.
REVIEW_GROUP = "post_discharge_review"


@dataclass(frozen=True, slots=True)
class EventFact:
    """The fields of a recorded event that the state depends on."""

    id: uuid.UUID
    kind: str  # admission, ae_attendance or death
    occurred_on: date
    discharged_on: date | None = None


@dataclass(frozen=True, slots=True)
class Stay:
    """One time in hospital: overlapping or back-to-back admissions merged into one."""

    admitted_on: date
    # None: still in hospital. The admission whose discharge ended the stay names it.
    discharged_on: date | None
    discharge_event_id: uuid.UUID | None

    def covers(self, day: date) -> bool:
        return self.admitted_on <= day and (self.discharged_on is None or day < self.discharged_on)


@dataclass(frozen=True, slots=True)
class ReviewDue:
    """A post-discharge review the team owes, for the discharge that ended ``stay``."""

    discharge_event_id: uuid.UUID
    discharged_on: date
    due_on: date


@dataclass(frozen=True, slots=True)
class PatientState:
    died_on: date | None
    # The first day of the stay the patient is in today, or None.
    in_hospital_since: date | None
    review: ReviewDue | None

    @property
    def monitoring_paused(self) -> bool:
        return self.in_hospital_since is not None


def hospital_stays(events: Iterable[EventFact]) -> list[Stay]:
    """Admissions merged into stays, oldest first. Two admissions overlap (or touch: discharged
    from one and admitted to another the same day) when one starts before the other ends."""
    admissions = sorted(
        (e for e in events if e.kind == "admission"), key=lambda e: (e.occurred_on, str(e.id))
    )
    stays: list[Stay] = []
    for event in admissions:
        last = stays[-1] if stays else None
        if last is not None and (
            last.discharged_on is None or event.occurred_on <= last.discharged_on
        ):
            stays[-1] = _merged(last, event)
        else:
            stays.append(Stay(event.occurred_on, event.discharged_on, _ended_by(event)))
    return stays


def _ended_by(event: EventFact) -> uuid.UUID | None:
    return event.id if event.discharged_on is not None else None


def _merged(stay: Stay, event: EventFact) -> Stay:
    if stay.discharged_on is None or event.discharged_on is None:
        return Stay(stay.admitted_on, None, None)
    if event.discharged_on > stay.discharged_on or (
        event.discharged_on == stay.discharged_on and str(event.id) > str(stay.discharge_event_id)
    ):
        return Stay(stay.admitted_on, event.discharged_on, event.id)
    return stay


def in_hospital_on(stays: Sequence[Stay], day: date) -> bool:
    return any(stay.covers(day) for stay in stays)


def derive(events: Iterable[EventFact], today: date, enrolled_on: date) -> PatientState:
    """The patient's state today from every recorded event.

    - A death ends monitoring: no stay, no review (the team is not asked to review someone who
      has died; a death in hospital leaves no discharge to review).
    - An admission with no discharge date, or one ending after today, pauses monitoring.
    - The last discharge, if on or after enrolment and not followed by another admission, is
      owed a review within 14 days. Admissions before enrolment are history the team recorded
      for the reports, not discharges this service was monitoring through.
    """
    facts = list(events)
    deaths = sorted(e.occurred_on for e in facts if e.kind == "death")
    died_on = deaths[0] if deaths else None
    if died_on is not None:
        return PatientState(died_on=died_on, in_hospital_since=None, review=None)
    stays = [s for s in hospital_stays(facts) if s.admitted_on <= today]
    current = next((s for s in stays if s.covers(today)), None)
    if current is not None:
        return PatientState(died_on=None, in_hospital_since=current.admitted_on, review=None)
    last = stays[-1] if stays else None
    review = None
    if (
        last is not None
        and last.discharged_on is not None
        and last.discharge_event_id is not None
        and last.discharged_on >= enrolled_on
    ):
        review = ReviewDue(
            last.discharge_event_id, last.discharged_on, last.discharged_on + REVIEW_WITHIN
        )
    return PatientState(died_on=None, in_hospital_since=None, review=review)
