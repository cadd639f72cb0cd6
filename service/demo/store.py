"""The demo's rows, written in bulk: the organisation, then each chunk of planned patients with
their device tokens, readings, medicines, KCCQ-12 scores and hospital events.

These are records, not decisions: no alert is written here. The alerts come from the pathway's
findings through the service's raising code, and the teams' work on them through the alerting
use cases (``service.demo.work``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from service.demo.people import NURSES_PER_TEAM, SITES
from service.demo.plan import Arrival, Network, PatientPlan, plan_patient
from service.identity.security import hash_device_token, new_device_token
from service.models import (
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
from service.models.readings import READINGS_TABLE
from service.timeutil import LONDON


@dataclass(frozen=True, slots=True)
class Org:
    """The ids the patients' rows and the teams' work need."""

    team_ids: tuple[uuid.UUID, ...]
    team_names: tuple[str, ...]
    # The clinicians of each team, in the order of ``team_ids``.
    nurses: tuple[tuple[uuid.UUID, ...], ...]


@dataclass(frozen=True, slots=True)
class Stored:
    """What the teams' work needs of a stored patient (small: it crosses processes)."""

    id: uuid.UUID
    team: int
    enrolled_on: date
    ends_on: date | None
    reason: str | None
    paused_on: date | None
    arrivals: tuple[Arrival, ...]
    # Hospital discharges the team recorded (the day after), which owe a review.
    hospital_discharges: tuple[date, ...]
    died: bool
    # Any admission, A&E visit or death recorded: the patient's state derives from them.
    has_events: bool
    device_token: str


def organisation(session: Session, password_hash: str, now: datetime) -> Org:
    """The sites and teams of the learning network with their staff: nurses per team, a site
    admin per site, a network admin and a programme lead."""
    users: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    sites: list[dict[str, Any]] = []
    teams: list[dict[str, Any]] = []
    nurses: list[tuple[uuid.UUID, ...]] = []

    def user(username: str, role: str, name: str, site_id: uuid.UUID | None = None) -> uuid.UUID:
        user_id = uuid.uuid4()
        users.append(
            {
                "id": user_id,
                "username": username,
                "display_name": name,
                "password_hash": password_hash,
                "role": role,
                "is_active": True,
                "site_id": site_id,
                "created_at": now,
            }
        )
        return user_id

    for code, site_name, team_names in SITES:
        site_id = uuid.uuid4()
        sites.append({"id": site_id, "code": code, "name": site_name, "created_at": now})
        user(f"siteadmin.{code.lower()}", "site_admin", f"Site administrator, {site_name}", site_id)
        user(f"sitelead.{code.lower()}", "site_lead", f"Site lead, {site_name}", site_id)
        for number, team_name in enumerate(team_names, start=1):
            team_id = uuid.uuid4()
            teams.append(
                {
                    "id": team_id,
                    "site_id": site_id,
                    "name": team_name,
                    "escalation_contact": f"hf-lead-{code.lower()}{number}@nhs.example",
                    "created_at": now,
                }
            )
            ids = []
            for k in range(NURSES_PER_TEAM):
                suffix = "" if k == 0 else chr(ord("a") + k)
                ids.append(
                    user(
                        f"nurse.{code.lower()}{number}{suffix}",
                        "clinician",
                        f"HF specialist nurse {k + 1}, {team_name}",
                    )
                )
                links.append({"user_id": ids[-1], "team_id": team_id})
            nurses.append(tuple(ids))
    user("admin", "admin", "Network administrator")
    user("lead", "programme_lead", "Learning network programme lead")
    session.execute(insert(Site), sites)
    session.execute(insert(Team), teams)
    session.execute(insert(User), users)
    session.execute(insert(UserTeam), links)
    return Org(
        team_ids=tuple(t["id"] for t in teams),
        team_names=tuple(t["name"] for t in teams),
        nurses=tuple(nurses),
    )


def store_patients(session: Session, network: Network, org: Org, indices: range) -> list[Stored]:
    """Plan these patients and write their records; the teams' work comes after."""
    plans = [plan_patient(network, index) for index in indices]
    patients, tokens, readings, medicines, scores, events = [], [], [], [], [], []
    stored = []
    for plan in plans:
        team_id = org.team_ids[plan.team]
        nurse = org.nurses[plan.team][plan.index % len(org.nurses[plan.team])]
        created = plan.columns["created_at"]
        patients.append({**plan.columns, "team_id": team_id, "created_by": nurse})
        token = new_device_token()
        tokens.append(
            {
                "id": uuid.uuid4(),
                "patient_id": plan.id,
                "token_hash": hash_device_token(token),
                "created_at": created,
                "created_by": nurse,
            }
        )
        for row in plan.readings:
            if row["source"] == "clinician":
                row["entered_by"] = nurse
        readings += plan.readings
        medicines += [_recorded(plan, m, m["changed_on"], nurse) for m in plan.medicines]
        scores += [_recorded(plan, k, k["assessed_on"], nurse) for k in plan.kccq]
        events += [_event(plan, e, nurse, network) for e in plan.events]
        stored.append(_stored(plan, token))
    session.execute(insert(Patient), patients)
    session.execute(insert(DeviceToken), tokens)
    # Core insert of the table: the database fills the generated local_date column.
    session.execute(insert(READINGS_TABLE), readings)
    for model, rows in ((MedicationChange, medicines), (KccqScore, scores), (PatientEvent, events)):
        if rows:
            session.execute(insert(model), rows)
    return stored


def recorded_at(day: date) -> datetime:
    """When the team recorded something dated ``day``: that afternoon."""
    return datetime.combine(day, time(15, 30), LONDON).astimezone(UTC)


def _recorded(
    plan: PatientPlan, row: dict[str, Any], day: date, nurse: uuid.UUID
) -> dict[str, Any]:
    return {
        **row,
        "id": uuid.uuid4(),
        "patient_id": plan.id,
        "recorded_at": recorded_at(day),
        "recorded_by": nurse,
    }


def _event(
    plan: PatientPlan, event: dict[str, Any], nurse: uuid.UUID, network: Network
) -> dict[str, Any]:
    # Recorded when the team heard: the afternoon of the hospital discharge (or of the day itself).
    # History from before enrolment is recorded at enrolment.
    heard = max(event["discharged_on"] or event["occurred_on"], plan.columns["enrolled_on"])
    at = min(recorded_at(heard), network.now)
    return {
        **event,
        "id": uuid.uuid4(),
        "patient_id": plan.id,
        "emergency": True,
        "recorded_at": at,
        "recorded_by": nurse,
    }


def _stored(plan: PatientPlan, token: str) -> Stored:
    discharges = tuple(
        e["discharged_on"]
        for e in plan.events
        if e["kind"] == "admission"
        and e["discharged_on"] is not None
        and e["discharged_on"] >= plan.columns["enrolled_on"]
    )
    return Stored(
        id=plan.id,
        team=plan.team,
        enrolled_on=plan.columns["enrolled_on"],
        ends_on=plan.ends_on,
        reason=plan.reason,
        paused_on=plan.paused_on,
        arrivals=tuple(plan.arrivals),
        hospital_discharges=discharges,
        died=any(e["kind"] == "death" for e in plan.events),
        has_events=bool(plan.events),
        device_token=token,
    )
