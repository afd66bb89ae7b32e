"""The audit log's hash chain: canonical form, chain head, and the append hook.

Every audit row gets a sequence number, the hash of the row before it and its own hash
(sha256 over a canonical serialisation of the fields below). The numbers and hashes are
assigned while the row is inserted (a mapper `before_insert` hook), after the single chain
head row has been locked (an UPDATE of it, or `SELECT ... FOR UPDATE` on PostgreSQL; SQLite
writers are already serialised by `BEGIN IMMEDIATE`). The lock is taken in the flush that
inserts the first audit row of a transaction, which services run at commit, so it is held
only briefly.
The database refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL) on audit_events
(triggers below), so a row once written stays as it was.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from weakref import WeakKeyDictionary

from sqlalchemy import BigInteger, CheckConstraint, String, event, insert, text
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session

from ..db import Base
from .core import AuditEvent
from .types import utcnow

GENESIS = "0" * 64  # the "previous hash" of the first row
CHAIN_VERSION = 1
# The fields a row hash covers, in the order they are listed in documentation.
CHAIN_FIELDS = (
    "seq", "prev_hash", "occurred_at", "actor_id", "actor_role", "organisation_id",
    "client_address", "user_agent", "action", "outcome", "partnership_id", "trigger",
    "from_stage", "to_stage", "comment", "details",
)
_STATE = "clusterpact.audit_chain"


class AuditChainHead(Base):
    """The last link of the audit chain (one row): what the newest audit row must be."""

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


def _iso(value: datetime) -> str:
    if value.tzinfo is None:  # stored naive UTC (see UTCDateTime)
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(values: dict) -> bytes:
    """The canonical serialisation of an audit row: sorted-key JSON, UTC ISO times."""
    doc = {name: values.get(name) for name in CHAIN_FIELDS}
    doc["occurred_at"] = _iso(doc["occurred_at"])
    if doc["details"] is not None:  # as stored (JSONText): keys sorted, tuples as lists
        doc["details"] = json.loads(json.dumps(doc["details"], sort_keys=True))
    doc["v"] = CHAIN_VERSION
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def row_hash(values: dict) -> str:
    """The sha256 (hex) of a row's canonical serialisation."""
    return hashlib.sha256(canonical(values)).hexdigest()


def event_values(row) -> dict:
    """The chained fields of an AuditEvent (or any object with those attributes)."""
    return {name: getattr(row, name) for name in CHAIN_FIELDS}


def _driver_sql(connection, statement: str) -> str:
    # Driver-level SQL: the chain's two statements run on every audited transaction, and
    # compiling them through Core costs several times more than executing them.
    if connection.dialect.paramstyle in ("format", "pyformat"):
        return statement.replace("?", "%s")
    return statement


def lock_head(connection) -> tuple[int, str]:
    """Lock the chain head for this transaction and return (last seq, last hash)."""
    query = "SELECT last_seq, last_hash FROM audit_chain_head WHERE id = 1"
    if connection.dialect.name == "postgresql":  # SQLite writers are serialised already
        query += " FOR UPDATE"
    found = connection.exec_driver_sql(query).first()
    if found is None:  # an emptied database: start a new chain
        head = AuditChainHead.__table__
        connection.execute(_insert_ignore(connection, head).values(
            id=1, last_seq=0, last_hash=GENESIS))
        found = connection.exec_driver_sql(query).first()
    return found[0], found[1]


def _insert_ignore(connection, table):
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    if connection.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing()
    return insert(table)


def save_head(connection, seq: int, last_hash: str,
              expected: tuple[int, str] | None = None) -> bool:
    """Move the chain head to (seq, last_hash); with `expected`, only from that head."""
    statement = "UPDATE audit_chain_head SET last_seq = ?, last_hash = ? WHERE id = 1"
    params: tuple = (seq, last_hash)
    if expected is not None:
        statement += " AND last_seq = ? AND last_hash = ?"
        params += tuple(expected)
    return connection.exec_driver_sql(_driver_sql(connection, statement), params).rowcount == 1


