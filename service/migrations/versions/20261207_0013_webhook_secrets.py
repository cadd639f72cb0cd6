"""Webhook secrets encrypted at rest

Revision ID: 20261207_0013
Revises: 20261207_0012
Create Date: 2026-12-07 05:30:00

Issue 18: a copy of the database must not let anyone sign a team's notifications. Each stored
secret is sealed with the key from settings (service.alerting.secrets: MHF_WEBHOOK_SECRET_KEY,
else derived from MHF_SECRET_KEY), so this migration must run with the same settings as the
service. The column widens for the Fernet token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from service.alerting.secrets import SecretBox

revision = "20261207_0013"
down_revision = "20261207_0012"
branch_labels = None
depends_on = None

_hooks = sa.table("webhooks", sa.column("id", sa.Uuid), sa.column("secret", sa.String))


def _box() -> SecretBox:
    from service.alerting.secrets import SecretBox
    from service.settings import get_settings

    return SecretBox.from_settings(get_settings())


def _rewrite(change: Callable[[str], str]) -> None:
    bind = op.get_bind()
    for hook_id, secret in bind.execute(sa.select(_hooks.c.id, _hooks.c.secret)).all():
        bind.execute(_hooks.update().where(_hooks.c.id == hook_id).values(secret=change(secret)))


def upgrade() -> None:
    with op.batch_alter_table("webhooks") as batch:
        batch.alter_column("secret", type_=sa.String(500), existing_type=sa.String(200))
    _rewrite(_box().seal)


def downgrade() -> None:
    _rewrite(_box().open)
    with op.batch_alter_table("webhooks") as batch:
        batch.alter_column("secret", type_=sa.String(200), existing_type=sa.String(500))
