"""The audit trail's tail: signed checkpoints, gapless numbering, append-only on PostgreSQL

Revision ID: 20261207_0014
Revises: 20261207_0013
Create Date: 2026-12-07 05:45:00

Issue 18 finding 8. ``audit_checkpoints`` holds the scheduler's signed notes of the trail's
length and head (service.audit.checkpoint). On PostgreSQL:

- ``audit_append`` numbers each record one past the head it links to, under the chain lock it
  already takes, instead of from the sequence: a rolled-back append then leaves no hole, so a
  gap in ``seq`` after this migration means a record was removed.
- ``audit_events`` and ``audit_checkpoints`` refuse UPDATE and DELETE for every role (a
  trigger); only a superuser who turns triggers off, or the owner dropping the trigger, gets
  past it, and the checkpoints still show what they did.

SQLite gets no trigger: whoever can write the file can drop one, so there the checkpoints are
the control.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261207_0014"
down_revision = "20261207_0013"
branch_labels = None
depends_on = None

_APPEND = """
CREATE OR REPLACE FUNCTION audit_append(
    lock_key bigint, at timestamptz, actor uuid, role text, patient uuid, act text,
    route_ text, outcome_ text, detail_ text, body text, patients uuid[]
) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    head text;
    head_seq bigint;
    new_seq bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    SELECT seq, hash INTO head_seq, head FROM audit_events ORDER BY seq DESC LIMIT 1;
    head := coalesce(head, repeat('0', 64));
    INSERT INTO audit_events (seq, recorded_at, actor_id, actor_role, patient_id, patient_ids,
                              action, route, outcome, detail, prev_hash, hash)
    VALUES (coalesce(head_seq, 0) + 1, at, actor, role, patient, nullif(patients, '{}'), act,
            route_, outcome_, detail_, head,
            encode(sha256(convert_to(head || body, 'UTF8')), 'hex'))
    RETURNING seq INTO new_seq;
    RETURN new_seq;
END
$$
"""
# As 20261202_0008 left it: numbered by the sequence.
_APPEND_BEFORE = """
CREATE OR REPLACE FUNCTION audit_append(
    lock_key bigint, at timestamptz, actor uuid, role text, patient uuid, act text,
    route_ text, outcome_ text, detail_ text, body text, patients uuid[]
) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    head text;
    new_seq bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    SELECT hash INTO head FROM audit_events ORDER BY seq DESC LIMIT 1;
    head := coalesce(head, repeat('0', 64));
    INSERT INTO audit_events (recorded_at, actor_id, actor_role, patient_id, patient_ids,
                              action, route, outcome, detail, prev_hash, hash)
    VALUES (at, actor, role, patient, nullif(patients, '{}'), act, route_, outcome_, detail_,
            head, encode(sha256(convert_to(head || body, 'UTF8')), 'hex'))
    RETURNING seq INTO new_seq;
    RETURN new_seq;
END
$$
"""
_REFUSE = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""
_TABLES = ("audit_events", "audit_checkpoints")


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
            nullable=False,
        ),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("head_seq", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_APPEND)
    op.execute(_REFUSE)
    for table in _TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _TABLES:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP FUNCTION audit_refuse_change()")
        op.execute(_APPEND_BEFORE)
        # The sequence numbers again: from past the records numbered without it.
        op.execute(
            "SELECT setval(pg_get_serial_sequence('audit_events', 'seq'), "
            "coalesce((SELECT max(seq) FROM audit_events), 0) + 1, false)"
        )
    op.drop_table("audit_checkpoints")
