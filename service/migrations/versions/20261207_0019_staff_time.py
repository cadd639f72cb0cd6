"""Staff time: the minutes spent on an alert, and the team's contacts with a patient

Revision ID: 20261207_0019
Revises: 20261207_0018
Create Date: 2026-12-07 15:30:00

Stewards cost nurse time (hours x the PSSRU nurse-hour cost), and nothing recorded it. Resolving
an alert now takes the minutes all the work on it took (on the alert, and in its ``resolved``
event for the history), and a contact (a call, visit or message) is recorded with its minutes.
Alerts resolved before this keep NULL: the time was never said, and a guess would be costed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261207_0019"
down_revision = "20261207_0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The column and its CHECK in one ALTER TABLE, the same statement on both databases: a
    # separate constraint would make SQLite copy the whole table, which its rows' foreign keys
    # (events, findings, deliveries) forbid.
    for table in ("alerts", "alert_events"):
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN minutes_spent INTEGER"
            f" CONSTRAINT ck_{table}_minutes_spent CHECK (minutes_spent BETWEEN 0 AND 1440)"
        )
    op.create_table(
        "patient_contacts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("alert_id", sa.Uuid(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('call','visit','message')", name=op.f("ck_patient_contacts_kind")
        ),
        sa.CheckConstraint(
            "minutes BETWEEN 0 AND 1440", name=op.f("ck_patient_contacts_minutes")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_patient_contacts_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_patient_contacts_alert_id_alerts")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_patient_contacts_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_contacts")),
    )
    op.create_index(
        "ix_patient_contacts_patient_id_occurred_at",
        "patient_contacts",
        ["patient_id", "occurred_at"],
        unique=False,
    )
    op.create_index(
        "ix_patient_contacts_occurred_at", "patient_contacts", ["occurred_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_patient_contacts_occurred_at", table_name="patient_contacts")
    op.drop_index("ix_patient_contacts_patient_id_occurred_at", table_name="patient_contacts")
    op.drop_table("patient_contacts")
    # A column's own CHECK goes with it, on SQLite (3.35 and later) as on PostgreSQL.
    for table in ("alert_events", "alerts"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN minutes_spent")
