"""Stewardship: site unit costs, value frameworks and their versions, interventions, scenarios

Revision ID: 20261207_0020
Revises: 20261207_0019
Create Date: 2026-12-07 15:30:00

New tables only (issue 20). A framework's versions keep each agreed spec as JSON; the sites of
its current version are mirrored in value_framework_sites for scoping by SQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261207_0020"
down_revision = "20261207_0019"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql")
COST_KEYS = (
    "bed_day_gbp",
    "admission_gbp",
    "ae_attendance_gbp",
    "nurse_hour_gbp",
    "kit_patient_month_gbp",
)


def _by(table: str, column: str = "created_by") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ["users.id"], name=op.f(f"fk_{table}_{column}_users"))


def _framework_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["framework_id"],
        ["value_frameworks.id"],
        name=op.f(f"fk_{table}_framework_id_value_frameworks"),
    )


def upgrade() -> None:
    keys = ",".join(f"'{k}'" for k in COST_KEYS)
    op.create_table(
        "site_unit_costs",
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("gbp", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint(f"key IN ({keys})", name=op.f("ck_site_unit_costs_key")),
        sa.CheckConstraint("gbp >= 0", name=op.f("ck_site_unit_costs_gbp_not_negative")),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_site_unit_costs_site_id_sites")
        ),
        _by("site_unit_costs", "updated_by"),
        sa.PrimaryKeyConstraint("site_id", "key", name=op.f("pk_site_unit_costs")),
    )
    op.create_table(
        "value_frameworks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        _by("value_frameworks"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_value_frameworks")),
    )
    op.create_table(
        "value_framework_versions",
        sa.Column("framework_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("spec", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        _framework_fk("value_framework_versions"),
        _by("value_framework_versions"),
        sa.PrimaryKeyConstraint(
            "framework_id", "version", name=op.f("pk_value_framework_versions")
        ),
    )
    op.create_table(
        "value_framework_sites",
        sa.Column("framework_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        _framework_fk("value_framework_sites"),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_value_framework_sites_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("framework_id", "site_id", name=op.f("pk_value_framework_sites")),
    )
    op.create_index(
        "ix_value_framework_sites_site_id", "value_framework_sites", ["site_id"], unique=False
    )
    op.create_table(
        "interventions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("framework_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("yearly_activity", sa.Float(), nullable=True),
        sa.Column("activity_unit", sa.String(length=32), nullable=False),
        sa.Column("unit_cost_gbp", sa.Float(), nullable=False),
        sa.Column("people_per_year", sa.Float(), nullable=True),
        sa.Column("qaly_per_person", sa.Float(), nullable=True),
        sa.Column("qaly_source", sa.String(length=500), nullable=True),
        sa.Column("sourcing", sa.String(length=8), nullable=False),
        sa.Column("measured_metric", sa.String(length=64), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "sourcing IN ('measured','entered')", name=op.f("ck_interventions_sourcing")
        ),
        sa.CheckConstraint(
            "yearly_activity IS NULL OR yearly_activity >= 0",
            name=op.f("ck_interventions_activity_not_negative"),
        ),
        sa.CheckConstraint(
            "sourcing = 'measured' OR yearly_activity IS NOT NULL",
            name=op.f("ck_interventions_activity"),
        ),
        sa.CheckConstraint(
            "sourcing <> 'measured' OR measured_metric IS NOT NULL",
            name=op.f("ck_interventions_measured"),
        ),
        sa.CheckConstraint(
            "unit_cost_gbp >= 0", name=op.f("ck_interventions_unit_cost_not_negative")
        ),
        sa.CheckConstraint(
            "people_per_year IS NULL OR people_per_year >= 0",
            name=op.f("ck_interventions_people_not_negative"),
        ),
        sa.CheckConstraint(
            "qaly_per_person IS NULL OR qaly_source IS NOT NULL",
            name=op.f("ck_interventions_qaly_source"),
        ),
        _framework_fk("interventions"),
        _by("interventions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interventions")),
    )
    op.create_index("ix_interventions_framework_id", "interventions", ["framework_id"])
    op.create_table(
        "star_scenarios",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("framework_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("framework_version", sa.Integer(), nullable=False),
        sa.Column("changes", JSON, nullable=False),
        sa.Column("result", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        _framework_fk("star_scenarios"),
        _by("star_scenarios"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_star_scenarios")),
    )
    op.create_index("ix_star_scenarios_framework_id", "star_scenarios", ["framework_id"])


def downgrade() -> None:
    op.drop_index("ix_star_scenarios_framework_id", table_name="star_scenarios")
    op.drop_table("star_scenarios")
    op.drop_index("ix_interventions_framework_id", table_name="interventions")
    op.drop_table("interventions")
    op.drop_index("ix_value_framework_sites_site_id", table_name="value_framework_sites")
    op.drop_table("value_framework_sites")
    op.drop_table("value_framework_versions")
    op.drop_table("value_frameworks")
    op.drop_table("site_unit_costs")
