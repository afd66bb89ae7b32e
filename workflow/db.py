"""Database plumbing: declarative base with named constraints, engines and sessions."""

from __future__ import annotations

from sqlalchemy import MetaData, create_engine, event, text
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
# A dead PostgreSQL fails a request fast (503, see workflow.faults) instead of hanging it:
# seconds to open a connection, and to wait for a free one from the pool.
CONNECT_TIMEOUT_S = 3
POOL_TIMEOUT_S = 3
WRITE_OPTION = "clusterpact_write"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """Turn on WAL, foreign keys and a busy timeout; begin writes as BEGIN IMMEDIATE."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not pysqlite, emit BEGIN (see the SQLite dialect docs).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Write transactions take the write lock up front (BEGIN IMMEDIATE), so a
        # read-then-write transaction never fails half-way with "database is locked";
        # read-only transactions stay deferred and never block each other.
        if conn.get_execution_options().get(WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


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
                                           "timeout": busy_timeout_ms / 1000})
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


def begin_write(session: Session) -> None:
    """Start the write transaction of a service.

    A read transaction already open in this session (e.g. from the login user loader)
    does not carry into the write as it is: whatever it loaded is expired, so the service's
    checks see the rows as they are inside its own transaction.

    SQLite: the read transaction is ended first. A deferred read transaction cannot safely
    be upgraded to a writer, so every write starts as a fresh BEGIN IMMEDIATE.

    PostgreSQL: a read transaction with nothing pending goes on as the write transaction.
    Under READ COMMITTED each statement sees the rows committed before it, so ending the
    read would only add three round trips (ROLLBACK, the pool's ping, BEGIN).
    """
    if session.in_transaction():
        connection = session.connection()
        if connection.get_execution_options().get(WRITE_OPTION):
            return
        if connection.dialect.name == "postgresql" and not (
                session.new or session.dirty or session.deleted):
            session.expire_all()
            connection.execution_options(**{WRITE_OPTION: True})  # in place, this transaction
            return
        session.rollback()  # ends the read; nothing unflushed outside a service is written
    session.connection(execution_options={WRITE_OPTION: True})
