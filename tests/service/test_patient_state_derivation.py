"""The pure derivation of a patient's state from their recorded events (service.patients.state)."""

from __future__ import annotations

import itertools
import uuid
from datetime import date

import pytest

from service.patients.state import EventFact, PatientState, ReviewDue, derive, hospital_stays

TODAY = date(2026, 11, 20)
ENROLLED = date(2026, 10, 21)
IDS = [uuid.UUID(int=i + 1) for i in range(6)]


def admit(n: int, on: str, out: str | None = None) -> EventFact:
    return EventFact(
        IDS[n], "admission", date.fromisoformat(on), date.fromisoformat(out) if out else None
    )


def died(n: int, on: str) -> EventFact:
    return EventFact(IDS[n], "death", date.fromisoformat(on))


def review(n: int, out: str, due: str) -> ReviewDue:
    return ReviewDue(IDS[n], date.fromisoformat(out), date.fromisoformat(due))


D = date.fromisoformat

CASES = [
    ("nothing recorded", [], PatientState(None, None, None)),
    (
        "admitted, no discharge yet",
        [admit(0, "2026-11-10")],
        PatientState(None, D("2026-11-10"), None),
    ),
    (
        "admitted then discharged",
        [admit(0, "2026-11-10", "2026-11-18")],
        PatientState(None, None, review(0, "2026-11-18", "2026-12-02")),
    ),
    (
        "discharged today is home",
        [admit(0, "2026-11-10", "2026-11-20")],
        PatientState(None, None, review(0, "2026-11-20", "2026-12-04")),
    ),
    (
        "admitted, died in hospital",
        [admit(0, "2026-11-10"), died(1, "2026-11-15")],
        PatientState(D("2026-11-15"), None, None),
    ),
    (
        "overlapping admissions, the later still open",
        [admit(0, "2026-11-01", "2026-11-12"), admit(1, "2026-11-10")],
        PatientState(None, D("2026-11-01"), None),
    ),
    (
        "overlapping admissions, both discharged: the later discharge is reviewed",
        [admit(0, "2026-11-01", "2026-11-16"), admit(1, "2026-11-10", "2026-11-12")],
        PatientState(None, None, review(0, "2026-11-16", "2026-11-30")),
    ),
    (
        "transferred the same day",
        [admit(0, "2026-11-01", "2026-11-08"), admit(1, "2026-11-08", "2026-11-14")],
        PatientState(None, None, review(1, "2026-11-14", "2026-11-28")),
    ),
    (
        "readmitted: no review owed while in hospital",
        [admit(0, "2026-11-01", "2026-11-05"), admit(1, "2026-11-15")],
        PatientState(None, D("2026-11-15"), None),
    ),
    (
        "an admission before enrolment is history, not a discharge to review",
        [admit(0, "2026-09-01", "2026-09-20")],
        PatientState(None, None, None),
    ),
]


@pytest.mark.parametrize(("events", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_state_from_events(events: list[EventFact], expected: PatientState) -> None:
    assert derive(events, TODAY, ENROLLED) == expected


@pytest.mark.parametrize(("events", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_order_events_arrive_in_does_not_matter(
    events: list[EventFact], expected: PatientState
) -> None:
    for order in itertools.permutations(events):
        assert derive(order, TODAY, ENROLLED) == expected


def test_a_stay_covers_admission_day_up_to_but_not_the_discharge_day() -> None:
    (stay,) = hospital_stays([admit(0, "2026-11-10", "2026-11-12")])
    days = [D(f"2026-11-{d:02d}") for d in (9, 10, 11, 12)]
    assert [stay.covers(day) for day in days] == [False, True, True, False]


def test_death_wins_over_everything_else() -> None:
    events = [admit(0, "2026-11-01", "2026-11-05"), admit(1, "2026-11-10"), died(2, "2026-11-19")]
    assert derive(events, TODAY, ENROLLED) == PatientState(D("2026-11-19"), None, None)
    # Corrected: the same events without the death.
    assert derive(events[:2], TODAY, ENROLLED).in_hospital_since == D("2026-11-10")
