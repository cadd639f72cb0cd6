"""The demo network: believable, built by the live code paths, and relative to its clock.

Built small (80 patients: two per team) so it runs in the gate on both databases; the full-size
demo and its report are in the slow suite.
"""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pathway.catalogue import RULES
from service.db import build_engine, build_sessionmaker, unit_of_work
from service.demo import build_demo
from service.demo.people import SITES
from service.deps import Principal
from service.models import (
    Alert,
    AlertEventRow,
    AlertFinding,
    EligiblePopulationLoad,
    KccqScore,
    MedicationChange,
    Patient,
    PatientContact,
    PatientEvent,
    Reading,
    Site,
    Team,
    User,
    UserTeam,
)
from service.models.patients import DISCHARGE_REASONS
from service.nhs_number import check_digit
from service.patients.state import REVIEW_GROUP
from service.reports import build
from service.reports.before_after import before_after
from service.reports.figures import FigureStore
from service.reports.runner import EMPTY
from service.reports.uptake import ENROLLED_METRIC, uptake_report
from service.stewardship import frameworks, interventions, unit_costs
from service.stewardship.spec import DOMAINS
from service.timeutil import LONDON

NOW = datetime(2026, 12, 7, 11, 30, tzinfo=UTC)
LAST_MONTH = "2026-11"


def test_the_demo(db_url: str) -> None:
    """Built once (it takes seconds), then checked from three sides."""
    engine = build_engine(db_url)
    sessions = build_sessionmaker(engine)
    # In this process: forking a test process that runs threads (xdist's) risks a deadlock; the
    # worker processes are exercised by the full-size command below.
    try:
        build_demo(sessions, patients=80, now=NOW)
        with unit_of_work(sessions) as session:
            _a_network_worked_through_the_live_code(session)
            _every_alert_from_the_pathway_and_none_long_overdue(session)
            _last_months_network_report_has_numbers(session)
            _history_before_enrolment_for_before_and_after(session)
            _two_worked_value_frameworks(session)
            _staff_time_recorded(session)
            _eligible_populations_with_groups_missed(session)
    finally:
        engine.dispose()


def _eligible_populations_with_groups_missed(session: Session) -> None:
    """Two loads a site; last month's report reads the newer, and across the network the most
    deprived, Asian and Black patients and people aged 85 and over have the lowest uptake."""
    loads = session.execute(
        select(EligiblePopulationLoad.site_id, EligiblePopulationLoad.as_of)
    ).all()
    assert Counter(site for site, _ in loads) == dict.fromkeys(session.scalars(select(Site.id)), 2)
    store = FigureStore(session, NOW, [ENROLLED_METRIC])

    def network_uptake(by: str) -> dict[str, float]:
        report = uptake_report(store, LAST_MONTH, by)
        assert {s["load"]["as_of"] for s in report["sites"] if s["load"]} == {"2026-11-01"}
        enrolled = store.equity(LAST_MONTH, by, ENROLLED_METRIC)
        out: dict[str, float] = {}
        for group in report["groups"]:
            people = sum(
                next(g["eligible"] or 0 for g in s["groups"] if g["group"] == group)
                for s in report["sites"]
            )
            counted = sum(
                (groups.get(group) or EMPTY).numerator or 0 for groups in enrolled.values()
            )
            if people:
                out[group] = counted / people
        return out

    imd = network_uptake("imd_quintile")
    assert imd["1"] < imd["2"] < imd["3"] < imd["5"], imd
    ages = network_uptake("age_band")
    assert ages["85+"] < ages["75-84"], ages
    ethnicity = network_uptake("ethnicity")
    assert max(ethnicity.get("Asian", 0), ethnicity.get("Black", 0)) < ethnicity["White"]


def _two_worked_value_frameworks(session: Session) -> None:
    """Both stewardship frameworks, each with outcomes in every domain, a register whose
    remote monitoring is measured from the service, and a kept scenario."""
    lead = Principal(
        role="programme_lead",
        user_id=session.scalar(select(User.id).where(User.role == "programme_lead")),
    )
    listed = frameworks.listing(session, lead)
    assert [f.name for f in listed] == [
        "Derbyshire and LLR heart failure value framework",
        "Mid and South Essex cardiac care value framework",
    ]
    for framework in listed:
        assert {o.domain for o in framework.outcomes} == set(DOMAINS)
        register = interventions.listing(session, lead, NOW, framework.id)
        assert 4 <= len(register) <= 6
        measured = [i for i in register if i.sourcing == "measured"]
        assert len(measured) == 1 and (measured[0].yearly_activity or 0) > 0
        (scenario,) = interventions.scenarios(session, lead, framework.id)
        assert scenario.result["totals"]["delta_cost_gbp"] != 0
    derby = session.scalar(select(Site.id).where(Site.code == "DERBY"))
    assert derby is not None
    costs, _ = unit_costs.unit_costs(session, lead, derby)
    assert costs["bed_day_gbp"].overridden and not costs["admission_gbp"].overridden


