"""Database plumbing: declarative base with named constraints, engines and sessions."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from functools import cache

from sqlalchemy import MetaData, bindparam, create_engine, event, inspect, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Indico's naming convention: every constraint gets a stable name, so Alembic batch
# migrations on SQLite keep CHECK constraints and PostgreSQL diffs stay readable.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Search objects built by migration 0011 for one dialect each (an FTS5 table and its shadow
# tables on SQLite, a trigram index on PostgreSQL); the models do not describe them.
SEARCH_PREFIXES = ("partnership_search", "ix_partnerships_search_")


def described_by_models(name: str | None, _type=None, _parents=None) -> bool:
    """Alembic `include_name` hook: False for the dialect-specific search objects."""
    return not (name and name.startswith(SEARCH_PREFIXES))


PG_EXTENSIONS = ("pg_trgm",)


def ensure_pg_extensions(connection, schema: str = "public") -> None:
    """Install the PostgreSQL extensions the migrations use into `schema`, once per database.

    Migrations create them too; this is for setups that give each run its own schema in a
    shared database (tests, benchmarks), so no run's schema owns, and drops, an extension."""
    connection.execute(text("SELECT pg_advisory_xact_lock(7206151)"))  # concurrent runs
    for name in PG_EXTENSIONS:
        connection.execute(text(f'CREATE EXTENSION IF NOT EXISTS {name} SCHEMA "{schema}"'))


SQLITE_BUSY_TIMEOUT_MS = 15_000
# Ids and versions are INTEGER columns: 32 bits on PostgreSQL. A larger number names nothing
# (and one past 2**63 cannot even be bound as an SQLite parameter), so inputs are bounded here.
INT32_MAX = 2_147_483_647
# A dead PostgreSQL fails a request fast (503, see workflow.faults) instead of hanging it:
# seconds to open a connection, and to wait for a free one from the pool.
CONNECT_TIMEOUT_S = 3
POOL_TIMEOUT_S = 3
WRITE_OPTION = "clusterpact_write"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class WriterQueue:
    """The turn of one SQLite connection to write, kept in an advisory file lock.

    SQLite admits one writer at a time. Left to itself, a connection that finds the write
    lock taken sleeps and retries, and its sleeps grow (1, 2, 5, 10 ... 100 ms), so under
    steady concurrent writes from several processes a waiter can miss several turns and
    wait far longer than the writes ahead of it took. Writers therefore first take an
    exclusive lock on a file beside the database (every process that writes to a SQLite
    database runs on the machine that holds its file) and then BEGIN IMMEDIATE. The lock
    is given up as soon as the transaction commits or rolls back, so the next writer
    starts within about a millisecond; SQLite's own lock still guards the data.

    Waiting is bounded by the busy timeout; when it runs out the caller gets SQLite's own
    "database is locked" error, which the web layer answers with 503.
    """

    FIRST_WAIT_S = 0.0002
    LONGEST_WAIT_S = 0.001  # between attempts: the hand-over latency under contention

    def __init__(self, path: str, timeout_s: float) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._timeout_s = timeout_s
        self.held = False

    def acquire(self) -> None:
        deadline, wait = None, self.FIRST_WAIT_S
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.held = True
                return
            except BlockingIOError:
                now = time.monotonic()
                deadline = deadline or now + self._timeout_s
                if now >= deadline:
                    raise _locked() from None
                time.sleep(min(wait, deadline - now))
                wait = min(wait * 2, self.LONGEST_WAIT_S)

    def release(self) -> None:
        if self.held:
            self.held = False
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self.release()
        os.close(self._fd)


def _locked() -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("database is locked")
    error.sqlite_errorcode = 5  # SQLITE_BUSY, as SQLite reports a busy timeout
    error.sqlite_errorname = "SQLITE_BUSY"
    return error


class _SQLiteConnection(sqlite3.Connection):
    """A pysqlite connection that gives up its writer turn when its transaction ends."""

    writer_queue: WriterQueue | None = None

    def commit(self) -> None:
        self._ending(super().commit)

    def rollback(self) -> None:
        self._ending(super().rollback)

    def _ending(self, end) -> None:
        try:
            end()
        finally:
            if self.writer_queue is not None:
                self.writer_queue.release()

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.writer_queue is not None:
                self.writer_queue.close()
                self.writer_queue = None


def writer_lock_path(database: str) -> str:
    return f"{database}.writer-lock"


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """Turn on WAL, foreign keys and a busy timeout; begin writes as BEGIN IMMEDIATE, in
    turn (see WriterQueue)."""
    on_disk = engine.url.database not in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not pysqlite, emit BEGIN (see the SQLite dialect docs).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if on_disk:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            dbapi_connection.writer_queue = WriterQueue(
                writer_lock_path(engine.url.database), busy_timeout_ms / 1000)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Write transactions take the write lock up front (BEGIN IMMEDIATE), so a
        # read-then-write transaction never fails half-way with "database is locked";
        # read-only transactions stay deferred and never block each other.
        if not conn.get_execution_options().get(WRITE_OPTION):
            conn.exec_driver_sql("BEGIN")
            return
        queue = getattr(conn.connection.dbapi_connection, "writer_queue", None)
        if queue is not None:
            try:
                queue.acquire()
            except sqlite3.OperationalError as error:  # as if BEGIN IMMEDIATE had timed out
                raise sa_exc.OperationalError("BEGIN IMMEDIATE", None, error) from None
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if queue is not None:
                queue.release()
            raise


