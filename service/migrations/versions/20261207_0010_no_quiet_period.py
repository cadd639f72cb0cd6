"""Sites' pathway overrides lose quiet_period_days

Revision ID: 20261207_0010
Revises: 20261202_0009
Create Date: 2026-12-07 03:00:00

The alert policy (pathway.alert_policy) has no quiet period, and the pathway now refuses the
setting; a site that had stored it would otherwise fail every ingest. It only ever changed the
replay's counting, never the live service, so dropping it changes no alert.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "20261207_0010"
down_revision = "20261202_0009"
branch_labels = None
depends_on = None

KEY = "quiet_period_days"


def upgrade() -> None:
    bind = op.get_bind()
    sites = sa.table("sites", sa.column("id", sa.Uuid), sa.column("pathway_overrides", sa.JSON(none_as_null=True)))
    for site_id, overrides in bind.execute(sa.select(sites.c.id, sites.c.pathway_overrides)):
        stored = json.loads(overrides) if isinstance(overrides, str) else overrides
        if isinstance(stored, dict) and KEY in stored:
            kept = {k: v for k, v in stored.items() if k != KEY}
            bind.execute(
                sites.update().where(sites.c.id == site_id).values(pathway_overrides=kept or None)
            )


def downgrade() -> None:
    # The value is gone; without it the pathway used its default, which is what it does now.
    pass
