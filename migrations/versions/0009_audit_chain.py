"""Append-only, hash-chained audit log: who, from where, with what outcome

Adds to every audit event the actor's organisation, the client address and user agent, the
outcome, and the hash chain (sequence, previous hash, row hash); existing rows are chained in
id order. A one-row table holds the chain head. Triggers then refuse UPDATE and DELETE on
audit_events (and TRUNCATE on PostgreSQL). A later batch migration of audit_events on SQLite
rebuilds the table and drops its triggers: such a migration must create them again
(workflow.models.audit_chain.create_triggers).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("client_address", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("user_agent", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("row_hash", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_audit_events_organisation_id_organisations"),
                                    "organisations", ["organisation_id"], ["id"],
                                    ondelete="RESTRICT")

    last_seq, last_hash = _chain_existing_rows()

    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("outcome", existing_type=sa.String(length=20), nullable=False)
        batch_op.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("row_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_audit_events_seq"), ["seq"])
        batch_op.create_check_constraint(
            batch_op.f("ck_audit_events_outcome_valid"),
            "outcome IN ('success', 'failed', 'denied', 'rejected')")

    op.create_table("audit_chain_head",
    sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
    sa.Column("last_seq", sa.BigInteger(), nullable=False),
    sa.Column("last_hash", sa.String(length=64), nullable=False),
    sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_head_single_row")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head"))
    )
    op.get_bind().execute(sa.text(
        "INSERT INTO audit_chain_head (id, last_seq, last_hash) VALUES (1, :seq, :hash)"),
        {"seq": last_seq, "hash": last_hash})

    from workflow.models.audit_chain import create_triggers

    create_triggers(op.get_bind())


def _chain_existing_rows() -> tuple[int, str]:
    """Number and hash the rows written before the chain existed, in id order."""
    from workflow.models.audit_chain import CHAIN_FIELDS, GENESIS, link

    conn = op.get_bind()
    conn.execute(sa.text("UPDATE audit_events SET outcome = CASE WHEN action = 'login_failed' "
                         "THEN 'failed' ELSE 'success' END"))
    types = {"occurred_at": sa.DateTime(), "actor_id": sa.Integer(),
             "organisation_id": sa.Integer(), "partnership_id": sa.Integer()}
    columns = [sa.column(c, types.get(c, sa.Text())) for c in CHAIN_FIELDS
               if c not in ("seq", "prev_hash")]
    events = sa.table("audit_events", sa.column("id", sa.Integer()), *columns)
    rows = conn.execute(sa.select(events).order_by(events.c.id)).mappings().all()
    seq, prev = 0, GENESIS
    updates = []
    for row in rows:
        values = dict(row)
        if values["details"] is not None:
            values["details"] = json.loads(values["details"])
        seq += 1
        digest = link(values, seq, prev)
        updates.append({"id": row["id"], "seq": seq, "prev": prev, "hash": digest})
        prev = digest
    if updates:
        conn.execute(sa.text("UPDATE audit_events SET seq = :seq, prev_hash = :prev, "
                             "row_hash = :hash WHERE id = :id"), updates)
    return seq, prev


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        for trigger, table in (("audit_events_no_change", "audit_events"),
                               ("audit_events_no_truncate", "audit_events"),
                               ("audit_chain_head_forward", "audit_chain_head"),
                               ("audit_chain_head_no_truncate", "audit_chain_head")):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
        op.execute("DROP FUNCTION IF EXISTS audit_chain_head_forward()")
    else:
        for trigger in ("audit_events_no_update", "audit_events_no_delete",
                        "audit_chain_head_forward", "audit_chain_head_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.drop_table("audit_chain_head")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_audit_events_outcome_valid"), type_="check")
        batch_op.drop_constraint(batch_op.f("uq_audit_events_seq"), type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_audit_events_organisation_id_organisations"),
                                 type_="foreignkey")
        batch_op.drop_column("row_hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("seq")
        batch_op.drop_column("user_agent")
        batch_op.drop_column("client_address")
        batch_op.drop_column("organisation_id")
        batch_op.drop_column("outcome")
