"""Append-only, hash-chained audit trail of staff access to patient data."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, Uuid, bindparam, func, insert, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from service.models import AuditEvent, AuditSubject

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
    # A read of several patients at once (a list page) is one record naming them all; such a
    # record has no ``patient_id``.
    patient_ids: tuple[uuid.UUID, ...] = ()


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
            # Only records that name several patients carry the list, so every older record
            # (and every one-patient record) hashes exactly as it always did.
            *([sorted(str(p) for p in entry.patient_ids)] if entry.patient_ids else []),
        ],
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def record(session: Session, entries: Iterable[AuditEntry], now: datetime) -> None:
    entries = list(entries)
    if not entries:
        return
    if any(e.patient_ids and e.patient_id is not None for e in entries):
        raise ValueError("an audit record names one patient or several, not both")
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        # Takes the chain lock and reads the head in one round trip (see the migration).
        prev = session.scalar(_CHAIN_HEAD, {"k": _AUDIT_LOCK_KEY})
    else:
        prev = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1))
    prev = prev or GENESIS
    # In chain order, one statement per record: a request writes one record.
    for entry in entries:
        digest = _digest(prev, now, entry)
        row = {
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
        prev = digest
        subjects = list(dict.fromkeys(entry.patient_ids))
        if not subjects:
            session.execute(_INSERT_EVENT, row)
        elif postgres:
            session.execute(_INSERT_NAMED_EVENT, {**row, "ids": subjects})
        else:
            seq = session.scalar(_INSERT_EVENT.returning(_EVENTS.c.seq), row)
            session.execute(insert(_SUBJECTS), [{"seq": seq, "patient_id": p} for p in subjects])


# Built once: the audit write is on every staff request, and building and caching a statement
# per call costs more than running it.
_EVENT_COLUMNS = (
    "recorded_at",
    "actor_id",
    "actor_role",
    "patient_id",
    "action",
    "route",
    "outcome",
    "detail",
    "prev_hash",
    "hash",
)
# On the tables, not the entities: with a parameter dict an entity insert is an ORM bulk insert.
_EVENTS = cast(Table, AuditEvent.__table__)
_SUBJECTS = cast(Table, AuditSubject.__table__)
_INSERT_EVENT = insert(_EVENTS).values({c: bindparam(c) for c in _EVENT_COLUMNS})
_NEW_EVENT = _INSERT_EVENT.returning(_EVENTS.c.seq).cte("new_event")
# The record and the patients it names in one round trip (PostgreSQL).
_INSERT_NAMED_EVENT = insert(_SUBJECTS).from_select(
    ["seq", "patient_id"],
    select(_NEW_EVENT.c.seq, func.unnest(bindparam("ids", type_=ARRAY(Uuid)))),
)
_CHAIN_HEAD = text("SELECT audit_chain_head(:k)")


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
        named: dict[int, list[uuid.UUID]] = {}
        for seq, patient_id in session.execute(
            select(AuditSubject.seq, AuditSubject.patient_id).where(
                AuditSubject.seq > last_seq, AuditSubject.seq <= rows[-1].seq
            )
        ):
            named.setdefault(seq, []).append(patient_id)
        for row in rows:
            entry = AuditEntry(
                row.actor_id,
                row.actor_role,
                row.patient_id,
                row.action,
                row.route,
                row.outcome,
                row.detail,
                tuple(named.get(row.seq, ())),
            )
            if row.prev_hash != prev or _digest(prev, row.recorded_at, entry) != row.hash:
                return ChainCheck(count, row.seq)
            prev = row.hash
            count += 1
            last_seq = row.seq
