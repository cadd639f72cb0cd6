"""Append-only, hash-chained audit trail of staff access to patient data."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from service.models import AuditEvent

GENESIS = "0" * 64
# Serialises writers so each row's prev_hash is the row before it in commit order.
_AUDIT_LOCK_KEY = 0x4D48465F41554454  # "MHF_AUDT"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    actor_id: uuid.UUID | None
    actor_role: str
    patient_id: uuid.UUID | None
    action: str  # C, R, U, D or E (execute), as FHIR AuditEvent.action
    route: str
    outcome: str = "0"  # FHIR AuditEvent outcome: 0 success, 4 minor failure, 8 serious
    detail: str | None = None


def _digest(prev_hash: str, recorded_at: datetime, entry: AuditEntry) -> str:
    payload = json.dumps(
        [
            prev_hash,
            recorded_at.isoformat(),
            str(entry.actor_id) if entry.actor_id else None,
            entry.actor_role,
            str(entry.patient_id) if entry.patient_id else None,
            entry.action,
            entry.route,
            entry.outcome,
            entry.detail,
        ],
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def record(session: Session, entries: Iterable[AuditEntry], now: datetime) -> None:
    entries = list(entries)
    if not entries:
        return
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _AUDIT_LOCK_KEY})
    prev = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1))
    prev = prev or GENESIS
    rows = []
    for entry in entries:
        digest = _digest(prev, now, entry)
        rows.append(
            {
                "recorded_at": now,
                "actor_id": entry.actor_id,
                "actor_role": entry.actor_role,
                "patient_id": entry.patient_id,
                "action": entry.action,
                "route": entry.route,
                "outcome": entry.outcome,
                "detail": entry.detail,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    # One multi-row INSERT: a queue page audits up to 200 patients at once.
    session.execute(insert(AuditEvent), rows)


@dataclass(frozen=True, slots=True)
class ChainCheck:
    rows: int
    first_bad_seq: int | None

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


def verify_chain(session: Session, batch: int = 5000) -> ChainCheck:
    prev = GENESIS
    count = 0
    last_seq = 0
    while True:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.seq > last_seq)
            .order_by(AuditEvent.seq)
            .limit(batch)
        ).all()
        if not rows:
            return ChainCheck(count, None)
        for row in rows:
            entry = AuditEntry(
                row.actor_id,
                row.actor_role,
                row.patient_id,
                row.action,
                row.route,
                row.outcome,
                row.detail,
            )
            if row.prev_hash != prev or _digest(prev, row.recorded_at, entry) != row.hash:
                return ChainCheck(count, row.seq)
            prev = row.hash
            count += 1
            last_seq = row.seq
