"""Append-only, hash-chained audit trail of staff access to patient data.

Each record carries the hash of the one before it (``prev_hash``) and its own ``hash``. Records
written before 2026-12-01 hash the whole payload with the previous hash inside it (``_digest``);
later ones hash the previous hash followed by the digest of their own payload (``_link`` of
``_body``), which PostgreSQL can finish itself: the append is then one call to the database
(``audit_append``, see migration 20261201_0006) that takes the chain lock, reads the head,
links and inserts the record and the patients it names. Both forms cover every field, the
patient list and the previous record; the verifier accepts either.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Uuid, bindparam, func, insert, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from service.db import keep_on_rollback
from service.db.capabilities import has_audit_functions
from service.models import AuditEvent
from service.timeutil import utcnow

GENESIS = "0" * 64
# Serialises writers (PostgreSQL) so each row's prev_hash is the row before it in commit order.
_AUDIT_LOCK_KEY = 0x4D48465F41554454  # "MHF_AUDT"


_REQUEST = "mhf.audit_request"


def bind_request(session: Session, route: str, clock: Callable[[], datetime]) -> None:
    """Name the request and its clock on its unit of work, for records written deep in a use
    case that has neither (``record_refusal``)."""
    session.info[_REQUEST] = (route, clock)


def record_refusal(session: Session, make: Callable[[str], AuditEntry]) -> None:
    """Record a refused access (``make`` builds it from the route) so that it survives the
    rollback the refusal causes: a probe of another team's patient is kept in the trail."""
    route, clock = session.info.get(_REQUEST, ("-", utcnow))
    entry, now = make(route), clock()
    keep_on_rollback(session, lambda s: record(s, [entry], now))


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
    """The hash of a record written before the chain was linked by ``_link`` (one patient)."""
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


def _frame(recorded_at: datetime, entry: AuditEntry) -> tuple[str, str]:
    """``_body``'s JSON text around the patient fields: what comes before the single patient
    and what lies between it and the patient list. ``audit_append_patients`` (migration
    20261201_0007) fills in the patients itself, so both must build the same text."""
    head = json.dumps(
        [
            recorded_at.isoformat(),
            str(entry.actor_id) if entry.actor_id else None,
            entry.actor_role,
        ],
        separators=(",", ":"),
    )
    middle = json.dumps(
        [entry.action, entry.route, entry.outcome, entry.detail], separators=(",", ":")
    )
    return head[:-1] + ",", middle[1:-1]


def _body(recorded_at: datetime, entry: AuditEntry) -> str:
    """The digest of a record's own fields (everything but the link to the one before): of
    ``[recorded_at, actor, role, patient, action, route, outcome, detail, sorted patients]``
    as compact JSON."""
    head, middle = _frame(recorded_at, entry)
    patient = json.dumps(str(entry.patient_id) if entry.patient_id else None)
    patients = json.dumps(sorted(str(p) for p in entry.patient_ids), separators=(",", ":"))
    return hashlib.sha256(f"{head}{patient},{middle},{patients}]".encode()).hexdigest()


