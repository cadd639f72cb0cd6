"""audit_append_patients: the audit record of a list read, appended by the read's own statement

Revision ID: 20261201_0007
Revises: 20261201_0006
Create Date: 2026-12-01 21:30:00

On PostgreSQL a page of the alert queue selects its rows and appends its audit record in one
statement (one round trip fewer per page): the statement passes the patients it shows to this
function, which writes the same record ``service.audit.record`` would (one naming them all, or
the single patient's form if there is one; none if there are none) through ``audit_append``.
Nothing to do on SQLite, where the service appends the record itself.
"""

from __future__ import annotations

from alembic import op

revision = "20261201_0007"
down_revision = "20261201_0006"
branch_labels = None
depends_on = None

# The record's body digest is service.audit._body's: sha256 of compact JSON
# [recorded_at, actor, role, patient, action, route, outcome, detail, sorted patients], of which
# the caller sends the text around the patient fields (``head``, ``middle``: service.audit._frame)
# and this fills in the patients, sorted as Python sorts their text (uuid order is byte order,
# which is the order of the fixed-format lowercase hex text).
APPEND_PATIENTS = """
CREATE FUNCTION audit_append_patients(
    lock_key bigint, at timestamptz, actor uuid, role text, act text, route_ text,
    outcome_ text, detail_ text, head text, middle text, patients uuid[]
) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    ids uuid[];
BEGIN
    SELECT array_agg(DISTINCT p ORDER BY p) INTO ids FROM unnest(patients) AS p;
    IF ids IS NULL THEN
        RETURN NULL;
    END IF;
    IF cardinality(ids) = 1 THEN
        RETURN audit_append(
            lock_key, at, actor, role, ids[1], act, route_, outcome_, detail_,
            encode(sha256(convert_to(head || '"' || ids[1] || '",' || middle || ',[]]', 'UTF8')),
                   'hex'),
            '{}');
    END IF;
    RETURN audit_append(
        lock_key, at, actor, role, NULL, act, route_, outcome_, detail_,
        encode(sha256(convert_to(
            head || 'null,' || middle || ',["' || array_to_string(ids, '","') || '"]]', 'UTF8')),
               'hex'),
        ids);
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_PATIENTS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION audit_append_patients(bigint, timestamptz, uuid, text, text, text, "
            "text, text, text, text, uuid[])"
        )
