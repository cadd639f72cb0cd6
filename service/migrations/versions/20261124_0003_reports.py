"""reports: patient events, medicines, KCCQ-12 scores, month snapshots, weight-reading index

Revision ID: 20261124_0003
Revises: 20261124_0002
Create Date: 2026-11-24 01:49:35.866099
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '20261124_0003'
down_revision = '20261124_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_snapshots',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('scope', sa.String(length=8), nullable=False),
    sa.Column('scope_id', sa.Uuid(), nullable=True),
    sa.Column('scope_key', sa.String(length=36), nullable=False),
    sa.Column('metric_id', sa.String(length=64), nullable=False),
    sa.Column('numerator', sa.Float(), nullable=True),
    sa.Column('denominator', sa.Float(), nullable=True),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("scope IN ('network','site','team')", name=op.f('ck_report_snapshots_scope')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_snapshots')),
    sa.UniqueConstraint('month', 'scope_key', 'metric_id', name=op.f('uq_report_snapshots_month_scope_key_metric_id'))
    )
    with op.batch_alter_table('report_snapshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_snapshots_month'), ['month'], unique=False)

    op.create_table('kccq_scores',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('timepoint', sa.String(length=16), nullable=False),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.Uuid(), nullable=True),
    sa.CheckConstraint("timepoint IN ('start','discharge','other')", name=op.f('ck_kccq_scores_timepoint')),
    sa.CheckConstraint('score >= 0 AND score <= 100', name=op.f('ck_kccq_scores_score')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_kccq_scores_patient_id_patients')),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_kccq_scores_recorded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kccq_scores'))
    )
    with op.batch_alter_table('kccq_scores', schema=None) as batch_op:
        batch_op.create_index('ix_kccq_scores_patient_id_assessed_on', ['patient_id', 'assessed_on'], unique=False)

    op.create_table('medication_changes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('pillar', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('at_target_or_max_tolerated', sa.Boolean(), nullable=False),
    sa.Column('drug', sa.String(length=100), nullable=True),
    sa.Column('changed_on', sa.Date(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.Uuid(), nullable=True),
    sa.CheckConstraint("at_target_or_max_tolerated = false OR status = 'started'", name=op.f('ck_medication_changes_target_needs_started')),
    sa.CheckConstraint("pillar IN ('acei_arb_arni','beta_blocker','mra','sglt2i')", name=op.f('ck_medication_changes_pillar')),
    sa.CheckConstraint("status IN ('started','stopped','not_tolerated','contraindicated')", name=op.f('ck_medication_changes_status')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_medication_changes_patient_id_patients')),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_medication_changes_recorded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_medication_changes'))
    )
    with op.batch_alter_table('medication_changes', schema=None) as batch_op:
        batch_op.create_index('ix_medication_changes_patient_id_pillar_changed_on', ['patient_id', 'pillar', 'changed_on'], unique=False)

    op.create_table('patient_events',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('discharged_on', sa.Date(), nullable=True),
    sa.Column('hf_related', sa.Boolean(), nullable=True),
    sa.Column('emergency', sa.Boolean(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.Uuid(), nullable=True),
    sa.CheckConstraint("(kind = 'admission' AND hf_related IS NOT NULL) OR (kind <> 'admission' AND hf_related IS NULL AND discharged_on IS NULL)", name=op.f('ck_patient_events_admission_fields')),
    sa.CheckConstraint("kind IN ('admission','ae_attendance','death')", name=op.f('ck_patient_events_kind')),
    sa.CheckConstraint('discharged_on IS NULL OR discharged_on >= occurred_on', name=op.f('ck_patient_events_stay')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_patient_events_patient_id_patients')),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_patient_events_recorded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patient_events'))
    )
    with op.batch_alter_table('patient_events', schema=None) as batch_op:
        batch_op.create_index('ix_patient_events_occurred_on', ['occurred_on'], unique=False)
        batch_op.create_index('ix_patient_events_patient_id_occurred_on', ['patient_id', 'occurred_on'], unique=False)

    with op.batch_alter_table('readings', schema=None) as batch_op:
        batch_op.create_index('ix_readings_weight_taken_at', ['taken_at', 'patient_id'], unique=False, sqlite_where=sa.text("type = 'weight'"), postgresql_where=sa.text("type = 'weight'"))



def downgrade() -> None:
    with op.batch_alter_table('readings', schema=None) as batch_op:
        batch_op.drop_index('ix_readings_weight_taken_at', sqlite_where=sa.text("type = 'weight'"), postgresql_where=sa.text("type = 'weight'"))

    with op.batch_alter_table('patient_events', schema=None) as batch_op:
        batch_op.drop_index('ix_patient_events_patient_id_occurred_on')
        batch_op.drop_index('ix_patient_events_occurred_on')

    op.drop_table('patient_events')
    with op.batch_alter_table('medication_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_medication_changes_patient_id_pillar_changed_on')

    op.drop_table('medication_changes')
    with op.batch_alter_table('kccq_scores', schema=None) as batch_op:
        batch_op.drop_index('ix_kccq_scores_patient_id_assessed_on')

    op.drop_table('kccq_scores')
    with op.batch_alter_table('report_snapshots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_snapshots_month'))

    op.drop_table('report_snapshots')
