"""Rows the tests need: staff users, patients and device tokens, with valid made-up NHS numbers."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from service.identity.security import hash_device_token, hash_password, new_device_token
from service.models import DeviceToken, Patient, User, UserTeam
from service.nhs_number import made_up_nhs_number
from tests.support.clock import T0

# A fixed hash: argon2 per test user would cost ~50 ms each.
PASSWORD = "correct horse battery"
PASSWORD_HASH = hash_password(PASSWORD)

NHS_NUMBERS = ["9434765919", "9434765870", "9434765897", "9434765846", "9434765862", "9434765838"]


def make_user(
    session: Session,
    username: str,
    role: str,
    teams: list[uuid.UUID],
    site_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """An active staff user whose password is ``PASSWORD``, member of ``teams``."""
    user = User(
        id=uuid.uuid4(),
        username=username,
        password_hash=PASSWORD_HASH,
        role=role,
        site_id=site_id,
        is_active=True,
        created_at=T0,
    )
    session.add(user)
    session.flush()
    session.add_all(UserTeam(user_id=user.id, team_id=t) for t in teams)
    return user.id


def make_patient(
    session: Session,
    nhs_number: str,
    team_id: uuid.UUID,
    *,
    cohort: str = "post_discharge",
    **extra: object,
) -> uuid.UUID:
    """An active patient enrolled 30 days before T0; ``extra`` overrides any column."""
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "nhs_number": nhs_number,
        "date_of_birth": datetime(1950, 5, 17).date(),
        "sex": "female",
        "team_id": team_id,
        "cohort": cohort,
        "ethnicity": "A",
        "imd_quintile": 2,
        "enrolled_on": (T0 - timedelta(days=30)).date(),
        "status": "active",
        "expects_daily_weight": True,
        "thresholds": {"target_weight_kg": 80.0},
        "version": 1,
        "created_at": T0 - timedelta(days=30),
    }
    values.update(extra)
    patient = Patient(**values)
    session.add(patient)
    session.flush()
    return patient.id


def make_device_token(session: Session, patient_id: uuid.UUID) -> str:
    """A new device token for the patient's app; returns the bearer secret."""
    token = new_device_token()
    session.add(
        DeviceToken(
            id=uuid.uuid4(),
            patient_id=patient_id,
            token_hash=hash_device_token(token),
            created_at=T0,
        )
    )
    return token


def nhs_number(seed: int) -> str:
    """A valid, made-up NHS number for test patient ``seed`` (999 prefix: never issued)."""
    return made_up_nhs_number(seed)
