"""`mhf demo`: a realistic demo network built through the real ingestion path.

Three sites of the learning network, two community heart-failure teams each, and ~60 patients
whose 120 days of home readings come from the pathway's calibrated synthetic generator (noise,
weekly cycle, drift, weight ramps before admissions, symptom changes, adherence gaps). Readings
are ingested as the apps would send them, so every alert is raised by the real pathway; older
alerts are then worked by the teams (acknowledged, resolved with an outcome).
"""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts import lifecycle
from pathway import ReadingType
from pathway.evaluation.cohort import CohortParams, SyntheticPatient
from pathway.evaluation.cohort import patient as synthetic_patient
from service import alerting
from service.db import build_engine, build_sessionmaker, unit_of_work
from service.identity.security import hash_device_token, hash_password, new_device_token
from service.migrations_util import upgrade
from service.models import (
    Alert,
    AlertEventRow,
    DeviceToken,
    KccqScore,
    MedicationChange,
    Patient,
    PatientEvent,
    Site,
    Team,
    User,
    UserTeam,
)
from service.nhs_number import check_digit
from service.readings import service as readings
from service.timeutil import LONDON, utcnow

DEMO_PASSWORD = "heart-failure-demo"
SITES = [
    ("DERBY", "Derbyshire", ["Derby City community HF team", "North Derbyshire community HF team"]),
    (
        "LLR",
        "Leicester, Leicestershire and Rutland",
        ["Leicester City HF team", "Leicestershire County and Rutland HF team"],
    ),
    ("MSE", "Mid and South Essex", ["Basildon and Thurrock HF team", "Southend HF team"]),
]
# NHS ethnic category codes, roughly as in the 2021 census for these areas.
ETHNICITY = ["A"] * 70 + ["B", "C"] * 3 + ["D", "F", "G"] + ["H"] * 6 + ["J", "K", "L"] * 2
ETHNICITY += ["M", "N"] * 2 + ["R", "S", "Z", "99"]
OUTCOMES = [
    ("advice_given", 35),
    ("diuretic_adjusted", 20),
    ("no_action_needed", 20),
    ("medication_titrated", 8),
    ("seen_in_person", 7),
    ("referred", 4),
    ("patient_unreachable", 4),
    ("admitted", 2),
]


def demo_nhs_number(index: int) -> str:
    """Valid check digit, 999 prefix: a number the NHS never issues, safe for demos."""
    for k in range(10):
        nine = f"999{index * 10 + k:06d}"
        digit = check_digit(nine)
        if digit is not None:
            return nine + str(digit)
    raise AssertionError("unreachable")


def load_demo(database_url: str, *, if_empty: bool, seed: int, patients: int, days: int) -> None:
    upgrade(database_url)
    engine = build_engine(database_url)
    sessions = build_sessionmaker(engine)
    try:
        with unit_of_work(sessions) as session:
            if session.scalar(select(func.count()).select_from(Site)):
                if if_empty:
                    print("Demo data already loaded.")  # noqa: T201
                    _print_logins(session)
                    return
                raise SystemExit("The database is not empty; use --if-empty to skip.")
        now = utcnow()
        rng = random.Random(seed)  # noqa: S311 - demo data, not security
        with unit_of_work(sessions) as session:
            teams = _organisation(session, now)
        tokens = _patients(sessions, teams, rng, seed=seed, count=patients, days=days, now=now)
        with unit_of_work(sessions) as session:
            _work_alerts(session, rng, now)
            _print_logins(session, tokens)
    finally:
        engine.dispose()


def _organisation(session: Session, now: datetime) -> list[Team]:
    password = hash_password(DEMO_PASSWORD)
    teams: list[Team] = []

    def user(username: str, role: str, name: str, team_ids: list[uuid.UUID]) -> None:
        row = User(
            id=uuid.uuid4(),
            username=username,
            display_name=name,
            password_hash=password,
            role=role,
            is_active=True,
            created_at=now,
        )
        session.add(row)
        session.flush()
        session.add_all(UserTeam(user_id=row.id, team_id=t) for t in team_ids)

    for code, name, team_names in SITES:
        site = Site(id=uuid.uuid4(), code=code, name=name, created_at=now)
        session.add(site)
        session.flush()
        for index, team_name in enumerate(team_names, start=1):
            team = Team(
                id=uuid.uuid4(),
                site_id=site.id,
                name=team_name,
                escalation_contact=f"hf-lead-{code.lower()}{index}@nhs.example",
                created_at=now,
            )
            session.add(team)
            session.flush()
            teams.append(team)
            user(f"nurse.{code.lower()}{index}", "clinician", f"HF nurse, {team_name}", [team.id])
    user("admin", "admin", "Service administrator", [])
    user("lead", "programme_lead", "Learning network programme lead", [])
    return teams


