"""The standard world most service tests run in: two sites, three teams, one clinician and one
patient per team, an admin and a programme lead, each with a way to authenticate."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from fastapi import FastAPI
from sqlalchemy.orm import Session

from service.db import unit_of_work
from service.identity.security import issue_access_token, token_settings
from service.models import Alert, Patient, Site, Team
from service.settings import Settings
from tests.support.clock import T0, FakeClock
from tests.support.factories import NHS_NUMBERS, make_device_token, make_patient, make_user

SECRET = "test-secret-" + "x" * 40
_ROLES = {"admin": "admin", "lead": "programme_lead"}


def settings_for(database_url: str) -> Settings:
    # Tokens outlive the tests that move the clock by hours.
    return Settings(
        database_url=database_url,
        secret_key=SECRET,
        environment="test",
        access_token_minutes=24 * 60,
    )


T = TypeVar("T")


@dataclass
class World:
    """Two sites; site A has teams A1 and A2, site B has team B1. One clinician per team."""

    app: FastAPI
    settings: Settings
    sites: dict[str, uuid.UUID] = field(default_factory=dict)
    teams: dict[str, uuid.UUID] = field(default_factory=dict)
    users: dict[str, uuid.UUID] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    patients: dict[str, uuid.UUID] = field(default_factory=dict)
    device_tokens: dict[str, str] = field(default_factory=dict)
    clock: FakeClock | None = None

    def auth(self, who: str) -> dict[str, str]:
        """Headers for ``who``; staff tokens are issued at the test clock's current time."""
        if who in self.device_tokens:
            return {"Authorization": f"Bearer {self.device_tokens[who]}"}
        if self.clock is not None and who in self.users:
            token = issue_access_token(
                token_settings(self.settings),
                self.users[who],
                _ROLES.get(who, "clinician"),
                self.clock(),
            )
            return {"Authorization": f"Bearer {token}"}
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def build_world(app: FastAPI, settings: Settings, clock: FakeClock) -> World:
    w = World(app=app, settings=settings, clock=clock)
    with unit_of_work(app.state.sessions) as s:
        for code in ("A", "B"):
            site = Site(id=uuid.uuid4(), code=f"SITE{code}", name=f"Site {code}", created_at=T0)
            s.add(site)
            s.flush()
            w.sites[code] = site.id
        for name, site_code in (("A1", "A"), ("A2", "A"), ("B1", "B")):
            team = Team(
                id=uuid.uuid4(), site_id=w.sites[site_code], name=f"Team {name}", created_at=T0
            )
            s.add(team)
            s.flush()
            w.teams[name] = team.id
        w.users["admin"] = make_user(s, "admin", "admin", [])
        w.users["lead"] = make_user(s, "lead", "programme_lead", [])
        for code in ("A1", "A2", "B1"):
            w.users[f"clin_{code}"] = make_user(
                s, f"clin_{code.lower()}", "clinician", [w.teams[code]]
            )
        for i, code in enumerate(("A1", "A2", "B1")):
            pid = make_patient(s, NHS_NUMBERS[i], w.teams[code])
            w.patients[f"pat_{code}"] = pid
            w.device_tokens[f"pat_{code}"] = make_device_token(s, pid)
    ts = token_settings(settings)
    for name, user_id in w.users.items():
        w.tokens[name] = issue_access_token(ts, user_id, _ROLES.get(name, "clinician"), clock())
    return w


def read(world: World, fn: Callable[[Session], T]) -> T:
    """Read in a short transaction of its own, so the app's writes are never blocked."""
    with world.app.state.sessions() as s:
        result = fn(s)
        s.expunge_all()
        return result


def alert_row(world: World, alert_id: str) -> Alert:
    alert = read(world, lambda s: s.get(Alert, uuid.UUID(alert_id)))
    assert alert is not None
    return alert


def patient_row(world: World, patient_id: uuid.UUID) -> Patient:
    patient = read(world, lambda s: s.get(Patient, patient_id))
    assert patient is not None
    return patient
