"""readings.local_date: the London date of each reading, generated from taken_at, and the
adherence index on it

Revision ID: 20261201_0005
Revises: 20261124_0004
Create Date: 2026-12-01 18:30:00

PostgreSQL stores the column (it rewrites the table once, filling existing rows); SQLite can only
add a VIRTUAL generated column to an existing table, and the index stores its value, which is
where the report reads it. The expressions are copied here, not imported: a migration must keep
meaning what it meant when it ran.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261201_0005"
down_revision = "20261124_0004"
branch_labels = None
depends_on = None

LOCAL_DATE_PG = "(timezone('Europe/London'::text, taken_at))::date"
LOCAL_DATE_SQLITE = (
    "CASE WHEN taken_at >= datetime(date(substr(taken_at, 1, 4) || '-03-31', '-6 days', "
    "'weekday 0'), '+1 hours') AND taken_at < datetime(date(substr(taken_at, 1, 4) || '-10-31', "
    "'-6 days', 'weekday 0'), '+1 hours') THEN date(taken_at, '+1 hours') ELSE date(taken_at) END"
)
WEIGHT = sa.text("type = 'weight'")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE readings ADD COLUMN local_date DATE NOT NULL "
            f"GENERATED ALWAYS AS ({LOCAL_DATE_SQLITE}) VIRTUAL"
        )
    else:
        op.add_column(
            "readings",
            sa.Column(
                "local_date",
                sa.Date(),
                sa.Computed(sa.text(LOCAL_DATE_PG), persisted=True),
                nullable=False,
            ),
        )
    op.create_index(
        "ix_readings_weight_local_date",
        "readings",
        ["patient_id", "local_date"],
        unique=False,
        sqlite_where=WEIGHT,
        postgresql_where=WEIGHT,
    )
    op.drop_index("ix_readings_weight_taken_at", table_name="readings")


def downgrade() -> None:
    op.create_index(
        "ix_readings_weight_taken_at",
        "readings",
        ["taken_at", "patient_id"],
        unique=False,
        sqlite_where=WEIGHT,
        postgresql_where=WEIGHT,
    )
    op.drop_index("ix_readings_weight_local_date", table_name="readings")
    if op.get_bind().dialect.name == "sqlite":
        # ALTER TABLE .. DROP COLUMN (SQLite 3.35+): a generated column needs no table copy.
        op.execute("ALTER TABLE readings DROP COLUMN local_date")
    else:
        op.drop_column("readings", "local_date")