def _patients(
    sessions: Any,
    teams: list[Team],
    rng: random.Random,
    *,
    seed: int,
    count: int,
    days: int,
    now: datetime,
) -> dict[str, str]:
    today = now.astimezone(LONDON).date()
    params = CohortParams(
        patients=count, days=days, seed=seed, start=today - timedelta(days=days - 1)
    )
    tokens: dict[str, str] = {}
    for index in range(count):
        synthetic = synthetic_patient(params, index)
        team = teams[index % len(teams)]
        with unit_of_work(sessions) as session:
            patient = _enrol(session, synthetic, team, index, rng, now)
            token = new_device_token()
            session.add(
                DeviceToken(
                    id=uuid.uuid4(),
                    patient_id=patient.id,
                    token_hash=hash_device_token(token),
                    created_at=now,
                )
            )
            if team.name not in tokens:
                tokens[team.name] = token
        history = [r for r in synthetic.readings if r.taken_at <= now - timedelta(hours=1)]
        if index < len(teams):
            # One patient per team is decompensating right now, so every queue has a red alert.
            history = _decompensating(history, synthetic, now)
        _ingest_history(sessions, patient.id, history, now)
        with unit_of_work(sessions) as session:
            _outcomes(session, patient.id, synthetic, rng, now)
    return tokens


def _outcomes(
    session: Session,
    patient_id: uuid.UUID,
    synthetic: SyntheticPatient,
    rng: random.Random,
    now: datetime,
) -> None:
    """What the team records for the reports: admissions, medicines, KCCQ-12 scores."""
    today = now.astimezone(LONDON).date()
    enrolled = synthetic.enrolled_at.astimezone(LONDON).date()
    for event in synthetic.events:
        if event.day >= today:
            continue
        stay = rng.randint(3, 12)
        discharged = event.day + timedelta(days=stay)
        session.add(
            PatientEvent(
                patient_id=patient_id,
                kind="admission",
                occurred_on=event.day,
                discharged_on=discharged if discharged < today else None,
                hf_related=event.hf_related,
                emergency=True,
                recorded_at=now,
            )
        )
    if rng.random() < 0.15:
        session.add(
            PatientEvent(
                patient_id=patient_id,
                kind="ae_attendance",
                occurred_on=enrolled + timedelta(days=rng.randint(5, 100)),
                hf_related=None,
                emergency=True,
                recorded_at=now,
            )
        )
    for pillar, share in (
        ("acei_arb_arni", 0.8),
        ("beta_blocker", 0.85),
        ("mra", 0.6),
        ("sglt2i", 0.55),
    ):
        if rng.random() < share:
            session.add(
                MedicationChange(
                    patient_id=patient_id,
                    pillar=pillar,
                    status="started",
                    at_target_or_max_tolerated=rng.random() < 0.5,
                    changed_on=enrolled + timedelta(days=rng.randint(0, 60)),
                    recorded_at=now,
                )
            )
    session.add(
        KccqScore(
            patient_id=patient_id,
            score=round(min(100.0, max(0.0, rng.gauss(52, 18))), 1),
            timepoint="start",
            assessed_on=enrolled,
            recorded_at=now,
        )
    )


def _decompensating(history: list[Any], synthetic: SyntheticPatient, now: datetime) -> list[Any]:
    """Replace the last three days with a 2.6 kg gain and, today, worse breathlessness."""
    from pathway import AnkleSwelling, Breathlessness, Reading, SymptomAnswers

    start = now - timedelta(days=3)
    kept = [r for r in history if r.taken_at < start]
    target = synthetic.context.thresholds.target_weight_kg or 80.0
    pid = synthetic.context.patient_id
    for day, gain in ((2, 0.2), (1, 1.3), (0, 2.8)):
        at = now - timedelta(days=day, hours=2)
        kept.append(
            Reading(f"{pid}-dec{day}w", ReadingType.WEIGHT, at, value=round(target + gain, 1))
        )
    kept.append(
        Reading(
            f"{pid}-dec0s",
            ReadingType.SYMPTOMS,
            now - timedelta(hours=1, minutes=55),
            symptoms=SymptomAnswers(
                breathlessness=Breathlessness.WORSE,
                orthopnoea=True,
                ankle_swelling=AnkleSwelling.WORSE,
            ),
        )
    )
    return kept


def _enrol(
    session: Session,
    synthetic: SyntheticPatient,
    team: Team,
    index: int,
    rng: random.Random,
    now: datetime,
) -> Patient:
    context = synthetic.context
    thresholds = {
        f.name: getattr(context.thresholds, f.name)
        for f in dataclasses.fields(context.thresholds)
        if getattr(context.thresholds, f.name) is not None
    }
    age = int(min(97, max(48, rng.gauss(78, 9))))
    born = date(now.year - age, rng.randint(1, 12), rng.randint(1, 28))
    patient = Patient(
        id=uuid.uuid4(),
        nhs_number=demo_nhs_number(index),
        date_of_birth=born,
        sex=rng.choice(["female", "male"]),
        team_id=team.id,
        cohort=str(context.cohort),
        ethnicity=rng.choice(ETHNICITY),
        imd_quintile=rng.choices([1, 2, 3, 4, 5], weights=[28, 24, 20, 16, 12])[0],
        hf_type=rng.choices(["HFrEF", "HFmrEF", "HFpEF"], weights=[55, 15, 30])[0],
        enrolled_on=synthetic.enrolled_at.astimezone(LONDON).date(),
        status="active",
        expects_daily_weight=True,
        thresholds=thresholds,
        version=1,
        created_at=synthetic.enrolled_at,
    )
    session.add(patient)
    session.flush()
    return patient


