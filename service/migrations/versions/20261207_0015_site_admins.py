"""Site admins: a role that manages one site, tied to it by users.site_id

Revision ID: 20261207_0015
Revises: 20261207_0014
Create Date: 2026-12-07 05:30:00

Existing users keep their roles; no one is a site admin until a network admin makes one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261207_0015"
down_revision = "20261207_0014"
branch_labels = None
depends_on = None

OLD_ROLES = "role IN ('clinician','programme_lead','admin')"
NEW_ROLES = "role IN ('clinician','programme_lead','admin','site_admin')"
SITE_ADMIN_SITE = "(role = 'site_admin') = (site_id IS NOT NULL)"


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("site_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(op.f("fk_users_site_id_sites"), "sites", ["site_id"], ["id"])
        batch_op.create_index(op.f("ix_users_site_id"), ["site_id"], unique=False)
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_users_role"), NEW_ROLES)
        batch_op.create_check_constraint(op.f("ck_users_site_admin_site"), SITE_ADMIN_SITE)


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_site_admin_site"), type_="check")
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
    # A site admin has no place in the old roles. Never promote them to network admin: they
    # become inactive clinicians of no team, with no access at all, until someone decides.
    users = sa.table(
        "users", sa.column("role", sa.String), sa.column("is_active", sa.Boolean)
    )
    op.execute(
        users.update()
        .where(users.c.role == "site_admin")
        .values(role="clinician", is_active=sa.false())
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_check_constraint(op.f("ck_users_role"), OLD_ROLES)
        batch_op.drop_index(op.f("ix_users_site_id"))
        batch_op.drop_constraint(op.f("fk_users_site_id_sites"), type_="foreignkey")
        batch_op.drop_column("site_id")
