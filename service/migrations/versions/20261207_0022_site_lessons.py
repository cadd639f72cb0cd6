"""Reports: each site's lessons note for a month, shown in the monthly pack

Revision ID: 20261207_0022
Revises: 20261207_0021
Create Date: 2026-12-07 16:15:00

The learning network's meeting reads each site's practice beside its results (issue 21): a
plain-text note per site and month, written by the site's stewards and the programme leads.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261207_0022"
down_revision = "20261207_0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_lessons",
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint("length(text) <= 4000", name=op.f("ck_site_lessons_text_length")),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_site_lessons_site_id_sites")),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_site_lessons_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("site_id", "month", name=op.f("pk_site_lessons")),
    )
    op.create_index(op.f("ix_site_lessons_month"), "site_lessons", ["month"])


def downgrade() -> None:
    op.drop_index(op.f("ix_site_lessons_month"), table_name="site_lessons")
    op.drop_table("site_lessons")
