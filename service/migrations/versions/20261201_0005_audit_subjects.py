"""One audit record per list page (audit_subjects), the chain head in one call, the team order

ix_alerts_team_order serves the queue's order over resolved alerts too (status=resolved).

audit_chain_head(key) takes the audit chain's advisory lock and returns the last record's hash
in one round trip. It is VOLATILE, so its query takes a snapshot after the lock is granted and
sees the record the previous holder committed (one statement holding both would not: its
snapshot would predate the wait for the lock, and two records could chain to the same head).

Revision ID: 20261201_0005
Revises: 20261124_0004
Create Date: 2026-12-01 18:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261201_0005"
down_revision = "20261124_0004"
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
        op.execute(
            """
            CREATE FUNCTION audit_chain_head(lock_key bigint) RETURNS text
            LANGUAGE plpgsql VOLATILE AS $$
            BEGIN
                PERFORM pg_advisory_xact_lock(lock_key);
                RETURN (SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1);
            END
            $$
            """
        )


def downgrade() -> None:
    op.drop_index("ix_alerts_team_order", table_name="alerts")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_chain_head(bigint)")
    with op.batch_alter_table("audit_subjects", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_subjects_patient_id_seq")
    op.drop_table("audit_subjects")
