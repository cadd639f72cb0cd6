"""One audit record per list page (audit_subjects), the audit append in one call, the team order

ix_alerts_team_order serves the queue's order over resolved alerts too (status=resolved).

Revision ID: 20261201_0006
Revises: 20261201_0005
Create Date: 2026-12-01 18:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261201_0006"
down_revision = "20261201_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_subjects",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("seq", "patient_id", name=op.f("pk_audit_subjects")),
    )
    with op.batch_alter_table("audit_subjects", schema=None) as batch_op:
        batch_op.create_index("ix_audit_subjects_patient_id_seq", ["patient_id", "seq"])
    # The queue order over every alert of a team, for the resolved history.
    op.create_index(
        "ix_alerts_team_order", "alerts", ["team_id", sa.text("severity_rank DESC"), "raised_at", "id"]
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND)


# Appends one audit record in one round trip: takes the chain lock, reads the head, links the
# record to it (service.audit._link: sha256 of the previous hash and the record's own digest,
# as hex) and inserts it with the patients it names. VOLATILE, so the head is read with a
# snapshot taken after the lock is granted and includes the previous holder's record (in one
# plain statement the snapshot would predate the wait, and two records could share a head).
APPEND = """
CREATE FUNCTION audit_append(
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
    INSERT INTO audit_events (recorded_at, actor_id, actor_role, patient_id, action, route,
                              outcome, detail, prev_hash, hash)
    VALUES (at, actor, role, patient, act, route_, outcome_, detail_, head,
            encode(sha256(convert_to(head || body, 'UTF8')), 'hex'))
    RETURNING seq INTO new_seq;
    INSERT INTO audit_subjects (seq, patient_id) SELECT new_seq, p FROM unnest(patients) AS p;
    RETURN new_seq;
END
$$
"""


def downgrade() -> None:
    op.drop_index("ix_alerts_team_order", table_name="alerts")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION audit_append(bigint, timestamptz, uuid, text, uuid, text, text, text, "
            "text, text, uuid[])"
        )
    with op.batch_alter_table("audit_subjects", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_subjects_patient_id_seq")
    op.drop_table("audit_subjects")