def link(values: dict, seq: int, prev_hash: str) -> str:
    """Set seq and prev_hash in `values` and return the row's hash."""
    values["seq"], values["prev_hash"] = seq, prev_hash
    return row_hash(values)


# Per engine of this process: the last head it wrote, and whether guessing that head would
# have been right the last time the head was read (another process may be writing too).
_LAST_HEAD: WeakKeyDictionary = WeakKeyDictionary()


def append(connection, values: dict, locked: tuple[int, str] | None = None) -> str:
    """Give `values` its seq and prev_hash, move the chain head past it; return its hash.

    `locked` is the head this transaction already holds. Otherwise, while the head this
    process wrote last keeps being the head (one process writing, or writing in runs), it
    is tried with a conditional UPDATE, which takes the row lock when it is still the head:
    one statement. When other processes keep moving the head, a guess would miss (three
    statements), so the head is read under the lock and then moved (two), until a read
    shows that this process's own head is the head again.
    """
    engine = connection.engine
    known = _LAST_HEAD.get(engine)
    if locked is None and known is not None and known[2]:
        digest = link(values, known[0] + 1, known[1])
        if save_head(connection, values["seq"], digest, expected=known[:2]):
            _LAST_HEAD[engine] = (values["seq"], digest, True)
            return digest
    head = locked or lock_head(connection)
    if locked:
        guess_holds = known is not None and known[2]  # nothing new learnt
    else:
        guess_holds = known is not None and tuple(head) == known[:2]
    digest = link(values, head[0] + 1, head[1])
    save_head(connection, values["seq"], digest)
    _LAST_HEAD[engine] = (values["seq"], digest, guess_holds)
    return digest


@event.listens_for(AuditEvent, "before_insert")
def _chain_row(_mapper, connection, target: AuditEvent) -> None:
    info = object_session(target).info
    if target.occurred_at is None:
        target.occurred_at = utcnow()
    if target.outcome is None:
        target.outcome = "success"
    values = event_values(target)
    target.row_hash = append(connection, values, info.get(_STATE))
    target.seq, target.prev_hash = values["seq"], values["prev_hash"]
    info[_STATE] = (target.seq, target.row_hash)  # the head this transaction now holds


@event.listens_for(Session, "before_flush")
def _forget_chain_state(session, _context, _instances) -> None:
    # The held head is known within one flush only: a failed flush leaves nothing behind,
    # and the next flush of the transaction finds its own head through the guess.
    session.info.pop(_STATE, None)


# Append-only, enforced by the database. The same statements are run by migration 0009.
APPEND_ONLY_MESSAGE = "audit_events is append-only"
SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END",
    "CREATE TRIGGER audit_chain_head_forward BEFORE UPDATE ON audit_chain_head "
    "WHEN NEW.last_seq < OLD.last_seq "
    "BEGIN SELECT RAISE(ABORT, 'the audit chain head only moves forward'); END",
    "CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head "
    "BEGIN SELECT RAISE(ABORT, 'the audit chain head cannot be deleted'); END",
)
PG_TRIGGERS = (
    "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE} (% refused)', TG_OP; END $$",
    "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
    "CREATE FUNCTION audit_chain_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN IF TG_OP <> 'UPDATE' OR NEW.last_seq < OLD.last_seq THEN "
    "RAISE EXCEPTION 'the audit chain head only moves forward (% refused)', TG_OP; END IF; "
    "RETURN NEW; END $$",
    "CREATE TRIGGER audit_chain_head_forward BEFORE UPDATE OR DELETE ON audit_chain_head "
    "FOR EACH ROW EXECUTE FUNCTION audit_chain_head_forward()",
    "CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_head_forward()",
)


def create_triggers(connection) -> None:
    """Create the append-only triggers (used by migration 0009 and by metadata.create_all)."""
    statements = PG_TRIGGERS if connection.dialect.name == "postgresql" else SQLITE_TRIGGERS
    for statement in statements:
        connection.execute(text(statement))


@event.listens_for(Base.metadata, "after_create")
def _after_create_all(_metadata, connection, **_kw) -> None:
    create_triggers(connection)