def _row(reading: Any, received: datetime) -> dict[str, Any]:
    answers = None
    if reading.symptoms is not None:
        answers = {
            f.name: str(getattr(reading.symptoms, f.name))
            if not isinstance(getattr(reading.symptoms, f.name), bool)
            else getattr(reading.symptoms, f.name)
            for f in dataclasses.fields(reading.symptoms)
        }
    unit = {
        ReadingType.WEIGHT: "kg",
        ReadingType.BLOOD_PRESSURE: "mmHg",
        ReadingType.HEART_RATE: "/min",
        ReadingType.SPO2: "%",
        ReadingType.POTASSIUM: "mmol/L",
    }.get(reading.type)
    return {
        "id": uuid.uuid5(uuid.NAMESPACE_URL, f"mhf-demo:{reading.id}"),
        "type": str(reading.type),
        "taken_at": reading.taken_at,
        "received_at": received,
        "value": reading.value,
        "systolic": reading.systolic,
        "diastolic": reading.diastolic,
        "answers": answers,
        "value_as_sent": reading.value,
        "unit_as_sent": unit,
        "source": "clinician" if reading.type is ReadingType.POTASSIUM else "device",
        "entered_by": None,
    }


def _ingest_history(
    sessions: Any, patient_id: uuid.UUID, history: list[Any], now: datetime
) -> None:
    """Send readings as the apps would: the last fortnight day by day, an hour after they were
    taken; older weeks in weekly bursts (a phone that was offline), which keeps loading quick."""
    recent = now.astimezone(LONDON).date() - timedelta(days=14)
    by_day: dict[date, list[Any]] = defaultdict(list)
    for reading in history:
        day = reading.taken_at.astimezone(LONDON).date()
        if day < recent:
            day -= timedelta(days=day.weekday())
        by_day[day].append(reading)
    for day in sorted(by_day):
        batch = by_day[day]
        received = min(max(r.taken_at for r in batch) + timedelta(hours=1), now)
        with unit_of_work(sessions) as session:
            patient = session.get(Patient, patient_id)
            assert patient is not None
            readings.ingest(session, patient, [_row(r, received) for r in batch], received)


def _work_alerts(session: Session, rng: random.Random, now: datetime) -> None:
    """Teams have worked the alerts of previous days; today's are still waiting."""
    clinicians = dict(
        session.execute(select(UserTeam.team_id, UserTeam.user_id).join(User)).tuples().all()
    )
    cutoff = now - timedelta(days=2)
    # Alerts still changing in the last days (a worsening patient) are waiting for the team.
    recent = select(AlertEventRow.alert_id).where(AlertEventRow.at >= cutoff)
    old = session.scalars(
        select(Alert).where(
            Alert.raised_at < cutoff, Alert.status != "resolved", Alert.id.not_in(recent)
        )
    ).all()
    outcomes, weights = zip(*OUTCOMES, strict=True)
    for alert in old:
        actor = str(clinicians[alert.team_id])
        acked_at = alert.raised_at + timedelta(minutes=rng.randint(20, 300))
        alerting.move(
            session,
            alert,
            lambda s, at=acked_at, who=actor: lifecycle.acknowledge(s, who, at),
            None,
        )
        resolved_at = acked_at + timedelta(minutes=rng.randint(30, 1200))
        outcome = lifecycle.Outcome(rng.choices(outcomes, weights=weights)[0])
        alerting.move(
            session,
            alert,
            lambda s, at=resolved_at, o=outcome, who=actor: lifecycle.resolve(s, o, None, who, at),
            None,
        )


def _print_logins(session: Session, tokens: dict[str, str] | None = None) -> None:
    users = session.execute(
        select(User.username, User.role).order_by(User.role, User.username)
    ).all()
    open_alerts = session.scalar(
        select(func.count()).select_from(Alert).where(Alert.status != "resolved")
    )
    lines = [
        "",
        "MHF @home demo network is ready: http://127.0.0.1:8000/ui/login (API docs at /docs)",
        f"Password for every demo user: {DEMO_PASSWORD}",
        "",
    ]
    lines += [f"  {role:<15} {username}" for username, role in users]
    lines.append(f"\n{open_alerts} alerts are waiting in the teams' queues.")
    if tokens:
        lines.append("\nDevice tokens (patient app), one patient per team, shown once:")
        lines += [f"  {team}: {token}" for team, token in tokens.items()]
    print("\n".join(lines))  # noqa: T201
