"""Patients: the name the team knows them by and the number it rings

Revision ID: 20261207_0016
Revises: 20261207_0015
Create Date: 2026-12-07 12:50:00

Both optional: records enrolled by NHS number alone stay valid, and a team fills them in as it
next speaks to the patient.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261207_0016"
down_revision = "20261207_0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("phone", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_column("phone")
        batch_op.drop_column("name")
