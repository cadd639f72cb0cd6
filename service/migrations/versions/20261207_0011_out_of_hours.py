"""Out-of-hours handling: alerts.out_of_hours_handling and webhooks.purpose

Revision ID: 20261207_0011
Revises: 20261207_0010
Create Date: 2026-12-07 05:30:00

A red alert raised outside the team's working hours records what the site's setting did with it
(queued for the next working day, or handed to an out-of-hours webhook). Alerts raised before
this revision keep NULL: the out-of-hours report counts from this release on (before it every
red alert waited for the team, whatever the hour). A webhook is
the team's own (every event, as before) or an out-of-hours service's (handed-over red alerts
only); every existing webhook is a team's.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261207_0011"
down_revision = "20261207_0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alerts", sa.Column("out_of_hours_handling", sa.String(32), nullable=True))
    op.add_column(
        "webhooks",
        sa.Column("purpose", sa.String(16), nullable=False, server_default="team"),
    )


def downgrade() -> None:
    # SQLite 3.35+ drops a plain column in place; batch mode would copy the alerts table.
    op.drop_column("webhooks", "purpose")
    op.drop_column("alerts", "out_of_hours_handling")
