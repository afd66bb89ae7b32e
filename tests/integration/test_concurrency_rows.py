"""Rows other than the partnership (obligations, calendar feeds, API tokens, the user's
second factor) and the login throttle, written by real concurrent sessions.

The rule: concurrent writers to the same record, exactly one wins and the other gets
Conflict; never a lost update, never two rows where one should exist.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tests.helpers import race
from workflow import totp
from workflow.errors import Conflict
from workflow.models import ApiToken, AuditEvent, CalendarFeed, Obligation, RecoveryCode, User
from workflow.services import second_factor
from workflow.services.calendar import create_feed, feed_user
from workflow.services.login import BadCredentials, check_password
from workflow.services.obligations import complete_obligation
from workflow.services.publications import register_publication
from workflow.services.throttle import ACCOUNT_LIMIT, Throttled
from workflow.services.tokens import revoke_token

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
ROUNDS = 8
BOX = totp.SecretBox("integration-test-key-" + "x7Q" * 10)
PG_ONLY = pytest.mark.parametrize(
    "database", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)


def audited(database, action, **details):
    with database.sessions() as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
        return [r for r in rows if all((r.details or {}).get(k) == v
                                       for k, v in details.items())]


def while_locked(monkeypatch, module, name, other, *, after=False):
    """Patch module.name so that the first call from this thread starts `other` in its own
    thread and session and goes on without waiting for it: called after the service took
    its lock, `other` must wait for this service's commit and then see what it wrote.
    Returns `join()`, which waits for `other` and gives what it returned or raised."""
    real, me, started, outcome = getattr(module, name), threading.get_ident(), [], []

    def target():
        try:
            outcome.append(other())
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            outcome.append(exc)

    def patched(*args, **kwargs):
        result = real(*args, **kwargs) if after else None
        if not started and threading.get_ident() == me:
            started.append(threading.Thread(target=target))
            started[0].start()
        return result if after else real(*args, **kwargs)

    def join():
        assert started, f"{name} was never called"
        started[0].join(timeout=30)
        assert not started[0].is_alive(), "the other writer is still waiting"
        return outcome[0]

    monkeypatch.setattr(module, name, patched)
    return join


# --- obligations -------------------------------------------------------------------------

@pytest.fixture
def window(session, active_deal):
    """(partnership, people, new_window()): each call registers a publication and returns
    the open, completable objection-window obligation it starts."""
    p, people = active_deal
    lead = p.parties[0]
    counter = iter(range(1000))

    def new_window():
        pub = register_publication(session, people["owner"], p.id, lead.id,
                                   f"Paper {next(counter)}", NOW.date() + timedelta(days=60),
                                   now=NOW)
        (row,) = session.scalars(select(Obligation).where(Obligation.publication_id == pub.id))
        return row

    return p, people, new_window


def test_two_concurrent_completions_of_one_obligation_have_one_winner(database, window):
    p, people, new_window = window
    observed = []
    for _ in range(ROUNDS):
        row = new_window()

        def done(s, actor, row_id=row.id):
            complete_obligation(s, actor, p.id, row_id)

        results = race(database, [(people["owner"].id, done), (people["partner_cn"].id, done)])
        observed.append((sorted(results), len(audited(database, "obligation_done",
                                                      obligation_id=row.id))))
    assert all(o == (["conflict", "ok"], 1) for o in observed), observed


@PG_ONLY
def test_a_completion_waiting_for_the_lock_finds_the_obligation_done(database, window,
                                                                    monkeypatch):
    """Deterministic: B asks to complete while A holds the obligation's row; B waits for
    A's commit, then finds it done (Conflict), instead of completing it a second time."""
    from workflow.services import obligations

    p, people, new_window = window
    row = new_window()

    def other():
        with database.sessions() as s:
            complete_obligation(s, s.get(User, people["partner_cn"].id), p.id, row.id)

    join = while_locked(monkeypatch, obligations, "may_complete", other)
    with database.sessions() as s:
        complete_obligation(s, s.get(User, people["owner"].id), p.id, row.id)
    assert isinstance(join(), Conflict)
    assert len(audited(database, "obligation_done", obligation_id=row.id)) == 1


# --- calendar feeds ----------------------------------------------------------------------

def active_feeds(database, user_id):
    with database.sessions() as s:
        return s.scalars(select(CalendarFeed).where(CalendarFeed.user_id == user_id,
                                                    CalendarFeed.revoked_at.is_(None))).all()


def test_two_concurrent_new_calendar_addresses_leave_one_working(database, make_user):
    user = make_user("coordinator")
    observed = []
    for _ in range(ROUNDS):
        secrets = []

        def new(s, actor, secrets=secrets):
            secrets.append(create_feed(s, actor).secret)

        results = race(database, [(user.id, new), (user.id, new)])
        with database.sessions() as s:
            working = sum(feed_user(s, secret) is not None for secret in secrets)
        observed.append((sorted(results), len(active_feeds(database, user.id)), working))
    assert all(active == 1 and working <= 1 for _r, active, working in observed), observed


