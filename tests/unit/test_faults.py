"""Which errors are storage faults (503/507) and which stay programming errors (500)."""

from __future__ import annotations

import errno
import sqlite3

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from workflow.faults import FULL, UNAVAILABLE, classify


def sqlalchemy_error(statement: str, setup=()) -> OperationalError:
    """The error SQLAlchemy raises for `statement` on an in-memory SQLite database."""
    engine = create_engine("sqlite://")
    try:
        with engine.connect() as conn:
            for line in setup:
                conn.exec_driver_sql(line)
            with pytest.raises(OperationalError) as failure:
                conn.execute(text(statement))
        return failure.value
    finally:
        engine.dispose()


def test_a_full_sqlite_database_is_storage_full():
    error = sqlalchemy_error("INSERT INTO t VALUES (randomblob(100000))", [
        "CREATE TABLE t (b BLOB)", "PRAGMA max_page_count = 2"])
    fault = classify(error)
    assert (fault.kind, fault.status) == (FULL, 507) and fault.retry_after > 0


def test_a_missing_table_stays_a_programming_error():
    assert classify(sqlalchemy_error("SELECT * FROM no_such_table")) is None


def test_no_space_left_on_the_temp_disk_is_storage_full():
    assert classify(OSError(errno.ENOSPC, "No space left on device")).kind == FULL


def test_an_exhausted_pool_is_unavailable():
    fault = classify(PoolTimeout("QueuePool limit reached"))
    assert (fault.kind, fault.status) == (UNAVAILABLE, 503)


def test_a_cause_further_down_the_chain_is_found():
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as exc:
            raise RuntimeError("while spooling an upload") from exc
    except RuntimeError as wrapped:
        assert classify(wrapped).kind == FULL


@pytest.mark.parametrize("error", [ValueError("bad"), sqlite3.ProgrammingError("closed"),
                                   OSError(errno.EACCES, "Permission denied")])
def test_other_errors_are_not_storage_faults(error):
    assert classify(error) is None
