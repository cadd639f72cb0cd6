"""Alerts: when an alert last rose in severity

Revision ID: 20261207_0017
Revises: 20261207_0016
Create Date: 2026-12-07 13:40:00

The queue says "became red at ..." and a rise now counts the due time from that instant
(``alerts.lifecycle.raise_severity``). Existing alerts take it from their history: the latest
``severity_raised`` event, which every rise has recorded since alerts began; alerts that never
rose keep NULL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261207_0017"
down_revision = "20261207_0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("severity_raised_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.execute(
        "UPDATE alerts SET severity_raised_at = ("
        " SELECT max(e.at) FROM alert_events e"
        " WHERE e.alert_id = alerts.id AND e.kind = 'severity_raised')"
        " WHERE EXISTS (SELECT 1 FROM alert_events e"
        " WHERE e.alert_id = alerts.id AND e.kind = 'severity_raised')"
    )


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("severity_raised_at")