def _network_numbers(
    session: Session, month: str, now: datetime = NOW
) -> tuple[int, int, dict[str, Any]]:
    report = build.network_report(FigureStore(session, now), month, 1)
    cells = {m["id"]: m["network"]["value"] for m in report["metrics"]}
    numbers = sum(isinstance(v, int | float) and not isinstance(v, bool) for v in cells.values())
    return numbers, len(cells), cells


def _a_network_worked_through_the_live_code(session: Session) -> None:
    if True:
        teams = session.scalar(select(func.count()).select_from(Team))
        assert teams == sum(len(t) for _, _, t in SITES) >= 40
        roles = Counter(session.scalars(select(User.role)))
        assert roles["site_admin"] == roles["site_lead"] == len(SITES)
        assert roles["admin"] == roles["programme_lead"] == 1
        assert roles["clinician"] >= 2 * teams

        patients = session.scalars(select(Patient)).all()
        assert len(patients) == 80
        for p in patients:
            assert p.nhs_number.startswith("999") and check_digit(p.nhs_number[:9]) == int(
                p.nhs_number[9]
            )
            assert p.name and re.fullmatch(r"07700 900\d{3}", p.phone or "")
        assert len({p.nhs_number for p in patients}) == len(patients)
        enrolled = sorted(p.enrolled_on for p in patients)
        assert (enrolled[-1] - enrolled[0]).days > 180  # spread over the year
        reasons = {p.discharge_reason for p in patients if p.status == "discharged"}
        assert reasons == set(DISCHARGE_REASONS) - {"withdrew"} or reasons == set(
            DISCHARGE_REASONS
        ), reasons
        today = NOW.astimezone(LONDON).date()
        stays = {
            (e.patient_id, e.occurred_on)
            for e in session.scalars(select(PatientEvent).where(PatientEvent.kind == "admission"))
            if e.discharged_on is None or e.discharged_on > today
        }
        for p in patients:
            assert (p.status == "discharged") == (p.discharged_on is not None)
            assert (p.discharge_reason == "died") == (p.died_on is not None)
            # Marked in hospital only during a stay that covers today.
            if p.in_hospital_since is not None:
                assert (p.id, p.in_hospital_since) in stays

        # Readings only while monitored, none in the future, blood results entered by staff.
        outside = session.scalar(
            select(func.count())
            .select_from(Reading)
            .join(Patient, Patient.id == Reading.patient_id)
            .where(
                (Reading.taken_at > NOW)
                | (Reading.received_at > NOW)
                | (Reading.received_at < Reading.taken_at)
            )
        )
        assert outside == 0
        kinds = Counter(session.scalars(select(Reading.type)))
        assert {"weight", "blood_pressure", "heart_rate", "spo2", "symptoms"} <= set(kinds)
        assert {"potassium", "creatinine", "egfr"} <= set(kinds)
        assert (
            session.scalar(
                select(func.count())
                .select_from(Reading)
                .where(Reading.source == "clinician", Reading.entered_by.is_(None))
            )
            == 0
        )

        events = Counter(session.scalars(select(PatientEvent.kind)))
        assert events["admission"] and events["ae_attendance"] and events["death"]
        pillars = set(session.scalars(select(MedicationChange.pillar)))
        assert pillars == {"acei_arb_arni", "beta_blocker", "mra", "sglt2i"}
        timepoints = Counter(session.scalars(select(KccqScore.timepoint)))
        assert timepoints["start"] and timepoints["discharge"]


