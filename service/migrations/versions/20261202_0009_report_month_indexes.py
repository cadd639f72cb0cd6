"""Indexes for reading a month: alerts raised and resolved, patients discharged

Revision ID: 20261202_0009
Revises: 20261202_0008
Create Date: 2026-12-02 12:00:00

A month's report reads the alerts raised or resolved in the month and the patients on the
pathway in it (not discharged, or discharged on or after its first day). Scanned whole, both
tables grow with the programme's history; these indexes read the month. On PostgreSQL they are
built CONCURRENTLY, so alerts are raised and resolved, and patients written, while they build.
"""

from __future__ import annotations

from alembic import op

revision = "20261202_0009"
down_revision = "20261202_0008"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_alerts_raised_at", "alerts", "raised_at"),
    ("ix_alerts_resolved_at", "alerts", "resolved_at"),
    ("ix_patients_discharged_on", "patients", "discharged_on"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
        with op.get_context().autocommit_block():
            for name, table, column in INDEXES:
                op.create_index(name, table, [column], postgresql_concurrently=True)
    else:
        for name, table, column in INDEXES:
            op.create_index(name, table, [column])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            for name, table, _ in INDEXES:
                op.drop_index(name, table_name=table, postgresql_concurrently=True)
    else:
        for name, table, _ in INDEXES:
            op.drop_index(name, table_name=table)
