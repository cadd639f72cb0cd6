"""foundation: organisation, patients, readings, audit

Revision ID: 20261124_0001
Revises:
Create Date: 2026-11-24 01:31:25.382344

Written for both databases. Indexes go through ``batch_alter_table``, the form Alembic
autogenerates for SQLite (``render_as_batch``), which cannot alter most of a table in place;
on PostgreSQL the same calls are plain statements. Counter keys are BIGINT on PostgreSQL but
INTEGER on SQLite, where only an INTEGER PRIMARY KEY is the rowid and so counts up by itself.
The role check lists the roles of the time; 0015 adds ``site_admin``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '20261124_0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('actor_role', sa.String(length=32), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=True),
    sa.Column('action', sa.String(length=8), nullable=False),
    sa.Column('route', sa.String(length=200), nullable=False),
    sa.Column('outcome', sa.String(length=8), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_actor_id_recorded_at', ['actor_id', 'recorded_at'], unique=False)
        batch_op.create_index('ix_audit_events_patient_id_recorded_at', ['patient_id', 'recorded_at'], unique=False)

    op.create_table('login_attempts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=150), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts'))
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempts_address_attempted_at', ['address', 'attempted_at'], unique=False)
        batch_op.create_index('ix_login_attempts_username_attempted_at', ['username', 'attempted_at'], unique=False)

    op.create_table('sites',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('pathway_overrides', sa.JSON().with_variant(sa.JSON(none_as_null=True), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sites')),
    sa.UniqueConstraint('code', name=op.f('uq_sites_code'))
    )
    op.create_table('users',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('username', sa.String(length=150), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('clinician','programme_lead','admin')", name=op.f('ck_users_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('teams',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('site_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('escalation_contact', sa.String(length=320), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_teams_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teams')),
    sa.UniqueConstraint('site_id', 'name', name=op.f('uq_teams_site_id_name'))
    )
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_teams_site_id'), ['site_id'], unique=False)

    op.create_table('patients',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('nhs_number', sa.String(length=10), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=False),
    sa.Column('sex', sa.String(length=16), nullable=False),
    sa.Column('team_id', sa.Uuid(), nullable=False),
    sa.Column('cohort', sa.String(length=32), nullable=False),
    sa.Column('ethnicity', sa.String(length=2), nullable=True),
    sa.Column('imd_quintile', sa.SmallInteger(), nullable=True),
    sa.Column('hf_type', sa.String(length=16), nullable=True),
    sa.Column('enrolled_on', sa.Date(), nullable=False),
    sa.Column('discharged_on', sa.Date(), nullable=True),
    sa.Column('discharge_reason', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('expects_daily_weight', sa.Boolean(), nullable=False),
    sa.Column('thresholds', sa.JSON().with_variant(sa.JSON(none_as_null=True), 'postgresql'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.CheckConstraint("cohort IN ('new_diagnosis','post_discharge','medication_optimisation','palliative')", name=op.f('ck_patients_cohort')),
    sa.CheckConstraint("sex IN ('female','male','other','unknown')", name=op.f('ck_patients_sex')),
    sa.CheckConstraint("status IN ('active','paused','discharged')", name=op.f('ck_patients_status')),
    sa.CheckConstraint('imd_quintile BETWEEN 1 AND 5', name=op.f('ck_patients_imd_quintile')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_patients_created_by_users')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_patients_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patients'))
    )
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patients_nhs_number'), ['nhs_number'], unique=False)
        batch_op.create_index('ix_patients_team_id_status', ['team_id', 'status'], unique=False)
        batch_op.create_index('uq_patients_active_nhs_number', ['nhs_number'], unique=True, sqlite_where=sa.text("status <> 'discharged'"), postgresql_where=sa.text("status <> 'discharged'"))

    op.create_table('user_teams',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('team_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_user_teams_team_id_teams')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_teams_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'team_id', name=op.f('pk_user_teams'))
    )
    with op.batch_alter_table('user_teams', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_teams_team_id'), ['team_id'], unique=False)

    op.create_table('device_tokens',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_device_tokens_created_by_users')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_device_tokens_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_device_tokens_token_hash'))
    )
    with op.batch_alter_table('device_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_tokens_patient_id'), ['patient_id'], unique=False)

    op.create_table('readings',
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('systolic', sa.SmallInteger(), nullable=True),
    sa.Column('diastolic', sa.SmallInteger(), nullable=True),
    sa.Column('answers', sa.JSON().with_variant(sa.JSON(none_as_null=True), 'postgresql'), nullable=True),
    sa.Column('value_as_sent', sa.Float(), nullable=True),
    sa.Column('unit_as_sent', sa.String(length=16), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('entered_by', sa.Uuid(), nullable=True),
    sa.Column('advice', sa.JSON().with_variant(sa.JSON(none_as_null=True), 'postgresql'), nullable=True),
    sa.CheckConstraint("(type = 'blood_pressure' AND systolic IS NOT NULL AND diastolic IS NOT NULL) OR (type = 'symptoms' AND answers IS NOT NULL) OR (type NOT IN ('blood_pressure','symptoms') AND value IS NOT NULL)", name=op.f('ck_readings_typed_values')),
    sa.CheckConstraint("type IN ('weight','blood_pressure','heart_rate','spo2','symptoms','potassium','creatinine','egfr')", name=op.f('ck_readings_type')),
    sa.ForeignKeyConstraint(['entered_by'], ['users.id'], name=op.f('fk_readings_entered_by_users')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_readings_patient_id_patients')),
    sa.PrimaryKeyConstraint('patient_id', 'id', name=op.f('pk_readings'))
    )
    with op.batch_alter_table('readings', schema=None) as batch_op:
        batch_op.create_index('ix_readings_patient_id_taken_at', ['patient_id', 'taken_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('readings', schema=None) as batch_op:
        batch_op.drop_index('ix_readings_patient_id_taken_at')

    op.drop_table('readings')
    with op.batch_alter_table('device_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_tokens_patient_id'))

    op.drop_table('device_tokens')
    with op.batch_alter_table('user_teams', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_teams_team_id'))

    op.drop_table('user_teams')
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_index('uq_patients_active_nhs_number', sqlite_where=sa.text("status <> 'discharged'"), postgresql_where=sa.text("status <> 'discharged'"))
        batch_op.drop_index('ix_patients_team_id_status')
        batch_op.drop_index(batch_op.f('ix_patients_nhs_number'))

    op.drop_table('patients')
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_teams_site_id'))

    op.drop_table('teams')
    op.drop_table('users')
    op.drop_table('sites')
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempts_username_attempted_at')
        batch_op.drop_index('ix_login_attempts_address_attempted_at')

    op.drop_table('login_attempts')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_patient_id_recorded_at')
        batch_op.drop_index('ix_audit_events_actor_id_recorded_at')

    op.drop_table('audit_events')
