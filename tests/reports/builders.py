"""Hand-built report datasets: sites, teams, patients and what happened to them, by date."""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from service.models import (
    Alert,
    KccqScore,
    MedicationChange,
    OutboxEvent,
    Patient,
    PatientContact,
    PatientEvent,
    Reading,
    Site,
    Team,
    Webhook,
    WebhookDelivery,
)
from service.models.patients import PILLARS
from service.reports.groups import Grouping
from service.reports.metrics import REGISTRY
from service.reports.period import Period
from service.reports.runner import Grouped, compute, compute_all
from tests.support.clock import T0
from tests.support.factories import make_user

AS_OF = date(2026, 11, 20)
_nhs = itertools.count(9000000000)


def utc(text: str) -> datetime:
    """'2026-10-05T10:00' as a UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def d(text: str) -> date:
    return date.fromisoformat(text)


class Data:
    def __init__(self, session: Session) -> None:
        self.s = session
        self.sites: dict[str, uuid.UUID] = {}
        self.teams: dict[str, uuid.UUID] = {}
        self.nurse: uuid.UUID | None = None

    def site(self, code: str, teams: tuple[str, ...] = ()) -> uuid.UUID:
        site = Site(id=uuid.uuid4(), code=code, name=f"Site {code}", created_at=T0)
        self.s.add(site)
        self.s.flush()
        self.sites[code] = site.id
        for name in teams or (f"{code}-team",):
            team = Team(id=uuid.uuid4(), site_id=site.id, name=name, created_at=T0)
            self.s.add(team)
            self.s.flush()
            self.teams[name] = team.id
        return site.id

    def patient(
        self,
        team: str,
        enrolled: str,
        discharged: str | None = None,
        reason: str | None = None,
        created: str | None = None,
        nhs: str | None = None,
        **extra: object,
    ) -> uuid.UUID:
        values: dict[str, object] = {
            "id": uuid.uuid4(),
            "nhs_number": nhs or str(next(_nhs)),
            "date_of_birth": date(1950, 5, 17),
            "sex": "female",
            "team_id": self.teams[team],
            "cohort": "post_discharge",
            "ethnicity": "A",
            "imd_quintile": 2,
            "enrolled_on": d(enrolled),
            "discharged_on": d(discharged) if discharged else None,
            "discharge_reason": reason,
            "status": "discharged" if discharged else "active",
            "expects_daily_weight": True,
            "thresholds": {},
            "version": 1,
            "created_at": utc(created) if created else utc(enrolled + "T09:00"),
        }
        values.update(extra)
        # Only these columns: the migration tests build rows on schemas older than the models.
        self.s.execute(insert(Patient).values(**values))
        return values["id"]  # type: ignore[return-value]

    def reading(
        self, pid: uuid.UUID, taken: str, type_: str = "weight", value: float = 80.0
    ) -> None:
        extra: dict[str, object] = {"value": value}
        if type_ == "blood_pressure":
            extra = {"systolic": 120, "diastolic": 80}
        self.s.add(
            Reading(
                patient_id=pid,
                id=uuid.uuid4(),
                type=type_,
                taken_at=utc(taken),
                received_at=utc(taken),
                source="app",
                **extra,
            )
        )

    def alert(
        self,
        pid: uuid.UUID,
        severity: str,
        raised: str,
        *,
        due: str | None = None,
        action: str | None = None,
        resolved: str | None = None,
        outcome: str | None = None,
        out_of_hours: str | None = None,
        kind: str = "alert",
        minutes: int | None = None,
    ) -> uuid.UUID:
        patient = self.s.get(Patient, pid)
        assert patient is not None
        raised_at = utc(raised)
        alert_id = uuid.uuid4()
        rule = f"rule-{uuid.uuid4().hex[:8]}" if kind == "alert" else "post_discharge_review"
        self.s.add(
            Alert(
                id=alert_id,
                patient_id=pid,
                team_id=patient.team_id,
                rule_id=rule,
                alert_group=rule,
                kind=kind,
                severity=severity,
                severity_rank=2 if severity == "red" else 1,
                status="resolved" if resolved else ("acknowledged" if action else "open"),
                pathway_version="test",
                title="t",
                summary="s",
                raised_at=raised_at,
                due_at=utc(due) if due else raised_at + timedelta(hours=4),
                first_action_at=utc(action) if action else None,
                acknowledged_at=utc(action) if action else None,
                resolved_at=utc(resolved) if resolved else None,
                outcome=outcome,
                version=1,
                out_of_hours_handling=out_of_hours,
                minutes_spent=minutes,
            )
        )
        return alert_id

    def handover(self, alert_id: uuid.UUID, status: str, delivered: str | None = None) -> None:
        """The alert's event, delivered (or not) to an out-of-hours webhook of its team."""
        self.s.flush()
        alert = self.s.get(Alert, alert_id)
        assert alert is not None
        hook = Webhook(
            id=uuid.uuid4(),
            team_id=alert.team_id,
            url="https://ooh.example/hook",
            secret="s" * 20,
            is_active=True,
            purpose="out_of_hours",
            created_at=T0,
        )
        event = OutboxEvent(
            id=uuid.uuid4(),
            team_id=alert.team_id,
            alert_id=alert_id,
            event_type="alert.raised",
            body="{}",
            created_at=alert.raised_at,
        )
        self.s.add_all([hook, event])
        self.s.flush()
        self.s.add(
            WebhookDelivery(
                event_id=event.id,
                webhook_id=hook.id,
                status=status,
                attempts=1,
                next_attempt_at=alert.raised_at,
                delivered_at=utc(delivered) if delivered else None,
            )
        )

    def admission(
        self,
        pid: uuid.UUID,
        on: str,
        out: str | None = None,
        hf: bool = True,
        emergency: bool = True,
    ) -> None:
        self.s.add(
            PatientEvent(
                id=uuid.uuid4(),
                patient_id=pid,
                kind="admission",
                occurred_on=d(on),
                discharged_on=d(out) if out else None,
                hf_related=hf,
                emergency=emergency,
                recorded_at=T0,
            )
        )

    def event(self, pid: uuid.UUID, kind: str, on: str) -> None:
        self.s.add(
            PatientEvent(
                id=uuid.uuid4(),
                patient_id=pid,
                kind=kind,
                occurred_on=d(on),
                emergency=True,
                recorded_at=T0,
            )
        )

    def med(self, pid: uuid.UUID, pillar: str, status: str, on: str, target: bool = False) -> None:
        self.s.add(
            MedicationChange(
                id=uuid.uuid4(),
                patient_id=pid,
                pillar=pillar,
                status=status,
                at_target_or_max_tolerated=target,
                changed_on=d(on),
                recorded_at=T0,
            )
        )

    def kccq(self, pid: uuid.UUID, score: float, timepoint: str, on: str) -> None:
        self.s.add(
            KccqScore(
                id=uuid.uuid4(),
                patient_id=pid,
                score=score,
                timepoint=timepoint,
                assessed_on=d(on),
                recorded_at=T0,
            )
        )

    def contact(self, pid: uuid.UUID, kind: str, occurred: str, minutes: int) -> None:
        """A call, visit or message at ``occurred`` (UTC), recorded by the dataset's nurse."""
        if self.nurse is None:
            self.nurse = make_user(self.s, f"nurse-{uuid.uuid4().hex[:8]}", "clinician", [])
        self.s.add(
            PatientContact(
                id=uuid.uuid4(),
                patient_id=pid,
                kind=kind,
                occurred_at=utc(occurred),
                minutes=minutes,
                recorded_at=T0,
                recorded_by=self.nurse,
            )
        )

    def done(self) -> None:
        self.s.flush()


