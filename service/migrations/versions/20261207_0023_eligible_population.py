"""Reports: each site's eligible population by equity group, load by load

Revision ID: 20261207_0023
Revises: 20261207_0022
Create Date: 2026-12-07 16:20:00

Uptake (enrolled / eligible per equity group) needs the people who could be on the pathway, which
the service does not hold: an ICS loads them from its population health management register.
Loads are kept, never replaced, so a past month's uptake reads the load in force then.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261207_0023"
down_revision = "20261207_0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "eligible_population_loads",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_eligible_population_loads_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["loaded_by"], ["users.id"], name=op.f("fk_eligible_population_loads_loaded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eligible_population_loads")),
    )
    op.create_index(
        "ix_eligible_population_loads_site_id_as_of",
        "eligible_population_loads",
        ["site_id", "as_of"],
    )
    op.create_table(
        "eligible_population_counts",
        sa.Column("load_id", sa.Uuid(), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("grp", sa.String(length=32), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "people >= 0", name=op.f("ck_eligible_population_counts_people_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["load_id"],
            ["eligible_population_loads.id"],
            name=op.f("fk_eligible_population_counts_load_id_eligible_population_loads"),
        ),
        sa.PrimaryKeyConstraint(
            "load_id", "dimension", "grp", name=op.f("pk_eligible_population_counts")
        ),
    )


def downgrade() -> None:
    op.drop_table("eligible_population_counts")
    op.drop_index(
        "ix_eligible_population_loads_site_id_as_of", table_name="eligible_population_loads"
    )
    op.drop_table("eligible_population_loads")
