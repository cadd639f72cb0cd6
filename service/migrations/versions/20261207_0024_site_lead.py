"""Site leads, and access asked for and granted

Revision ID: 20261207_0024
Revises: 20261207_0023
Create Date: 2026-12-07 16:30:00

A site lead stewards one site: they read its aggregate reports and the network's, never a
patient's data, tied to their site by users.site_id as a site admin is. Access requests and
their grants let anyone else read one site's report or one value framework once an admin or a
programme lead approves.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261207_0024"
down_revision = "20261207_0023"
branch_labels = None
depends_on = None

OLD_ROLES = "role IN ('clinician','programme_lead','admin','site_admin')"
NEW_ROLES = "role IN ('clinician','programme_lead','admin','site_admin','site_lead')"
OLD_SITE = "(role = 'site_admin') = (site_id IS NOT NULL)"
NEW_SITE = "(role IN ('site_admin','site_lead')) = (site_id IS NOT NULL)"
KINDS = "kind IN ('site_report','value_framework')"


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_site_admin_site"), type_="check")
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_users_role"), NEW_ROLES)
        batch_op.create_check_constraint(op.f("ck_users_site_admin_site"), NEW_SITE)
    op.create_table(
        "access_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(length=1000), nullable=True),
        sa.CheckConstraint(KINDS, name=op.f("ck_access_requests_kind")),
        sa.CheckConstraint(
            "status IN ('pending','approved','refused')", name=op.f("ck_access_requests_status")
        ),
        sa.CheckConstraint(
            "(status = 'pending') = (decided_at IS NULL)",
            name=op.f("ck_access_requests_decided_when_not_pending"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_access_requests_decided_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_access_requests_requested_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_requests")),
    )
    op.create_index(
        op.f("ix_access_requests_requested_by"), "access_requests", ["requested_by"], unique=False
    )
    op.create_table(
        "access_grants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("granted_by", sa.Uuid(), nullable=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(KINDS, name=op.f("ck_access_grants_kind")),
        sa.ForeignKeyConstraint(
            ["granted_by"], ["users.id"], name=op.f("fk_access_grants_granted_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["access_requests.id"],
            name=op.f("fk_access_grants_request_id_access_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_access_grants_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_grants")),
        sa.UniqueConstraint("request_id", name=op.f("uq_access_grants_request_id")),
    )
    op.create_index(
        "ix_access_grants_user_id_kind_target_id",
        "access_grants",
        ["user_id", "kind", "target_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_access_grants_user_id_kind_target_id", table_name="access_grants")
    op.drop_table("access_grants")
    op.drop_index(op.f("ix_access_requests_requested_by"), table_name="access_requests")
    op.drop_table("access_requests")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_site_admin_site"), type_="check")
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
    # A site lead has no place in the old roles: as 0015 does for site admins, they become
    # inactive clinicians of no site, with no access at all, until someone decides.
    users = sa.table(
        "users",
        sa.column("role", sa.String),
        sa.column("is_active", sa.Boolean),
        sa.column("site_id", sa.Uuid),
    )
    op.execute(
        users.update()
        .where(users.c.role == "site_lead")
        .values(role="clinician", is_active=sa.false(), site_id=None)
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_check_constraint(op.f("ck_users_role"), OLD_ROLES)
        batch_op.create_check_constraint(op.f("ck_users_site_admin_site"), OLD_SITE)
