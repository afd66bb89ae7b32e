"""Fault injection at the storage layer: the real database refuses to grow.

SQLite: `PRAGMA max_page_count` at the current (vacuumed) size makes any write that needs a
new page fail with SQLITE_FULL, "database or disk is full". PostgreSQL: a trigger on
document_blobs raises SQLSTATE 53100 (disk_full), what the server reports when it cannot
extend a file.
"""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, text
from sqlalchemy.engine import Engine

_PG_FUNCTION = """
CREATE FUNCTION cp_test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full';
END $$"""
_PG_TRIGGER = ("CREATE TRIGGER cp_test_disk_full BEFORE INSERT ON document_blobs "
               "FOR EACH ROW EXECUTE FUNCTION cp_test_disk_full()")


@contextmanager
def disk_full(engine: Engine):
    """While active, storing a document through `engine` fails as on a full disk."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text(_PG_FUNCTION))
            conn.execute(text(_PG_TRIGGER))
        try:
            yield
        finally:
            with engine.begin() as conn:
                conn.execute(text("DROP TRIGGER cp_test_disk_full ON document_blobs"))
                conn.execute(text("DROP FUNCTION cp_test_disk_full()"))
        return
    raw = engine.raw_connection()
    try:
        raw.driver_connection.execute("VACUUM")  # no free pages left to reuse
        pages = raw.driver_connection.execute("PRAGMA page_count").fetchone()[0]
    finally:
        raw.close()

    def limit(dbapi_connection, _record):
        dbapi_connection.execute(f"PRAGMA max_page_count={int(pages)}")

    event.listen(engine, "connect", limit)
    engine.dispose()  # every connection from now on has the limit
    try:
        yield
    finally:
        event.remove(engine, "connect", limit)
        engine.dispose()
