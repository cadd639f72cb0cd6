"""A patient's device token: the one check of it, for every route a patient's app calls.

The general dependency (``service.deps``) and the one-pass readings route
(``service.readings.fast``) both call ``authenticate``; the readings route asks it to lock the
patient as well, so that the token's check, the patient's row and ingest's per-patient lock
cost one round trip on the busiest route.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from service.db import DriverStatement, fetch_all
from service.identity.security import DEVICE_TOKEN_PREFIX, hash_device_token
from service.models import DeviceToken, Patient, Site, Team
from service.problems import Unauthorized
from service.readings.evaluation import PatientColumns

_TOKENS, _PATIENTS = DeviceToken.__table__, Patient.__table__
_TEAMS, _SITES = Team.__table__, Site.__table__
_PATIENT_COLUMNS = tuple(f.name for f in fields(PatientColumns))


def _statement(*, lock: bool) -> Select[Any]:
    """The token's patient (the columns ingest reads) and its site's pathway overrides, for a
    token that is not revoked and a patient still monitored."""
    statement = (
        select(*(_PATIENTS.c[name] for name in _PATIENT_COLUMNS), _SITES.c.pathway_overrides)
        .select_from(
            _TOKENS.join(_PATIENTS, _PATIENTS.c.id == _TOKENS.c.patient_id)
            .join(_TEAMS, _TEAMS.c.id == _PATIENTS.c.team_id)
            .join(_SITES, _SITES.c.id == _TEAMS.c.site_id)
        )
        .where(
            _TOKENS.c.token_hash == bindparam("token_hash"),
            _TOKENS.c.revoked_at.is_(None),
            _PATIENTS.c.status != "discharged",
        )
    )
    # As ingest locks a patient (service.readings.repository.lock_patient): one ingest per
    # patient at a time, each judged with every earlier one in its history.
    return statement.with_for_update(of=_PATIENTS) if lock else statement


# Built once, Core rather than ORM: this runs on every request of a patient's app, and
# building the statement cost more than running it.
_CHECK = _statement(lock=False)
_CHECK_AND_LOCK = _statement(lock=True)
_DRIVER = {False: DriverStatement.of(_CHECK), True: DriverStatement.of(_CHECK_AND_LOCK)}
_STATEMENT = {False: _CHECK, True: _CHECK_AND_LOCK}


@dataclass(frozen=True, slots=True)
class DevicePatient:
    """The patient a valid device token belongs to, with its site's pathway overrides."""

    patient: PatientColumns
    overrides: dict[str, Any] | None
    # The patient's row is locked until the transaction ends (``lock_patient=True``).
    locked: bool


def is_device_token(token: str) -> bool:
    """Device tokens are told from staff access tokens by their prefix."""
    return token.startswith(DEVICE_TOKEN_PREFIX)


def authenticate(session: Session, raw_token: str, *, lock_patient: bool = False) -> DevicePatient:
    """The patient behind ``raw_token``, or 401: an unknown or revoked token, or a patient
    discharged from monitoring. ``lock_patient``: also lock the patient's row, as ingest does."""
    params = {"token_hash": hash_device_token(raw_token)}
    rows = fetch_all(session, _DRIVER[lock_patient], _STATEMENT[lock_patient], params)
    if not rows:
        raise Unauthorized("The device token is not valid.")
    *values, overrides = rows[0]
    return DevicePatient(PatientColumns(*values), overrides, lock_patient)
