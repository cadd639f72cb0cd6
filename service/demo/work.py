"""A year of the teams' work on one patient, replayed in time order through the live code.

Each day the pathway found something in the patient's readings, the findings go to
``service.alerting.raise_from_findings`` at the time they arrived, exactly as an ingest sends
them (one open alert per clinical problem; evidence added, or raised to red). Each hospital
discharge the team records derives the patient's state (``service.patients.events.apply_state``),
which owes a post-discharge review task. The team's nurses then work each alert and task through
the alerting use cases (acknowledge, assign, resolve with an outcome and the minutes it took),
audited as from the pages, before whatever arrives next. Between alerts the team rings each
patient every few weeks and now and then visits (the contacts, with their minutes). A few
patients' monitoring is paused (the patient use case); monitoring ends through the discharge use
case, or the recorded death. What happened in the last two days is left for the teams to do:
today's queue.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

import pathway
from alerts import lifecycle
from service import alerting
from service.alerting import service as alert_cases
from service.alerting.schemas import AssignIn, ResolveIn
from service.demo.store import Org, Stored
from service.deps import Principal
from service.models import Alert, Patient, PatientContact
from service.patients import events
from service.patients import service as patient_cases
from service.patients.schemas import PatientPatch
from service.patients.state import REVIEW_GROUP
from service.reports.schemas import DischargeIn
from service.timeutil import LONDON

ROUTE = "mhf demo"
# What the nurses recorded when they resolved an alert, and how often.
OUTCOMES: tuple[tuple[str, int], ...] = (
    ("advice_given", 35),
    ("diuretic_adjusted", 20),
    ("no_action_needed", 26),
    ("medication_titrated", 8),
    ("seen_in_person", 7),
    ("referred", 4),
    ("patient_unreachable", 4),
    ("admitted", 2),
)
REVIEW_OUTCOMES: tuple[tuple[str, int], ...] = (
    ("seen_in_person", 60),
    ("advice_given", 30),
    ("referred", 10),
)
# The share of alerts and review tasks (older than today's queues) the team works late.
LATE_SHARE = 0.12
# Work planned for later than this is left undone: the teams' queues today.
LEFT_FOR_TODAY = timedelta(days=2)
# The minutes a nurse says an alert took, by outcome: a home visit is most of a morning's slot,
# a look at the readings that needed nothing a few minutes. Red alerts take a call more.
MINUTES_BY_OUTCOME: dict[str, tuple[int, int]] = {
    "advice_given": (8, 20),
    "diuretic_adjusted": (12, 25),
    "no_action_needed": (3, 8),
    "medication_titrated": (15, 25),
    "seen_in_person": (45, 75),
    "referred": (15, 30),
    "patient_unreachable": (5, 12),
    "admitted": (20, 35),
}
RED_EXTRA_MINUTES = (5, 10)
# Routine contacts between alerts: a call every three to six weeks, one in ten a visit.
CONTACT_EVERY_DAYS = (21, 42)
CALL_MINUTES, VISIT_MINUTES = (10, 20), (45, 60)
VISIT_SHARE = 0.1


@dataclass(slots=True)
class _Plan:
    alert_id: uuid.UUID
    acknowledge_at: datetime
    assign: bool
    resolve_at: datetime
    outcome: str


class PatientWork:
    """One patient's timeline, worked by one nurse of their team."""

    def __init__(
        self, session: Session, stored: Stored, org: Org, now: datetime, rng: random.Random
    ) -> None:
        self.session, self.stored, self.now, self.rng = session, stored, now, rng
        nurses = org.nurses[stored.team]
        self.team_nurses = nurses
        self.nurse = Principal(
            role="clinician",
            user_id=nurses[rng.randrange(len(nurses))],
            team_ids=frozenset({org.team_ids[stored.team]}),
        )
        patient = session.get(Patient, stored.id)
        assert patient is not None
        self.patient = patient
        self.plans: dict[uuid.UUID, _Plan] = {}
        # Staff time has a stream of its own, so the alerts' timeline is the same with or
        # without it.
        self.time_rng = random.Random(f"mhf-demo-time:{stored.id}")  # noqa: S311

    def run(self) -> None:
        stored = self.stored
        # Readings that arrived (with what the pathway found in them), and the mornings after
        # hospital discharges, when the team recorded them: no findings.
        timeline: list[tuple[datetime, tuple[pathway.Finding, ...]]] = [
            (a.at, a.findings) for a in stored.arrivals if a.at <= self.now
        ]
        if not stored.died:
            for day in stored.hospital_discharges:
                at = datetime.combine(day + timedelta(days=1), time(9, 30), LONDON)
                if at <= self.now:
                    timeline.append((at, ()))
        end = None
        if stored.ends_on is not None:
            end = datetime.combine(stored.ends_on, time(16), LONDON)
            timeline = [t for t in timeline if t[0] < end]
        for at, findings in sorted(timeline, key=lambda t: (t[0], len(t[1]))):
            self._work_until(at)
            if findings:
                alerting.raise_from_findings(self.session, self.patient, findings, at)
            else:
                events.apply_state(self.session, self.nurse, ROUTE, at, self.patient)
            self._plan_new()
        if stored.paused_on is not None:
            paused = datetime.combine(stored.paused_on, time(10), LONDON)
            self._work_until(paused)
            pause = PatientPatch(status="paused")
            patient_cases.patch_patient(self.session, self.nurse, ROUTE, paused, stored.id, pause)
        if end is None:
            self._work_until(self.now - LEFT_FOR_TODAY, partly=True)
        else:
            self._finish(end)
        if self.stored.has_events:
            # The state today (in hospital now, or a review owed), not as of the last event.
            events.apply_state(self.session, self.nurse, ROUTE, self.now, self.patient)
        self._contacts(end)

    def _contacts(self, end: datetime | None) -> None:
        """The routine calls and visits of the patient's time on the pathway (not while
        paused), in one insert: a record the team made, not a read or change of the record."""
        rng, stored = self.time_rng, self.stored
        last = end or self.now - LEFT_FOR_TODAY
        if stored.paused_on is not None:
            last = min(last, datetime.combine(stored.paused_on, time(10), LONDON))
        day = stored.enrolled_on + timedelta(days=rng.randint(*CONTACT_EVERY_DAYS))
        rows = []
        while (at := self._working_hours(day, rng)) < last:
            visit = rng.random() < VISIT_SHARE
            minutes = rng.randint(*(VISIT_MINUTES if visit else CALL_MINUTES))
            rows.append(
                PatientContact(
                    id=uuid.uuid4(),
                    patient_id=stored.id,
                    kind="visit" if visit else "call",
                    occurred_at=at,
                    minutes=minutes,
                    recorded_at=at + timedelta(minutes=minutes + rng.randint(2, 30)),
                    recorded_by=self.nurse.user_id,
                )
            )
            day += timedelta(days=rng.randint(*CONTACT_EVERY_DAYS))
        self.session.add_all(rows)

    @staticmethod
    def _working_hours(day: date, rng: random.Random) -> datetime:
        minute = rng.randrange(9 * 60, 16 * 60)
        return datetime.combine(day, time(minute // 60, minute % 60), LONDON)

    def _minutes(self, plan: _Plan, alert: Alert) -> int:
        rng = self.time_rng
        minutes = rng.randint(*MINUTES_BY_OUTCOME[plan.outcome])
        if alert.severity == "red":
            minutes += rng.randint(*RED_EXTRA_MINUTES)
        return minutes

    def _plan_new(self) -> None:
        for alert in alerting.unresolved_of(self.session, self.patient.id):
            if alert.id not in self.plans:
                self.plans[alert.id] = self._plan(alert)

    def _plan(self, alert: Alert) -> _Plan:
        rng = self.rng
        # Teams are sometimes late (a busy day, a nurse off sick), so the reports' "in time"
        # figures are not all 100 %; never with what is still in today's queues.
        late = alert.raised_at < self.now - timedelta(days=5) and rng.random() < LATE_SHARE
        if alert.alert_group == REVIEW_GROUP:
            acknowledge = alert.raised_at + timedelta(hours=rng.uniform(1, 30))
            days = rng.uniform(13, 18) if late else rng.uniform(1, 9)
            resolve = acknowledge + timedelta(days=days)
            choices = REVIEW_OUTCOMES
        else:
            if alert.severity == "red":
                lag = rng.uniform(3, 8) if late else rng.uniform(0.2, 2)
            else:
                lag = rng.uniform(30, 60) if late else rng.uniform(1, 26)
            acknowledge = alert.raised_at + timedelta(hours=lag)
            resolve = acknowledge + timedelta(hours=rng.uniform(0.5, 30))
            choices = OUTCOMES
        outcome = rng.choices([name for name, _ in choices], [w for _, w in choices])[0]
        return _Plan(alert.id, acknowledge, rng.random() < 0.15, resolve, outcome)

    def _work_until(self, until: datetime, *, partly: bool = False) -> None:
        """Do the work planned before ``until``; with ``partly``, work planned after it is
        still done in part: acknowledged (and perhaps assigned) but not resolved."""
        for plan in sorted(self.plans.values(), key=lambda p: p.acknowledge_at):
            if plan.resolve_at <= until:
                self._acknowledge(plan, plan.acknowledge_at)
                self._resolve(plan, plan.resolve_at)
                del self.plans[plan.alert_id]
            elif partly and plan.acknowledge_at <= self.now - timedelta(hours=6):
                self._acknowledge(plan, plan.acknowledge_at)

    def _finish(self, end: datetime) -> None:
        """Monitoring ends: the nurse resolves what is left, then discharges the patient (a
        death recorded ends monitoring itself, closing what is open)."""
        self._work_until(end - timedelta(hours=1))
        if self.stored.died:
            events.apply_state(self.session, self.nurse, ROUTE, end, self.patient)
            return
        for plan in list(self.plans.values()):
            at = min(plan.acknowledge_at, end - timedelta(minutes=30))
            self._acknowledge(plan, at)
            self._resolve(plan, max(at, end - timedelta(minutes=10)))
        self.plans.clear()
        assert self.stored.ends_on is not None and self.stored.reason is not None
        body = DischargeIn.model_validate(
            {"date": self.stored.ends_on, "reason": self.stored.reason}
        )
        events.discharge(self.session, self.nurse, ROUTE, end, self.patient.id, body)

    def _alert(self, plan: _Plan) -> Alert | None:
        alert = self.session.get(Alert, plan.alert_id)
        return None if alert is None or alert.status == "resolved" else alert

    def _acknowledge(self, plan: _Plan, at: datetime) -> None:
        alert = self._alert(plan)
        if alert is None or alert.status != "open":
            return
        at = max(at, alert.raised_at)
        alert_cases.acknowledge(self.session, self.nurse, ROUTE, at, alert.id, None)
        if plan.assign:
            colleague = self.rng.choice(self.team_nurses)
            alert_cases.assign(
                self.session, self.nurse, ROUTE, at, alert.id, AssignIn(user_id=colleague)
            )

    def _resolve(self, plan: _Plan, at: datetime) -> None:
        alert = self._alert(plan)
        if alert is None:
            return
        if alert.status == "open":  # raised to red again since it was acknowledged
            self._acknowledge(plan, at)
        body = ResolveIn(
            outcome=lifecycle.Outcome(plan.outcome), minutes=self._minutes(plan, alert)
        )
        alert_cases.resolve(
            self.session, self.nurse, ROUTE, max(at, alert.raised_at), alert.id, body
        )