def _every_alert_from_the_pathway_and_none_long_overdue(session: Session) -> None:
    if True:
        alerts = session.scalars(select(Alert)).all()
        assert alerts
        statuses = Counter(a.status for a in alerts)
        assert statuses["open"] and statuses["acknowledged"] and statuses["resolved"]
        assert any(a.assignee_id is not None for a in alerts)
        assert any(a.alert_group == REVIEW_GROUP for a in alerts)
        with_findings = set(session.scalars(select(AlertFinding.alert_id)))
        raised = set(
            session.scalars(select(AlertEventRow.alert_id).where(AlertEventRow.kind == "raised"))
        )
        for alert in alerts:
            assert alert.pathway_version and alert.rule_id
            assert alert.id in raised
            if alert.kind == "alert":
                # A rule of the pathway's catalogue, with the findings that raised it.
                assert alert.rule_id in RULES, alert.rule_id
                assert alert.id in with_findings
            else:
                assert alert.rule_id == f"task.{REVIEW_GROUP}"
            assert alert.raised_at <= NOW
            if alert.status == "resolved":
                assert alert.outcome and alert.resolved_at is not None
                assert alert.resolved_at <= NOW
            else:
                assert alert.due_at >= NOW - timedelta(days=3), (alert.rule_id, alert.due_at)
        # The teams resolved them as clinicians of the alert's team, through the use cases.
        movers = session.execute(
            select(AlertEventRow.actor_id, Alert.team_id)
            .join(Alert, Alert.id == AlertEventRow.alert_id)
            .where(AlertEventRow.kind.in_(("acknowledged", "resolved")))
        ).all()
        assert movers

        members = {(u, t) for u, t in session.execute(select(UserTeam.user_id, UserTeam.team_id))}
        for actor, team in movers:
            if actor is not None:
                assert (_uuid(actor), team) in members
        # Every team has a patient whose readings are red today, waiting for it.
        red_teams = set(
            session.scalars(
                select(Alert.team_id).where(Alert.severity == "red", Alert.status != "resolved")
            )
        )
        assert len(red_teams) == session.scalar(select(func.count()).select_from(Team))


def _last_months_network_report_has_numbers(session: Session) -> None:
    numbers, cells, values = _network_numbers(session, LAST_MONTH)
    # Eighty patients is a small network: disclosure control hides its smallest counts.
    assert numbers >= cells // 2, values


def _history_before_enrolment_for_before_and_after(session: Session) -> None:
    referred = session.execute(
        select(Patient.id, Patient.enrolled_on).where(Patient.cohort == "post_discharge")
    ).all()
    admissions: dict[Any, list[Any]] = {}
    for event in session.scalars(select(PatientEvent).where(PatientEvent.kind == "admission")):
        admissions.setdefault(event.patient_id, []).append(event)
    assert referred
    for pid, enrolled_on in referred:
        # The admission the patient was referred from, discharged 1-10 days before enrolment.
        assert any(
            e.discharged_on is not None and 1 <= (enrolled_on - e.discharged_on).days <= 10
            for e in admissions.get(pid, [])
        ), pid
    report = before_after(session, LAST_MONTH, None)
    network = report["network"]
    assert isinstance(network["patients"], int) and network["patients"] > 0, network
    all_cause = network["outcomes"][0]
    assert all_cause["outcome"] == "admissions_all_cause"
    assert isinstance(all_cause["before"]["events"], int) and all_cause["before"]["events"] > 0


def _staff_time_recorded(session: Session) -> None:
    """Every alert a nurse resolved says its minutes (the service's own closes none); the team
    rang and visited its patients, each contact within its kind's minutes."""
    resolved = session.execute(
        select(AlertEventRow.actor_id, AlertEventRow.minutes_spent).where(
            AlertEventRow.kind == "resolved"
        )
    ).all()
    assert resolved
    for actor, minutes in resolved:
        if actor is None:
            assert minutes is None
        else:
            assert minutes is not None and 3 <= minutes <= 85
    contacts = session.execute(select(PatientContact.kind, PatientContact.minutes)).all()
    kinds = Counter(kind for kind, _ in contacts)
    assert kinds["call"] > kinds["visit"] > 0, kinds
    for kind, minutes in contacts:
        low, high = (10, 20) if kind == "call" else (45, 60)
        assert low <= minutes <= high
    assert all(at <= NOW for at in session.scalars(select(PatientContact.occurred_at))), (
        "a contact in the future"
    )


def _uuid(value: Any) -> Any:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


@pytest.mark.slow
def test_the_full_demo_command(tmp_path: Path) -> None:
    """`mhf demo` at full size on SQLite: a progress bar, and last month mostly numbers."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    env = {"MHF_DATABASE_URL": url, "PATH": str(Path(sys.executable).parent)}
    mhf = str(Path(sys.executable).parent / "mhf")
    subprocess.run([mhf, "migrate"], env=env, check=True, capture_output=True)
    done = subprocess.run([mhf, "demo"], env=env, check=True, capture_output=True, text=True)
    assert "demo:" in done.stderr and "100%" in done.stderr
    assert "nurse.derby1" in done.stdout and "heart-failure-demo" in done.stdout
    engine = build_engine(url)
    with unit_of_work(build_sessionmaker(engine)) as session:
        month = (datetime.now(LONDON).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        numbers, cells, values = _network_numbers(session, month, datetime.now(UTC))
        statuses = set(session.scalars(select(Patient.status)))
    engine.dispose()
    assert statuses == {"active", "paused", "discharged"}
    assert numbers >= 0.8 * cells, values
    kccq = [v for k, v in values.items() if k.startswith("kccq_")]
    assert kccq and all(isinstance(v, int | float) for v in kccq), values