def make_engine(url: str, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
                connect_timeout: float = CONNECT_TIMEOUT_S, **kwargs) -> Engine:
    """Create an engine with the per-dialect settings this application relies on."""
    # Statement parameters (password hashes, session tokens) never reach logs or error text.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:"):
            from sqlalchemy.pool import StaticPool

            kwargs.setdefault("poolclass", StaticPool)
        kwargs.setdefault("connect_args", {"check_same_thread": False,
                                           "timeout": busy_timeout_ms / 1000,
                                           "factory": _SQLiteConnection})
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    kwargs.setdefault("pool_pre_ping", True)  # a connection the server dropped is replaced
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_timeout", POOL_TIMEOUT_S)
    # libpq rounds connect_timeout to whole seconds (at least 2); keepalives and
    # tcp_user_timeout end a pooled connection whose peer vanished without closing it.
    seconds = max(2, round(connect_timeout))
    kwargs.setdefault("connect_args", {
        "connect_timeout": seconds, "keepalives": 1, "keepalives_idle": 30,
        "keepalives_interval": 5, "keepalives_count": 3, "tcp_user_timeout": seconds * 1000})
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory; objects stay readable after commit (expire_on_commit off)."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


def begin_write(session: Session, *, keep=None, expire: bool = True) -> bool:
    """Start the write transaction of a service; True if `keep` had to be expired.

    A read transaction already open in this session (e.g. from the login user loader)
    does not carry into the write as it is: whatever it loaded is expired, so the service's
    checks see the rows as they are inside its own transaction.

    SQLite: the read transaction is ended first. A deferred read transaction cannot safely
    be upgraded to a writer, so every write starts as a fresh BEGIN IMMEDIATE.

    PostgreSQL: a read transaction with nothing pending goes on as the write transaction.
    Under READ COMMITTED each statement sees the rows committed before it, so ending the
    read would only add three round trips (ROLLBACK, the pool's ping, BEGIN).

    `keep`: an object loaded before the write (the request's user) that is checked rather
    than reloaded: its row is read again inside the write transaction, as one plain row,
    and the object is expired (and so reloaded on use) only if any column differs. The
    service sees the same values either way; this saves building the object again. The
    answer tells the caller whether it changed, so checks made with it can be made again.

    `expire=False`: nothing loaded before is expired, for a caller that loaded and checked
    its rows in the read and verifies in the write that they are unchanged (advance() does
    it with the partnership's version, which every change to a partnership moves).
    """
    if not session.in_transaction():
        session.connection(execution_options={WRITE_OPTION: True})
    else:
        connection = session.connection()
        if connection.get_execution_options().get(WRITE_OPTION):
            return False
        pending = bool(session.new or session.dirty or session.deleted)
        if connection.dialect.name == "postgresql" and not pending:
            if expire:
                _expire_all_but(session, keep)
            connection.execution_options(**{WRITE_OPTION: True})  # in place, this transaction
        else:
            if pending or (keep is None and expire):
                session.rollback()  # ends the read; nothing unflushed outside a service is written
            else:
                session.commit()  # ends the read (writes nothing): unlike rollback, keeps objects
                if expire:
                    _expire_all_but(session, keep)
            session.connection(execution_options={WRITE_OPTION: True})
    return _check_kept(session, keep)


def _expire_all_but(session: Session, keep) -> None:
    for obj in list(session.identity_map.values()):
        if obj is not keep:
            session.expire(obj)


@cache
def _row_by_key(mapper):
    """A select of the mapped columns of one row by primary key, built once per class."""
    (key,) = mapper.primary_key
    props = list(mapper.column_attrs)
    return (select(*[prop.columns[0] for prop in props]).where(key == bindparam("pk")),
            [prop.key for prop in props])


def _check_kept(session: Session, keep) -> bool:
    """Expire `keep` unless its stored row still holds exactly what it has loaded; True if
    it was expired (or was partly expired already)."""
    if keep is None:
        return False
    state = inspect(keep, raiseerr=False)
    if state is None or not state.persistent:
        return False  # not a stored object (the system actor)
    statement, keys = _row_by_key(state.mapper)
    loaded = state.dict
    if any(key not in loaded for key in keys):
        session.expire(keep)  # partly expired already: reloaded on use, nothing to compare
        return True
    row = session.connection().execute(statement, {"pk": state.identity[0]}).first()
    if row is None or any(loaded[key] != value for key, value in zip(keys, row, strict=True)):
        session.expire(keep)
        return True
    return False
