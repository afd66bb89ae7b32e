"""Tampering with the audit log past its triggers, as someone with database access would."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import text

APPEND_ONLY_TABLES = "('audit_events', 'audit_chain_head')"


@contextmanager
def triggers_bypassed(database):
    """A connection on which the append-only triggers do not fire (tests only)."""
    with database.engine.begin() as conn:
        saved = []
        if database.kind == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            saved = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = "
                                      f"'trigger' AND tbl_name IN {APPEND_ONLY_TABLES}")).all()
            for name, _sql in saved:
                conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
        yield conn
        for _name, sql in saved:
            conn.exec_driver_sql(sql)