def _link(prev_hash: str, body: str) -> str:
    """The record's hash: also computed by ``audit_append`` in SQL, so ASCII hex only."""
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def record(session: Session, entries: Iterable[AuditEntry], now: datetime) -> None:
    entries = list(entries)
    if not entries:
        return
    if any(e.patient_ids and e.patient_id is not None for e in entries):
        raise ValueError("an audit record names one patient or several, not both")
    if has_audit_functions(session):
        for entry in entries:
            session.execute(
                _APPEND,
                {
                    **_columns(now, entry),
                    "k": _AUDIT_LOCK_KEY,
                    "body": _body(now, entry),
                    "ids": _named(entry),
                },
            )
        return
    # Without them (SQLite) the transaction already holds the database's only write lock.
    prev = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1))
    prev = prev or GENESIS
    rows = []
    for entry in entries:
        digest = _link(prev, _body(now, entry))
        named = _named(entry)
        rows.append(
            {
                **_columns(now, entry),
                "patient_ids": named or None,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    session.execute(insert(AuditEvent), rows)


def _named(entry: AuditEntry) -> list[uuid.UUID]:
    """The patients a record about several names, once each, in order (as
    ``audit_append_patients`` writes them)."""
    return sorted(set(entry.patient_ids))


def _columns(now: datetime, entry: AuditEntry) -> dict[str, object]:
    """A record's own columns, as both databases' appends write them."""
    return {
        "recorded_at": now,
        "actor_id": entry.actor_id,
        "actor_role": entry.actor_role,
        "patient_id": entry.patient_id,
        "action": entry.action,
        "route": entry.route,
        "outcome": entry.outcome,
        "detail": entry.detail,
    }


# Types given so psycopg sends them as the function's argument types.
_APPEND = text(
    "SELECT audit_append(:k, :recorded_at, :actor_id, :actor_role, :patient_id, :action, "
    ":route, :outcome, :detail, :body, :ids)"
).bindparams(
    bindparam("recorded_at", type_=AuditEvent.__table__.c.recorded_at.type),
    bindparam("actor_id", type_=Uuid()),
    bindparam("patient_id", type_=Uuid()),
    bindparam("ids", type_=ARRAY(Uuid())),
)


def append_patients(patients: ColumnElement[Any]) -> ColumnElement[int]:
    """For a PostgreSQL statement that reads patients' data and audits the read itself: appends
    the record ``append_patients_params`` describes, naming ``patients`` (a uuid[] expression),
    and is its seq (NULL, and no record, if there are none). The same record as ``record``
    writes, in the same chain under the same lock, without a round trip of its own."""
    return func.audit_append_patients(
        bindparam("audit_k"),
        bindparam("audit_at", type_=AuditEvent.__table__.c.recorded_at.type),
        bindparam("audit_actor", type_=Uuid()),
        bindparam("audit_role"),
        bindparam("audit_action"),
        bindparam("audit_route"),
        bindparam("audit_outcome"),
        bindparam("audit_detail"),
        bindparam("audit_head"),
        bindparam("audit_middle"),
        patients,
        type_=BigInteger(),
    )


def append_patients_params(now: datetime, entry: AuditEntry) -> dict[str, Any]:
    """The parameters of ``append_patients`` for a record of ``entry``'s fields; the statement
    supplies the patients."""
    if entry.patient_id is not None or entry.patient_ids:
        raise ValueError("the statement names the patients, not the entry")
    head, middle = _frame(now, entry)
    return {
        "audit_k": _AUDIT_LOCK_KEY,
        "audit_at": now,
        "audit_actor": entry.actor_id,
        "audit_role": entry.actor_role,
        "audit_action": entry.action,
        "audit_route": entry.route,
        "audit_outcome": entry.outcome,
        "audit_detail": entry.detail,
        "audit_head": head,
        "audit_middle": middle,
    }


@dataclass(frozen=True, slots=True)
class ChainCheck:
    rows: int
    first_bad_seq: int | None
    # (last seq before, next seq) for each hole in the numbering, the first hundred.
    gaps: tuple[tuple[int, int], ...] = ()
    # For each watched seq that is present: (rows up to and including it, its hash).
    watched: dict[int, tuple[int, str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


_MAX_GAPS = 100


def verify_chain(session: Session, batch: int = 5000, watch: Collection[int] = ()) -> ChainCheck:
    """Walk the trail in order: every link and hash, and holes in the numbering.

    A hole is reported, not judged here: before migration 20261207_0014, PostgreSQL numbered
    records from a sequence, and a rolled-back append skipped a number. ``watch``: seqs whose
    position and hash the caller wants (the signed checkpoints' heads).
    """
    prev = GENESIS
    count = 0
    last_seq = 0
    gaps: list[tuple[int, int]] = []
    watched: dict[int, tuple[int, str]] = {0: (0, GENESIS)} if 0 in watch else {}
    while True:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.seq > last_seq)
            .order_by(AuditEvent.seq)
            .limit(batch)
        ).all()
        if not rows:
            return ChainCheck(count, None, tuple(gaps), watched)
        for row in rows:
            entry = AuditEntry(
                row.actor_id,
                row.actor_role,
                row.patient_id,
                row.action,
                row.route,
                row.outcome,
                row.detail,
                tuple(row.patient_ids or ()),
            )
            if row.prev_hash != prev or row.hash not in (
                _link(prev, _body(row.recorded_at, entry)),
                _digest(prev, row.recorded_at, entry),
            ):
                return ChainCheck(count, row.seq, tuple(gaps), watched)
            if row.seq != last_seq + 1 and len(gaps) < _MAX_GAPS:
                gaps.append((last_seq, row.seq))
            prev = row.hash
            count += 1
            last_seq = row.seq
            if row.seq in watch:
                watched[row.seq] = (count, row.hash)
