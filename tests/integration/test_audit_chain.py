"""The audit log is append-only in the database and hash-chained; audit-verify names the
first row where the chain breaks."""

from __future__ import annotations

import threading
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError

from tests.audit_tamper import triggers_bypassed
from tests.conftest import BACKENDS, PG_URL
from workflow import audit
from workflow.db import make_engine, make_session_factory
from workflow.models import AuditChainHead, AuditEvent, utcnow
from workflow.models.audit_chain import GENESIS, link
from workflow.roles import SYSTEM_ACTOR
from workflow.services.organisations import create_organisation


def write_events(session, n: int) -> list[AuditEvent]:
    return [audit.record_security(session, f"probe_{i}", outcome="denied", details={"i": i})
            for i in range(n)]


def rows(database) -> list:
    with database.engine.connect() as conn:
        return conn.execute(text("SELECT id, seq FROM audit_events ORDER BY seq")).all()


def test_every_write_extends_one_valid_chain(session, make_partnership):
    make_partnership("negotiation")
    write_events(session, 3)
    result = audit.verify_chain(session)
    count = session.query(AuditEvent).count()
    assert result.ok, result.describe()
    assert result.checked == count == result.last_seq
    seqs = [s for (s,) in session.query(AuditEvent.seq).order_by(AuditEvent.id)]
    assert seqs == list(range(1, count + 1))
    assert session.get(AuditChainHead, 1).last_seq == count


def test_rolled_back_events_leave_no_gap(session):
    from workflow.db import begin_write

    write_events(session, 2)
    begin_write(session)
    audit.record(session, SYSTEM_ACTOR, "never_committed")
    session.flush()
    session.rollback()
    write_events(session, 1)
    result = audit.verify_chain(session)
    assert result.ok and result.checked == 3, result.describe()


def test_update_and_delete_of_audit_rows_are_refused(database, session):
    write_events(session, 2)
    for statement in ("UPDATE audit_events SET action = 'edited' WHERE seq = 1",
                      "DELETE FROM audit_events WHERE seq = 2",
                      "UPDATE audit_chain_head SET last_seq = 0",
                      "DELETE FROM audit_chain_head"):
        with pytest.raises(DBAPIError, match="append-only|only moves forward|cannot be deleted"):
            with database.engine.begin() as conn:
                conn.execute(text(statement))
    assert len(rows(database)) == 2


def test_changing_an_event_through_the_orm_is_refused(database, session):
    (event,) = write_events(session, 1)
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(update(AuditEvent).where(AuditEvent.id == event.id)
                        .values(outcome="success"))
        session.commit()
    session.rollback()
    assert audit.verify_chain(session).ok


@pytest.mark.parametrize("database", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                         indirect=True)
def test_truncate_is_refused_on_postgresql(database, session):
    write_events(session, 1)
    for table in ("audit_events", "audit_chain_head"):
        with pytest.raises(DBAPIError, match="append-only|only moves forward"):
            with database.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {table} CASCADE"))


def tamper_edit(conn, ids):
    conn.execute(text("UPDATE audit_events SET details = :d WHERE seq = 3"), {"d": '{"i":9}'})
    return ids[3], 3, "edited"


def tamper_delete(conn, ids):
    conn.execute(text("DELETE FROM audit_events WHERE seq = 3"))
    return ids[4], 4, "missing"


def tamper_reorder(conn, ids):
    """Exchange the positions of rows 2 and 3 in the sequence."""
    conn.execute(text("UPDATE audit_events SET seq = -1 WHERE seq = 2"))
    conn.execute(text("UPDATE audit_events SET seq = 2 WHERE seq = 3"))
    conn.execute(text("UPDATE audit_events SET seq = 3 WHERE seq = -1"))
    return ids[3], 2, "previous hash"


def tamper_swap(conn, ids):
    """Exchange everything but the ids of rows 2 and 3 (links and hashes included)."""
    conn.execute(text("UPDATE audit_events SET id = -1 WHERE seq = 2"))
    conn.execute(text(f"UPDATE audit_events SET id = {ids[2]} WHERE seq = 3"))
    conn.execute(text(f"UPDATE audit_events SET id = {ids[3]} WHERE seq = 2"))
    return ids[2], 3, "swapped"


def tamper_insert(conn, ids):
    """Append a well-formed row without the chain head knowing about it."""
    last = conn.execute(text("SELECT seq, row_hash FROM audit_events ORDER BY seq DESC "
                             "LIMIT 1")).one()
    values = {"occurred_at": utcnow(), "actor_role": "admin", "action": "forged",
              "outcome": "success"}
    values["row_hash"] = link(values, last.seq + 1, last.row_hash)
    conn.execute(AuditEvent.__table__.insert().values(**values))
    return None, 5, "chain head"


def tamper_truncate(conn, ids):
    conn.execute(text("DELETE FROM audit_events WHERE seq >= 4"))
    return None, 5, "chain head"


@pytest.mark.parametrize("tamper", [tamper_edit, tamper_delete, tamper_reorder, tamper_swap,
                                    tamper_insert, tamper_truncate])
def test_verify_names_the_first_broken_row(database, session, tamper):
    write_events(session, 5)
    ids = {seq: id_ for id_, seq in rows(database)}
    assert audit.verify_chain(session).ok
    with triggers_bypassed(database) as conn:
        expected_id, expected_seq, words = tamper(conn, ids)
    session.rollback()
    result = audit.verify_chain(session)
    assert not result.ok
    assert (result.broken_id, result.broken_seq) == (expected_id, expected_seq), \
        result.describe()
    assert words in result.problem


