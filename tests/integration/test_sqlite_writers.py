"""SQLite writers take turns through a file lock beside the database (workflow.db.WriterQueue):
a writer waits for the one ahead and starts once it commits, its turn ends with its
transaction however that ends, and a wait beyond the busy timeout is a storage fault (503)."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import subprocess
import sys
import threading

import pytest
from sqlalchemy import text

from workflow.db import WRITE_OPTION, make_engine, writer_lock_path
from workflow.faults import classify

WAIT_S = 10  # generous bound for "eventually"; nothing here waits for it unless broken


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "writers.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE log (n INTEGER NOT NULL)"))
    engine.dispose()
    return str(path)


def _writer(engine):
    """A connection whose next transaction is a write (BEGIN IMMEDIATE, in turn)."""
    return engine.connect().execution_options(**{WRITE_OPTION: True})


def _lock_is_free(path: str) -> bool:
    fd = os.open(writer_lock_path(path), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def _logged(path: str) -> list[int]:
    with sqlite3.connect(path) as conn:
        return [n for (n,) in conn.execute("SELECT n FROM log ORDER BY rowid")]


def test_a_writer_waits_for_the_one_ahead_and_goes_when_it_commits(db_path):
    first_engine, second_engine = make_engine(f"sqlite:///{db_path}"), \
        make_engine(f"sqlite:///{db_path}")
    first = _writer(first_engine)
    first.begin()
    first.execute(text("INSERT INTO log VALUES (1)"))
    assert not _lock_is_free(db_path)
    started, failed = threading.Event(), []

    def second():
        try:
            with _writer(second_engine) as conn, conn.begin():
                started.set()
                conn.execute(text("INSERT INTO log VALUES (2)"))
        except Exception as error:  # noqa: BLE001 - reported below
            failed.append(error)
            started.set()

    thread = threading.Thread(target=second)
    thread.start()
    assert not started.wait(0.3), failed  # still queued behind the first writer
    first.commit()
    thread.join(WAIT_S)
    assert not thread.is_alive() and not failed
    assert _logged(db_path) == [1, 2]
    assert _lock_is_free(db_path)  # the second writer's commit ended its turn
    first.close()
    first_engine.dispose()
    second_engine.dispose()


def test_writers_queue_on_the_lock_file_even_when_sqlite_itself_is_free(db_path):
    """Another process holding only the file lock holds writers back: the queue, not
    SQLite's sleep-and-retry, decides who writes next."""
    holder = subprocess.Popen(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR)\n"
         "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.read()",
         writer_lock_path(db_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    engine = make_engine(f"sqlite:///{db_path}")
    try:
        assert holder.stdout.readline().strip() == "held"
        done = threading.Event()

        def write():
            with _writer(engine) as conn, conn.begin():
                conn.execute(text("INSERT INTO log VALUES (7)"))
            done.set()

        thread = threading.Thread(target=write)
        thread.start()
        assert not done.wait(0.3)
        holder.stdin.close()  # the holding process ends: the kernel frees its lock
        holder.wait(WAIT_S)
        thread.join(WAIT_S)
        assert done.is_set() and _logged(db_path) == [7]
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(WAIT_S)
        holder.stdout.close()
        engine.dispose()


def test_a_wait_beyond_the_busy_timeout_is_a_storage_fault_and_gives_up_the_place(db_path):
    engine = make_engine(f"sqlite:///{db_path}")
    patient = make_engine(f"sqlite:///{db_path}", busy_timeout_ms=200)
    ahead = _writer(engine)
    ahead.begin()
    try:
        with pytest.raises(Exception) as caught, _writer(patient) as conn, conn.begin():
            conn.execute(text("INSERT INTO log VALUES (1)"))
        fault = classify(caught.value)
        assert fault is not None and fault.status == 503
        assert "busy" in fault.detail
    finally:
        ahead.rollback()
        ahead.close()
    assert _lock_is_free(db_path)
    with _writer(patient) as conn, conn.begin():  # the same pooled connection writes again
        conn.execute(text("INSERT INTO log VALUES (2)"))
    assert _logged(db_path) == [2]
    engine.dispose()
    patient.dispose()


def test_a_rolled_back_or_failed_write_ends_its_turn(db_path):
    engine = make_engine(f"sqlite:///{db_path}")
    with pytest.raises(ZeroDivisionError), _writer(engine) as conn, conn.begin():
        conn.execute(text("INSERT INTO log VALUES (1)"))
        assert not _lock_is_free(db_path)
        1 / 0  # noqa: B018 - the transaction fails half-way
    assert _lock_is_free(db_path) and _logged(db_path) == []

    # SQLite refuses BEGIN IMMEDIATE (a writer outside the queue holds its lock): the
    # refused writer does not keep the queue's lock either.
    outsider = sqlite3.connect(db_path, isolation_level=None)
    outsider.execute("BEGIN IMMEDIATE")
    impatient = make_engine(f"sqlite:///{db_path}", busy_timeout_ms=100)
    try:
        with pytest.raises(Exception) as caught, _writer(impatient) as conn, conn.begin():
            pass
        assert classify(caught.value).status == 503
        assert _lock_is_free(db_path)
    finally:
        outsider.rollback()
        outsider.close()
        impatient.dispose()
        engine.dispose()


def test_reads_never_queue(db_path):
    engine = make_engine(f"sqlite:///{db_path}")
    ahead = _writer(engine)
    ahead.begin()
    ahead.execute(text("INSERT INTO log VALUES (1)"))
    try:
        reader = make_engine(f"sqlite:///{db_path}", busy_timeout_ms=100)
        with reader.connect() as conn:  # WAL: a reader sees the last commit, at once
            assert conn.execute(text("SELECT count(*) FROM log")).scalar() == 0
        reader.dispose()
    finally:
        ahead.commit()
        ahead.close()
        engine.dispose()
