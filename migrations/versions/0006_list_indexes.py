"""Indexes for keyset pages and dashboards on large partnership tables

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_partnerships_updated_at_id": ["updated_at", "id"],
    "ix_partnerships_created_at_id": ["created_at", "id"],
    "ix_partnerships_stage_entered_at_id": ["stage_entered_at", "id"],
    "ix_partnerships_owner_id_stage_entered_at": ["owner_id", "stage_entered_at"],
}


def upgrade() -> None:
    with op.batch_alter_table("partnerships", schema=None) as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("partnerships", schema=None) as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
