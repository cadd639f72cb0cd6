"""Hand-built report datasets: sites, teams, patients and what happened to them, by date."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from service.models import Alert, Patient, Reading, Site, Team
from service.reports.metrics import REGISTRY, Grouping, compute
from service.reports.models import KccqScore, MedicationChange, PatientEvent
from service.reports.period import Period

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
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
        patient = Patient(**values)
        self.s.add(patient)
        self.s.flush()
        return patient.id

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
    ) -> None:
        patient = self.s.get(Patient, pid)
        assert patient is not None
        raised_at = utc(raised)
        self.s.add(
            Alert(
                id=uuid.uuid4(),
                patient_id=pid,
                team_id=patient.team_id,
                rule_id=(rule := f"rule-{uuid.uuid4().hex[:8]}"),
                alert_group=rule,
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

    def done(self) -> None:
        self.s.flush()


def run(session: Session, metric_id: str, month: str = "2026-10", by: str = "site", **kw: object):  # type: ignore[no-untyped-def]
    return compute(
        session, REGISTRY[metric_id], Period.for_month(month, as_of=AS_OF), Grouping(by, **kw)
    )  # type: ignore[arg-type]
