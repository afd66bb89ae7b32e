"""Substring search on partnership reference and title through an index

SQLite: a contentless FTS5 table with the trigram tokenizer, kept in step by triggers.
PostgreSQL: a pg_trgm GIN index on lower(reference || ' ' || title).
Both answer `q` in the partnerships list without scanning every row; neither is described by
the models (they are dialect-specific), so workflow/db.py lists them in SEARCH_OBJECTS for
the schema comparison to skip.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# One indexed text per partnership, reference || ' ' || title, as on PostgreSQL, so both
# databases answer the same query the same way. Contentless: the text lives in partnerships.
_TEXT = "{row}.reference || ' ' || {row}.title"
SQLITE_UP = [
    "CREATE VIRTUAL TABLE partnership_search USING fts5(text, content='', tokenize='trigram')",
    "CREATE TRIGGER partnership_search_ai AFTER INSERT ON partnerships BEGIN "
    f"INSERT INTO partnership_search(rowid, text) VALUES (new.id, {_TEXT.format(row='new')}); "
    "END",
    "CREATE TRIGGER partnership_search_ad AFTER DELETE ON partnerships BEGIN "
    "INSERT INTO partnership_search(partnership_search, rowid, text) "
    f"VALUES ('delete', old.id, {_TEXT.format(row='old')}); END",
    "CREATE TRIGGER partnership_search_au AFTER UPDATE OF reference, title ON partnerships "
    "BEGIN "
    "INSERT INTO partnership_search(partnership_search, rowid, text) "
    f"VALUES ('delete', old.id, {_TEXT.format(row='old')}); "
    f"INSERT INTO partnership_search(rowid, text) VALUES (new.id, {_TEXT.format(row='new')}); "
    "END",
    "INSERT INTO partnership_search(rowid, text) "
    f"SELECT id, {_TEXT.format(row='partnerships')} FROM partnerships",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS partnership_search_au",
    "DROP TRIGGER IF EXISTS partnership_search_ad",
    "DROP TRIGGER IF EXISTS partnership_search_ai",
    "DROP TABLE IF EXISTS partnership_search",
]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema = bind.execute(text(
            "SELECT extnamespace::regnamespace::text FROM pg_extension "
            "WHERE extname = 'pg_trgm'")).scalar_one()
        op.execute(
            "CREATE INDEX ix_partnerships_search_trgm ON partnerships USING gin "
            f"((lower(reference || ' ' || title)) {schema}.gin_trgm_ops)")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_partnerships_search_trgm")
