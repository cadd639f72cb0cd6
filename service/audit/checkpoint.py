"""Signed checkpoints of the audit trail: how many records it had, and its head.

The hash chain shows a record edited or removed from the middle, but anyone who can delete the
newest records leaves a shorter chain that still verifies; anyone who can rewrite the table can
even recompute every hash after a removal. A checkpoint is signed with an HMAC key from
settings, never stored in the database, so neither can be hidden from ``mhf audit verify``: the
checkpoint's head must still be in the trail, with the same hash and the same number of
records up to it.

The scheduler writes one every few minutes (``write``), and logs it: the log is a copy outside
the database. On PostgreSQL the checkpoints are append-only like the trail (migration
20261207_0014), and from that migration on the trail is numbered without holes, so a hole after
the first checkpoint is a removed record.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.audit import GENESIS, ChainCheck, verify_chain
from service.models import AuditCheckpoint, AuditEvent
from service.settings import Settings, derived_key

log = logging.getLogger("mhf.audit")


def key_of(settings: Settings) -> bytes:
    if settings.audit_checkpoint_key:
        return settings.audit_checkpoint_key.encode()
    return derived_key(settings, "mhf-audit-checkpoints")


def _mac(key: bytes, recorded_at: datetime, rows: int, head_seq: int, head_hash: str) -> str:
    message = f"mhf-audit-checkpoint:v1|{recorded_at.isoformat()}|{rows}|{head_seq}|{head_hash}"
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def write(session: Session, key: bytes, now: datetime) -> dict[str, Any]:
    """Sign the trail as it stands; the caller's unit of work commits it."""
    head = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    head_seq, head_hash = (head[0], head[1]) if head else (0, GENESIS)
    rows = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    mac = _mac(key, now, rows, head_seq, head_hash)
    session.add(
        AuditCheckpoint(recorded_at=now, rows=rows, head_seq=head_seq, head_hash=head_hash, mac=mac)
    )
    result = {"rows": rows, "head_seq": head_seq, "head_hash": head_hash, "mac": mac}
    log.info("audit checkpoint", extra=result)
    return result


@dataclass(frozen=True, slots=True)
class TrailCheck:
    chain: ChainCheck
    checkpoints: int
    first_bad_checkpoint: int | None
    # Holes after the first checkpoint, where the numbering has no reason to skip.
    unexplained_gaps: tuple[tuple[int, int], ...]

    @property
    def ok(self) -> bool:
        return self.chain.ok and self.first_bad_checkpoint is None and not self.unexplained_gaps

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": self.ok, "rows_verified": self.chain.rows}
        if self.chain.first_bad_seq is not None:
            out["first_bad_seq"] = self.chain.first_bad_seq
        out["gaps"] = [list(g) for g in self.chain.gaps]
        out["checkpoints_verified"] = self.checkpoints
        if self.first_bad_checkpoint is not None:
            out["first_bad_checkpoint"] = self.first_bad_checkpoint
        return out


def verify(session: Session, key: bytes) -> TrailCheck:
    """The chain, its numbering, and every checkpoint against it."""
    points = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id)).all()
    chain = verify_chain(session, watch={p.head_seq for p in points})
    bad: int | None = None
    verified = 0
    for point in points:
        signed = _mac(key, point.recorded_at, point.rows, point.head_seq, point.head_hash)
        seen = chain.watched.get(point.head_seq)
        if not hmac.compare_digest(signed, point.mac) or seen != (point.rows, point.head_hash):
            bad = point.id
            break
        verified += 1
    since = points[0].head_seq if points else None
    unexplained = tuple(g for g in chain.gaps if since is not None and g[1] > since)
    return TrailCheck(chain, verified, bad, unexplained)
