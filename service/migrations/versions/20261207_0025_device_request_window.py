"""Device tokens count their requests, for the per-device rate limit

Revision ID: 20261207_0025
Revises: 20261207_0024
Create Date: 2026-12-07 19:00:00

A patient's app over its limit is answered 429 with Retry-After (issue 23). The count lives on
the token's row, in the database every replica shares, so the limit holds however many servers
and workers run: the start of the device's current window and its requests in it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261207_0025"
down_revision = "20261207_0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("device_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("window_started_at", sa.DateTime(timezone=True)))
        batch_op.add_column(
            sa.Column("window_requests", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("device_tokens", schema=None) as batch_op:
        batch_op.drop_column("window_requests")
        batch_op.drop_column("window_started_at")
