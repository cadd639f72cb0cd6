"""Medicine changes take a dm+d code and a dose with its unit

Revision ID: 20261207_0026
Revises: 20261207_0025
Create Date: 2026-12-07 18:40:00

All three are optional and existing rows keep NULL: the free-text drug name stays what it was.
A dose is a value with a unit or nothing, and a positive value.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261207_0026"
down_revision = "20261207_0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("medication_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dmd_code", sa.String(length=18), nullable=True))
        batch_op.add_column(sa.Column("dose_value", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("dose_unit", sa.String(length=16), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_medication_changes_dose_with_unit"),
            "(dose_value IS NULL) = (dose_unit IS NULL)",
        )
        batch_op.create_check_constraint(
            op.f("ck_medication_changes_dose_positive"), "dose_value IS NULL OR dose_value > 0"
        )


def downgrade() -> None:
    with op.batch_alter_table("medication_changes", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_medication_changes_dose_positive"), type_="check")
        batch_op.drop_constraint(op.f("ck_medication_changes_dose_with_unit"), type_="check")
        batch_op.drop_column("dose_unit")
        batch_op.drop_column("dose_value")
        batch_op.drop_column("dmd_code")