def run(
    session: Session,
    metric_id: str,
    month: str = "2026-10",
    by: str = "site",
    site_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
) -> Grouped:
    grouping = Grouping(by, site_id=site_id, team_id=team_id)
    return compute(session, REGISTRY[metric_id], Period.for_month(month, as_of=AS_OF), grouping)


_OUT_OF_HOURS = (
    "queue_for_next_working_day",
    "out_of_hours_webhook",
    "urgent_community_response",
    "handover_unavailable",
)


def build_network(data: Data, seed: int = 5) -> None:
    """A pseudo-random network (seeded): two sites of two teams, 40 patients with readings and
    alerts at random seconds across both clock changes of 2026, admissions, medicines, KCCQ."""
    rng = random.Random(seed)
    task_rng = random.Random(seed + 1)
    data.site("S1", teams=("A", "B"))
    data.site("S2", teams=("C", "D"))
    start = utc("2026-02-01T00:00")
    for i in range(40):
        team = rng.choice("ABCD")
        enrolled = (start + timedelta(days=rng.randrange(0, 260))).date()
        discharged = (
            enrolled + timedelta(days=rng.randrange(0, 120)) if rng.random() < 0.6 else None
        )
        if discharged and discharged > AS_OF:
            discharged = None
        pid = data.patient(
            team,
            enrolled.isoformat(),
            discharged.isoformat() if discharged else None,
            rng.choice(["stable_optimised", "admitted", "died", "withdrew", "other"])
            if discharged
            else None,
            created=(start + timedelta(seconds=rng.randrange(0, 260 * 86400))).isoformat(
                timespec="seconds"
            )[:19],
            nhs=None if i % 7 else "9434765919" if i % 14 else None,
            hf_type=rng.choice(["HFrEF", "HFrEF", "HFpEF", None]),
            ethnicity=rng.choice(["A", "H", "M", "Z", "99", None, "R", "E"]),
            imd_quintile=rng.choice([1, 2, 3, 4, 5, None]),
            sex=rng.choice(["female", "male", "other", "unknown"]),
            date_of_birth=(start - timedelta(days=rng.randrange(50 * 365, 95 * 365))).date(),
            expects_daily_weight=rng.random() < 0.9,
        )
        for _ in range(rng.randrange(0, 50)):
            at = start + timedelta(seconds=rng.randrange(0, 280 * 86400))
            data.reading(pid, at.isoformat()[:19], rng.choice(["weight", "weight", "heart_rate"]))
        for _ in range(rng.randrange(0, 4)):
            raised = start + timedelta(seconds=rng.randrange(0, 280 * 86400))
            action = (
                raised + timedelta(seconds=rng.randrange(60, 3 * 86400))
                if rng.random() < 0.8
                else None
            )
            resolved = (
                action + timedelta(hours=rng.randrange(1, 48))
                if action and rng.random() < 0.7
                else None
            )
            severity = rng.choice(["red", "amber"])
            data.alert(
                pid,
                severity,
                raised.isoformat()[:19],
                due=(raised + timedelta(hours=4)).isoformat()[:19],
                action=action.isoformat()[:19] if action else None,
                resolved=resolved.isoformat()[:19] if resolved else None,
                outcome=rng.choice(["no_action_needed", "advice_given"]) if resolved else None,
                # From the instant, not the generator: the network's other figures stay as
                # they were.
                out_of_hours=_OUT_OF_HOURS[raised.second % 4]
                if severity == "red" and not 8 <= raised.hour < 18
                else None,
            )
        for _ in range(rng.randrange(0, 3)):
            on = enrolled + timedelta(days=rng.randrange(-10, 90))
            if on > AS_OF:
                continue
            out = on + timedelta(days=rng.randrange(0, 12)) if rng.random() < 0.8 else None
            data.admission(
                pid,
                on.isoformat(),
                out.isoformat() if out and out <= AS_OF else None,
                hf=rng.random() < 0.5,
                emergency=rng.random() < 0.9,
            )
            if out and out <= AS_OF:
                # The review task the discharge raises; its own generator, so the rest of the
                # network stays as it was.
                done = out + timedelta(days=task_rng.randrange(1, 20))
                data.alert(
                    pid,
                    "amber",
                    f"{out.isoformat()}T10:00:00",
                    due=f"{(out + timedelta(days=14)).isoformat()}T23:59:00",
                    action=f"{done.isoformat()}T11:00:00" if done <= AS_OF else None,
                    resolved=f"{done.isoformat()}T11:00:00" if done <= AS_OF else None,
                    outcome="seen_in_person" if done <= AS_OF else None,
                    kind="task",
                )
        if rng.random() < 0.3:
            data.event(
                pid, "ae_attendance", (enrolled + timedelta(days=rng.randrange(0, 60))).isoformat()
            )
        for pillar in PILLARS:
            for _ in range(rng.randrange(0, 3)):
                status = rng.choice(
                    ["started", "started", "stopped", "not_tolerated", "contraindicated"]
                )
                on = enrolled + timedelta(days=rng.randrange(-5, 80))
                data.med(
                    pid,
                    pillar,
                    status,
                    on.isoformat(),
                    target=status == "started" and rng.random() < 0.5,
                )
        for timepoint in ("start", "discharge", "other"):
            if rng.random() < 0.7:
                on = enrolled + timedelta(days=rng.randrange(0, 100))
                data.kccq(pid, rng.randrange(0, 1001) / 10, timepoint, on.isoformat())
    data.done()


# One row of a metrics table: the metric, then its value for site S1, site S2 and the network.
TableRow = tuple[str, float | None, float | None, float | None]


def values(result: Grouped, sites: dict[str, uuid.UUID]) -> dict[str, float | None]:
    """{site code: value} plus the network total under 'network'."""
    out = {code: result.groups[sid].value for code, sid in sites.items() if sid in result.groups}
    out["network"] = result.total.value
    return out


def check_table(session: Session, data: Data, table: Sequence[TableRow]) -> None:
    """Compute every metric of the table; compare all, so one failure shows every mismatch.

    Each metric alone, and all of them in one batch as the reports compute them."""
    got, batched, want = {}, {}, {}
    together = compute_all(
        session, Period.for_month("2026-10", as_of=AS_OF), Grouping("site"), list(REGISTRY)
    )
    for metric, s1, s2, network in table:
        result = values(run(session, metric), data.sites)
        got[metric] = (result.get("S1"), result.get("S2"), result["network"])
        in_batch = values(together[metric], data.sites)
        batched[metric] = (in_batch.get("S1"), in_batch.get("S2"), in_batch["network"])
        want[metric] = tuple(None if v is None else pytest.approx(v) for v in (s1, s2, network))
    assert got == want
    assert batched == want
