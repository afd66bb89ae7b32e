"""Two writers, one partnership: exactly one wins, the other gets Conflict, the audit
trail has no lost or duplicate rows."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event, func, select

from tests import helpers
from tests.helpers import recorded_statements
from workflow.errors import Conflict
from workflow.models import AuditEvent, Partnership
from workflow.services.transitions import advance

ROUNDS = 8


def race(database, pid, attempts):
    """Run each (trigger, actor, comment, version) attempt in its own thread and session."""

    def attempt(trigger, comment, version):
        return lambda s, actor: advance(s, pid, trigger, actor, comment=comment,
                                        expected_version=version) and None

    return helpers.race(database, [(actor_id, attempt(trigger, comment, version))
                                   for trigger, actor_id, comment, version in attempts])


def test_concurrent_advances_have_exactly_one_winner(database, make_partnership):
    for _ in range(ROUNDS):
        p = make_partnership("draft")
        version = p.version
        results = race(database, p.id, [
            ("start_due_diligence", p.owner_id, None, version),
            ("withdraw", p.owner_id, "Counterpart lost interest", version),
            ("start_due_diligence", p.owner_id, None, version),
        ])
        assert sorted(results) == ["conflict", "conflict", "ok"], results
        with database.sessions() as s:
            stored = s.get(Partnership, p.id)
            events = s.scalars(select(AuditEvent).where(AuditEvent.partnership_id == p.id,
                                                        AuditEvent.action == "transition")).all()
            total = s.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.partnership_id == p.id))
        assert len(events) == 1
        assert stored.stage == events[0].to_stage
        assert stored.version == version + 1 == total


@pytest.mark.parametrize("database", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                         indirect=True)
def test_write_between_load_and_update_is_detected_by_the_version_check(database,
                                                                       make_partnership):
    """On PostgreSQL the other writer can commit even inside this one's write transaction,
    after its load: the stage UPDATE matches no row and becomes Conflict."""
    p = make_partnership("draft")
    s = database.sessions()
    owner = s.get(type(p.owner), p.owner_id)
    me = threading.get_ident()
    fired = []

    # The other writer commits after this one has loaded and checked the row, just before
    # this one's stage UPDATE.
    @event.listens_for(database.engine, "before_cursor_execute")
    def interleave(_conn, _cursor, statement, _params, _context, _many):
        if (not fired and threading.get_ident() == me
                and statement.startswith("UPDATE partnerships SET stage")):
            fired.append(True)
            t = threading.Thread(target=lambda: _other_writer(database, p.id, owner.id))
            t.start()
            t.join(timeout=30)

    try:
        with pytest.raises(Conflict, match="at the same time"):
            advance(s, p.id, "start_due_diligence", owner)
    finally:
        event.remove(database.engine, "before_cursor_execute", interleave)
    assert fired
    s.close()
    with database.sessions() as fresh:
        stored = fresh.get(Partnership, p.id)
        assert stored.stage == "withdrawn"
        transitions = fresh.scalars(select(AuditEvent.trigger).where(
            AuditEvent.partnership_id == p.id, AuditEvent.action == "transition")).all()
        assert transitions == ["withdraw"]


def _other_writer(database, pid, owner_id):
    from workflow.models import User

    with database.sessions() as s:
        advance(s, pid, "withdraw", s.get(User, owner_id), comment="Faster writer")


def _between_checks_and_write(monkeypatch, change):
    """Run `change` (in its own session and thread, committed) once, after advance() has
    loaded and checked the partnership and before its write transaction begins."""
    from workflow.services import _base

    real, done = _base.begin_write, []

    def begin_write(session, **kwargs):
        if not done:
            done.append(True)
            t = threading.Thread(target=change)
            t.start()
            t.join(timeout=30)
        return real(session, **kwargs)

    monkeypatch.setattr(_base, "begin_write", begin_write)
    return done


@pytest.mark.parametrize("unsaved_edit", [False, True], ids=["clean", "unsaved-edit"])
def test_a_change_committed_after_the_checks_is_a_conflict_not_a_stale_pass(
        database, make_partnership, monkeypatch, unsaved_edit):
    """advance() checks the guards before its write begins. A change to the partnership
    committed in between (here: a signatory removed, which the guards of
    start_due_diligence refuse) moves its version, so the stage does not move on the
    strength of the checks made before it: Conflict, nothing written. Tried again, the
    guards see the change. With an unsaved edit in the session, which the write discards
    (reloading what was loaded, the acting user included), the checks run again inside the
    write and refuse it there: either way the stage does not move."""
    from workflow.errors import GuardFailed
    from workflow.models import User
    from workflow.services.partnerships import PartyInput, update_party

    p = make_partnership("draft")
    counterpart = next(x for x in p.parties if x.role != "lead")

    def remove_signatory():
        with database.sessions() as other:
            update_party(other, other.get(User, p.owner_id), p.id, counterpart.id,
                         PartyInput(organisation_id=counterpart.organisation_id,
                                    role=counterpart.role))

    done = _between_checks_and_write(monkeypatch, remove_signatory)
    with database.sessions() as s:
        owner = s.get(User, p.owner_id)
        if unsaved_edit:
            owner.display_name = "Never saved"
        expected = (pytest.raises((Conflict, GuardFailed)) if unsaved_edit
                    else pytest.raises(Conflict, match="at the same time"))
        with expected:
            advance(s, p.id, "start_due_diligence", owner, expected_version=p.version)
        assert done
        with pytest.raises(GuardFailed) as refused:
            advance(s, p.id, "start_due_diligence", owner)
    assert any("signatory" in reason for reason in refused.value.reasons)
    with database.sessions() as s:
        stored = s.get(Partnership, p.id)
        assert (stored.stage, stored.version) == ("draft", p.version + 1)
        assert not s.scalars(select(AuditEvent).where(
            AuditEvent.partnership_id == p.id, AuditEvent.action == "transition")).all()


def test_a_refused_transition_does_not_wait_for_the_writers_turn(database, make_partnership):
    """The checks run before the write: a transition its guards refuse answers at once,
    even while another connection holds the write lock for long, and leaves no read
    transaction (no old snapshot) open behind it."""
    import time

    from workflow.errors import GuardFailed
    from workflow.models import User

    p = make_partnership("draft", signatories=False)
    with database.sessions() as holder, database.sessions() as s:
        owner = s.get(User, p.owner_id)
        from workflow.db import begin_write

        begin_write(holder)  # SQLite: the writer's turn; PostgreSQL: an open write
        holder.get(Partnership, p.id, with_for_update=True)  # and the row's lock
        try:
            start = time.monotonic()
            with pytest.raises(GuardFailed):
                advance(s, p.id, "start_due_diligence", owner)
            assert time.monotonic() - start < 2
            assert not s.in_transaction()  # the refusal ended the read it was checked in
        finally:
            holder.rollback()


def test_a_read_then_a_write_is_one_transaction_on_postgresql_only(database, make_partnership):
    """PostgreSQL goes on from the request's read into the write (READ COMMITTED); SQLite
    ends the read snapshot first, since a deferred reader cannot safely become a writer."""
    from workflow.models import User

    p = make_partnership("draft")
    begins, ends = [], []

    def on_begin(_conn):
        begins.append(1)

    def on_end(_conn):
        ends.append(1)

    event.listen(database.engine, "begin", on_begin)
    event.listen(database.engine, "commit", on_end)
    event.listen(database.engine, "rollback", on_end)
    try:
        with database.sessions() as s:
            owner = s.get(User, p.owner_id)  # the request's user, loaded first
            counted = advance(s, p.id, "start_due_diligence", owner).stage, len(begins), len(
                ends)
    finally:
        event.remove(database.engine, "begin", on_begin)
        event.remove(database.engine, "commit", on_end)
        event.remove(database.engine, "rollback", on_end)
    expected = (1, 1) if database.kind == "postgresql" else (2, 2)
    assert counted == ("due_diligence", *expected)


def test_the_acting_user_is_read_again_inside_the_write_not_rebuilt(database,
                                                                    make_partnership):
    """The request's user, loaded before the write, is checked against its stored row in
    the write transaction (one plain SELECT) and kept as loaded when nothing changed."""
    from sqlalchemy import inspect

    from workflow.models import User

    p = make_partnership("draft")
    with database.sessions() as s:
        owner = s.get(User, p.owner_id)
        with recorded_statements(database.engine) as statements:
            advance(s, p.id, "start_due_diligence", owner)
        assert len([x for x in statements if "FROM users" in x]) == 1
        assert not inspect(owner).expired_attributes
        assert s.get(Partnership, p.id).stage == "due_diligence"


def test_a_role_change_committed_before_the_write_is_what_the_write_checks(
        database, make_partnership, make_user):
    """A user whose role changes between the request's start and its write acts with the
    new role: the transition is refused and nothing changes."""
    from workflow.errors import PermissionDenied
    from workflow.models import User
    from workflow.services.users import set_role

    p = make_partnership("draft")
    admin_id = make_user("admin").id
    with database.sessions() as s:
        owner = s.get(User, p.owner_id)  # the request's read: a coordinator
        assert owner.role == "coordinator"
        with database.sessions() as admin:
            set_role(admin, admin.get(User, admin_id), p.owner_id, "legal")
        with pytest.raises(PermissionDenied):
            advance(s, p.id, "start_due_diligence", owner)
        assert owner.role == "legal"
    with database.sessions() as s:
        stored = s.get(Partnership, p.id)
        assert (stored.stage, stored.version) == ("draft", p.version)
