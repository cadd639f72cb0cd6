"""The patients a list read's audit record names, on the record itself (audit_events.patient_ids)

Revision ID: 20261202_0008
Revises: 20261201_0007
Create Date: 2026-12-02 00:00:00

A record about several patients (a page of the alert queue) named them as rows of
``audit_subjects``, one per patient, each with two B-tree entries on random index pages. On
PostgreSQL that was a sixth of a queue page's time and most of its tail; as one ``uuid[]``
value with a GIN index (entries appended to the index's pending list) it is one row. SQLite
keeps the list as JSON text. The record's hash is unchanged: it always covered the sorted list,
wherever the list was kept, so the chain verifies across the move.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "20261202_0008"
down_revision = "20261201_0007"
branch_labels = None
depends_on = None

# audit_append as in 20261201_0006, writing the list to the record instead of audit_subjects.
_APPEND = """
CREATE OR REPLACE FUNCTION audit_append(
    lock_key bigint, at timestamptz, actor uuid, role text, patient uuid, act text,
    route_ text, outcome_ text, detail_ text, body text, patients uuid[]
) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    head text;
    new_seq bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    SELECT hash INTO head FROM audit_events ORDER BY seq DESC LIMIT 1;
    head := coalesce(head, repeat('0', 64));
    INSERT INTO audit_events (recorded_at, actor_id, actor_role, patient_id, patient_ids,
                              action, route, outcome, detail, prev_hash, hash)
    VALUES (at, actor, role, patient, nullif(patients, '{}'), act, route_, outcome_, detail_,
            head, encode(sha256(convert_to(head || body, 'UTF8')), 'hex'))
    RETURNING seq INTO new_seq;
    RETURN new_seq;
END
$$
"""
_APPEND_SUBJECTS = _APPEND.replace(
    "patient_id, patient_ids,\n                              action,",
    "patient_id,\n                              action,",
).replace(
    "VALUES (at, actor, role, patient, nullif(patients, '{}'), act,",
    "VALUES (at, actor, role, patient, act,",
).replace(
    "    RETURNING seq INTO new_seq;\n",
    "    RETURNING seq INTO new_seq;\n"
    "    INSERT INTO audit_subjects (seq, patient_id) SELECT new_seq, p FROM unnest(patients) AS p;\n",
)
assert _APPEND_SUBJECTS.count("audit_subjects") == 1 and "patient_ids" not in _APPEND_SUBJECTS


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    kind = postgresql.ARRAY(sa.Uuid()) if postgres else sa.JSON()
    op.add_column("audit_events", sa.Column("patient_ids", kind, nullable=True))
    if postgres:
        op.execute(
            "UPDATE audit_events e SET patient_ids = s.ids FROM (SELECT seq, "
            "array_agg(patient_id ORDER BY patient_id) AS ids FROM audit_subjects GROUP BY seq) s "
            "WHERE e.seq = s.seq"
        )
        op.create_index(
            "ix_audit_events_patient_ids", "audit_events", ["patient_ids"], postgresql_using="gin"
        )
        op.execute(_APPEND)
    else:
        # As the service writes them: the dashed form (SQLite's uuid columns hold 32 digits).
        dashed = (
            "substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-' || substr(h, 13, 4) || '-' || "
            "substr(h, 17, 4) || '-' || substr(h, 21)"
        )
        op.execute(
            f"UPDATE audit_events SET patient_ids = (SELECT json_group_array({dashed}) FROM "
            "(SELECT lower(patient_id) AS h FROM audit_subjects s WHERE s.seq = audit_events.seq "
            "ORDER BY patient_id)) WHERE seq IN (SELECT seq FROM audit_subjects)"
        )
    with op.batch_alter_table("audit_subjects", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_subjects_patient_id_seq")
    op.drop_table("audit_subjects")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "audit_subjects",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("seq", "patient_id", name=op.f("pk_audit_subjects")),
    )
    with op.batch_alter_table("audit_subjects", schema=None) as batch_op:
        batch_op.create_index("ix_audit_subjects_patient_id_seq", ["patient_id", "seq"])
    if postgres:
        op.execute(
            "INSERT INTO audit_subjects (seq, patient_id) SELECT seq, unnest(patient_ids) "
            "FROM audit_events WHERE patient_ids IS NOT NULL"
        )
        op.execute(_APPEND_SUBJECTS)
        op.drop_index("ix_audit_events_patient_ids", table_name="audit_events")
    else:
        # SQLite's uuid columns hold 32 hex digits; the lists hold the dashed form.
        op.execute(
            "INSERT INTO audit_subjects (seq, patient_id) SELECT e.seq, replace(j.value, '-', '') "
            "FROM audit_events e, json_each(e.patient_ids) j WHERE e.patient_ids IS NOT NULL"
        )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("patient_ids")