@PG_ONLY
def test_a_new_calendar_address_asked_for_meanwhile_revokes_this_one(database, make_user,
                                                                     monkeypatch):
    from workflow.services import calendar

    user = make_user("coordinator")

    def other():
        with database.sessions() as s:
            return create_feed(s, s.get(User, user.id)).secret

    # After this request locked the user and revoked the addresses in use.
    join = while_locked(monkeypatch, calendar, "_revoke_all", other, after=True)
    with database.sessions() as s:
        mine = create_feed(s, s.get(User, user.id)).secret
    theirs = join()
    with database.sessions() as s:
        assert feed_user(s, mine) is None and feed_user(s, theirs).id == user.id
    assert len(active_feeds(database, user.id)) == 1


# --- API tokens --------------------------------------------------------------------------

def test_two_concurrent_revocations_of_a_token_are_audited_once(database, session, make_user):
    from tests.api.conftest import grant_token

    user = make_user("coordinator")
    observed = []
    for _ in range(ROUNDS):
        grant_token(session, user)
        token_id = session.scalar(select(func.max(ApiToken.id)))
        session.rollback()

        def revoke(s, actor, token_id=token_id):
            revoke_token(s, actor, token_id)

        race(database, [(user.id, revoke), (user.id, revoke)])
        observed.append(len(audited(database, "api_token_revoked", token_id=token_id)))
    assert observed == [1] * ROUNDS, observed


# --- second factor -----------------------------------------------------------------------

def test_one_enrolment_code_sent_twice_turns_the_factor_on_once(database, make_user):
    observed = []
    for _ in range(ROUNDS):
        user = make_user("coordinator")
        with database.sessions() as s:
            second_factor.begin_enrolment(s, s.get(User, user.id), BOX)
            secret = second_factor.pending_secret(s.get(User, user.id), BOX)
        code = pyotp.TOTP(secret).now()

        def confirm(s, actor, code=code):
            second_factor.confirm_enrolment(s, actor, BOX, code)

        results = race(database, [(user.id, confirm), (user.id, confirm)])
        with database.sessions() as s:
            codes = s.scalar(select(func.count()).select_from(RecoveryCode)
                             .where(RecoveryCode.user_id == user.id))
        enabled = [e for e in audited(database, "second_factor_enabled")
                   if e.actor_id == user.id]
        observed.append((sorted(results), len(enabled), codes))
    assert all(r == ["conflict", "ok"] and e == 1 and c == 10 for r, e, c in observed), observed


@PG_ONLY
def test_an_enrolment_confirmed_meanwhile_is_not_confirmed_again(database, make_user,
                                                                 monkeypatch):
    user = make_user("coordinator")
    with database.sessions() as s:
        second_factor.begin_enrolment(s, s.get(User, user.id), BOX)
        secret = second_factor.pending_secret(s.get(User, user.id), BOX)
    code = pyotp.TOTP(secret).now()

    def other():
        with database.sessions() as s:
            return second_factor.confirm_enrolment(s, s.get(User, user.id), BOX, code)

    # After this request locked the user, while it makes its recovery codes.
    join = while_locked(monkeypatch, totp, "new_recovery_codes", other)
    with database.sessions() as s:
        shown = second_factor.confirm_enrolment(s, s.get(User, user.id), BOX, code)
    assert isinstance(join(), Conflict)
    with database.sessions() as s:
        stored = s.scalar(select(func.count()).select_from(RecoveryCode)
                          .where(RecoveryCode.user_id == user.id))
    assert (len(shown), stored) == (10, 10)


# --- login throttle ----------------------------------------------------------------------

def test_parallel_wrong_passwords_get_no_more_tries_than_the_limit(database, make_user):
    user = make_user("coordinator")
    n = 3 * ACCOUNT_LIMIT

    def guess(s, _actor, i=None):
        try:
            check_password(s, user.email, "wrong " + PASSWORD, "203.0.113.7")
        except BadCredentials:
            return "password checked"
        except Throttled:
            return "throttled"

    results = race(database, [(None, guess) for _ in range(n)])
    checked = results.count("password checked")
    failed = [e for e in audited(database, "login_failed") if e.actor_id == user.id]
    assert checked <= ACCOUNT_LIMIT and len(failed) <= ACCOUNT_LIMIT, (
        f"{checked} of {n} parallel guesses had their password checked "
        f"({len(failed)} login_failed rows), limit {ACCOUNT_LIMIT}: {results}")


@PG_ONLY
def test_a_lapse_waiting_for_the_lock_skips_an_obligation_completed_meanwhile(
        database, window, monkeypatch):
    """run-clocks lapses overdue obligations while complete_obligation holds one: it waits,
    then skips it, so the obligation is done and never also lapsed."""
    from workflow.services import obligations
    from workflow.services.clocks import run_clocks

    p, people, new_window = window
    row = new_window()
    later = datetime.combine(row.due_on + timedelta(days=1), datetime.min.time(), tzinfo=UTC)

    def clocks():
        with database.sessions() as s:
            return run_clocks(s, later).lapsed

    join = while_locked(monkeypatch, obligations, "may_complete", clocks)
    with database.sessions() as s:
        complete_obligation(s, s.get(User, people["owner"].id), p.id, row.id, now=later)
    join()
    with database.sessions() as s:
        assert s.get(Obligation, row.id).status == "done"
    assert audited(database, "obligation_lapsed", obligation_id=row.id) == []
    assert len(audited(database, "obligation_done", obligation_id=row.id)) == 1