def test_concurrent_writers_produce_a_gap_free_chain(database):
    threads, per_thread = 6, 8
    barrier = threading.Barrier(threads)
    errors = []

    def run(n):
        with database.sessions() as s:
            barrier.wait(timeout=10)
            try:
                for i in range(per_thread):
                    if i % 2:
                        audit.record_security(s, "probe", outcome="denied", details={"t": n})
                    else:
                        create_organisation(s, SYSTEM_ACTOR, f"Org {n}-{i}", "IT", "sme")
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(repr(exc))

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert errors == []
    seqs = [seq for _id, seq in rows(database)]
    assert seqs == list(range(1, threads * per_thread + 1))
    with database.sessions() as s:
        result = audit.verify_chain(s)
    assert result.ok and result.checked == threads * per_thread, result.describe()


def test_writers_in_other_processes_move_the_head_under_each_other(database):
    """Each engine guesses the head it wrote last; another process's write makes the guess
    stale, and the append falls back to reading the head under the lock."""
    other = make_engine(database.url)
    try:
        for sessions in (database.sessions, make_session_factory(other), database.sessions,
                         make_session_factory(other), database.sessions):
            with sessions() as s:
                write_events(s, 2)
    finally:
        other.dispose()
    assert [seq for _id, seq in rows(database)] == list(range(1, 11))
    with database.sessions() as s:
        assert audit.verify_chain(s).ok


def test_security_event_outside_a_write_commits_on_its_own(database, session):
    session.get(AuditChainHead, 1)  # a read transaction is open, as in a GET
    audit.record_security(session, "access_refused", outcome="denied", details={"status": 404})
    with database.sessions() as other:
        assert other.query(AuditEvent).filter_by(action="access_refused").count() == 1


def test_security_event_inside_a_write_joins_it(database, session):
    from workflow.db import begin_write

    begin_write(session)
    audit.record_security(session, "second_factor_failed", outcome="failed")
    session.rollback()
    with database.sessions() as other:
        assert other.query(AuditEvent).count() == 0


def test_events_carry_who_from_where_and_the_outcome(session, make_user, make_org):
    org = make_org("IT")
    partner = make_user("partner", organisation=org)
    token = audit.request_context.set(audit.RequestMeta("203.0.113.7", "Firefox/140"))
    try:
        event = audit.record_security(session, "access_refused", actor=partner,
                                      outcome="denied", details={"status": 404})
    finally:
        audit.request_context.reset(token)
    stored = session.get(AuditEvent, event.id, populate_existing=True)
    assert (stored.actor_id, stored.actor_role, stored.organisation_id) == (
        partner.id, "partner", org.id)
    assert (stored.client_address, stored.user_agent) == ("203.0.113.7", "Firefox/140")
    assert (stored.action, stored.outcome) == ("access_refused", "denied")


@contextmanager
def fresh_database(kind: str, tmp_path):
    """An empty database of `kind` that the caller migrates step by step."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'steps.db'}"
        return
    if not PG_URL.startswith("postgresql"):
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL=postgresql://...")
    schema = f"cp_steps_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.parametrize("kind", BACKENDS)
def test_migration_chains_the_events_written_before_it(kind, tmp_path):
    from web.migrate import upgrade

    with fresh_database(kind, tmp_path) as url:
        upgrade(url, "0008")
        engine = make_engine(url)
        with engine.begin() as conn:
            for action, details in (("login_failed", '{"reason":"credentials"}'),
                                    ("user_created", '{"id":1,"role":"admin"}'),
                                    ("login", None)):
                conn.execute(text(
                    "INSERT INTO audit_events (occurred_at, actor_role, action, details) "
                    "VALUES (:at, 'system', :a, :d)"),
                    {"at": "2026-01-02 03:04:05.678901", "a": action, "d": details})
        upgrade(url)
        with make_session_factory(engine)() as s:
            result = audit.verify_chain(s)
            outcomes = [e.outcome for e in s.query(AuditEvent).order_by(AuditEvent.seq)]
            assert result.ok and result.checked == 3, result.describe()
            assert outcomes == ["failed", "success", "success"]
            write_events(s, 1)
            assert audit.verify_chain(s).checked == 4
        engine.dispose()


def test_an_empty_log_is_a_valid_chain(session):
    result = audit.verify_chain(session)
    assert result.ok and result.checked == 0 and result.last_hash == GENESIS


def test_a_process_guesses_the_head_only_while_it_keeps_being_right(database):
    """Alone, a process moves the head with one statement per event; while another process
    writes in between, it reads the head under the lock instead of guessing wrong first
    (two statements rather than three), and the chain stays whole."""
    from tests.helpers import recorded_statements

    def on_head(statements):
        return [x.split()[0].upper() for x in statements if "audit_chain_head" in x]

    other = make_engine(database.url)
    mine = make_session_factory(database.engine)
    theirs = make_session_factory(other)
    try:
        for _ in range(3):  # this process alone: it learns that its head holds
            with mine() as s:
                write_events(s, 1)
        with recorded_statements(database.engine) as statements, mine() as s:
            write_events(s, 1)
        assert on_head(statements) == ["UPDATE"]  # the guess, right
        for _ in range(3):  # another process writes between each of ours
            with theirs() as s:
                write_events(s, 1)
            with recorded_statements(database.engine) as statements, mine() as s:
                write_events(s, 1)
            assert len(on_head(statements)) <= 3
        assert on_head(statements) == ["SELECT", "UPDATE"]  # no more wrong guesses first
    finally:
        other.dispose()
    assert [seq for _id, seq in rows(database)] == list(range(1, 11))
    with database.sessions() as s:
        assert audit.verify_chain(s).ok
