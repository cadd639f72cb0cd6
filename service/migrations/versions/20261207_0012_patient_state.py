"""Patient state from events, tasks in the queue, and the history of settings

Revision ID: 20261207_0012
Revises: 20261207_0011
Create Date: 2026-12-07 05:30:00

- patients.in_hospital_since and patients.died_on: the state derived from the recorded events
  (service.patients.state). Filled from the events already recorded, so the scheduler stops
  judging missed readings of patients in hospital or dead as soon as this runs; discharging
  those who died, revoking their tokens and closing their alerts is left to the team (the
  patient page shows the death), as it needs an audited actor.
- alerts.kind: 'task' for work the team owes (the post-discharge review), 'alert' otherwise.
- setting_changes: who changed a patient's thresholds or a site's settings, when, from what to
  what.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261207_0012"
down_revision = "20261207_0011"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql")


def upgrade() -> None:
    # Plain ADD COLUMN on both databases: a batch copy of these tables on SQLite would have to
    # rebuild their partial and expression indexes.
    op.add_column("patients", sa.Column("in_hospital_since", sa.Date(), nullable=True))
    op.add_column("patients", sa.Column("died_on", sa.Date(), nullable=True))
    op.add_column(
        "alerts", sa.Column("kind", sa.String(length=8), server_default="alert", nullable=False)
    )
    op.create_table(
        "setting_changes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("subject", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("setting", sa.String(length=64), nullable=False),
        sa.Column("before", JSON, nullable=True),
        sa.Column("after", JSON, nullable=True),
        sa.Column("changed_by", sa.Uuid(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("subject IN ('patient','site')", name=op.f("ck_setting_changes_subject")),
        sa.ForeignKeyConstraint(
            ["changed_by"], ["users.id"], name=op.f("fk_setting_changes_changed_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_setting_changes")),
    )
    op.create_index(
        "ix_setting_changes_subject_id_changed_at",
        "setting_changes",
        ["subject_id", "changed_at"],
        unique=False,
    )
    # The state of the events already recorded: the earliest death, and the earliest admission
    # still open (overlaps are merged by the service from now on; an open one is what pauses).
    op.execute(
        "UPDATE patients SET died_on = (SELECT MIN(e.occurred_on) FROM patient_events e"
        " WHERE e.patient_id = patients.id AND e.kind = 'death')"
    )
    op.execute(
        "UPDATE patients SET in_hospital_since = (SELECT MIN(e.occurred_on) FROM patient_events e"
        " WHERE e.patient_id = patients.id AND e.kind = 'admission' AND e.discharged_on IS NULL)"
        " WHERE died_on IS NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_setting_changes_subject_id_changed_at", table_name="setting_changes")
    op.drop_table("setting_changes")
    op.drop_column("alerts", "kind")
    op.drop_column("patients", "died_on")
    op.drop_column("patients", "in_hospital_since")
