"""Second factor through the services, on SQLite and PostgreSQL: enrolment, single-use codes,
recovery codes, turning off, an administrator's reset, and what the audit log keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import time_machine
from sqlalchemy import select

from tests.auth_helpers import enrol
from tests.helpers import in_threads
from workflow import totp
from workflow.errors import Conflict, PermissionDenied, ValidationFailed
from workflow.models import AuditEvent, RecoveryCode, User
from workflow.services import second_factor

BOX = totp.SecretBox("integration-test-key-" + "x7Q" * 10)
ROLES = frozenset({"admin", "legal"})
T0 = datetime(2026, 5, 4, 10, 0, 5, tzinfo=UTC)


def secret_of(user) -> str:
    return BOX.decrypt(user.totp_secret)


def events(session, action):
    return session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                           .order_by(AuditEvent.id)).all()


def test_enrolment_stores_the_secret_encrypted_and_needs_a_matching_code(session, make_user):
    user = make_user("coordinator")
    second_factor.begin_enrolment(session, user, BOX)
    session.refresh(user)
    secret = second_factor.pending_secret(user, BOX)
    assert len(secret) == 32 and secret not in user.totp_secret and not user.totp_enabled
    with pytest.raises(ValidationFailed):
        second_factor.confirm_enrolment(session, user, BOX, "000000")
    token = user.session_token
    codes = second_factor.confirm_enrolment(session, user, BOX, pyotp.TOTP(secret).now())
    session.refresh(user)
    assert user.totp_enabled and user.session_token != token  # other sessions end
    assert len(codes) == 10
    stored = session.scalars(select(RecoveryCode.code_hash)
                             .where(RecoveryCode.user_id == user.id)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)
    assert {totp.recovery_hash(user.id, c) for c in codes} == set(stored)
    with pytest.raises(Conflict):
        second_factor.begin_enrolment(session, user, BOX)  # already on: reset or turn off


def test_a_code_works_once_and_a_replay_is_refused_and_audited(session, make_user):
    user = make_user("legal")
    with time_machine.travel(T0, tick=False):
        enrol(session, user, BOX)
    code = pyotp.TOTP(secret_of(user)).at(T0 + timedelta(seconds=60))
    with time_machine.travel(T0 + timedelta(seconds=60), tick=False):
        assert second_factor.verify(session, BOX, user.id, code) is not None
        assert second_factor.verify(session, BOX, user.id, code) is None  # same step
    with time_machine.travel(T0 + timedelta(seconds=75), tick=False):
        assert second_factor.verify(session, BOX, user.id, code) is None  # still in the window
        assert second_factor.verify(session, BOX, user.id, "123456") is None
    failed = events(session, "second_factor_failed")
    assert [(e.details["reason"], e.outcome) for e in failed] == [
        ("replayed", "failed"), ("replayed", "failed"), ("invalid", "failed")]
    assert all(code not in str(e.details) for e in failed)
    session.refresh(user)
    assert user.totp_last_step == totp.time_step(T0 + timedelta(seconds=60))


def test_the_same_code_sent_by_concurrent_requests_logs_in_once(database, session, make_user):
    user = make_user("legal")
    with time_machine.travel(T0, tick=False):
        enrol(session, user, BOX)
    moment = T0 + timedelta(seconds=60)
    code = pyotp.TOTP(secret_of(user)).at(moment)
    accepted = []

    def attempt():
        with database.sessions() as own:
            accepted.append(second_factor.verify(own, BOX, user.id, code, now=moment))

    assert in_threads(attempt, 4) == []
    assert sum(u is not None for u in accepted) == 1
    session.rollback()  # a fresh read: what the threads wrote
    assert len(events(session, "second_factor_failed")) == 3


def test_the_enrolment_code_cannot_be_used_again_to_log_in(session, make_user):
    user = make_user("admin")
    second_factor.begin_enrolment(session, user, BOX)
    session.refresh(user)
    with time_machine.travel(T0, tick=False):
        code = pyotp.TOTP(second_factor.pending_secret(user, BOX)).now()
        second_factor.confirm_enrolment(session, user, BOX, code)
        assert second_factor.verify(session, BOX, user.id, code) is None


def test_recovery_codes_work_once_each(session, make_user):
    user = make_user("coordinator")
    _app, codes = enrol(session, user, BOX)
    assert second_factor.verify(session, BOX, user.id, codes[3].upper()) is not None
    assert second_factor.verify(session, BOX, user.id, codes[3]) is None
    assert second_factor.remaining_recovery_codes(session, user) == 9
    # The API takes TOTP codes only: a recovery code is refused there.
    assert second_factor.verify(session, BOX, user.id, codes[4], allow_recovery=False) is None
    assert events(session, "recovery_code_used")[0].details == {"remaining": 9}


def test_new_recovery_codes_replace_the_old_ones(session, make_user):
    user = make_user("legal")
    app, old = enrol(session, user, BOX)
    new = second_factor.regenerate_recovery_codes(session, user, BOX, app.code())
    assert not set(old) & set(new)
    assert second_factor.verify(session, BOX, user.id, old[0]) is None
    assert second_factor.verify(session, BOX, user.id, new[0]) is not None


def test_only_roles_that_do_not_require_it_may_turn_it_off(session, make_user):
    legal, coordinator = make_user("legal"), make_user("coordinator")
    legal_app, _ = enrol(session, legal, BOX)
    coordinator_app, _ = enrol(session, coordinator, BOX)
    with pytest.raises(PermissionDenied):
        second_factor.disable(session, legal, BOX, legal_app.code(), ROLES)
    with pytest.raises(ValidationFailed):
        second_factor.disable(session, coordinator, BOX, "999999", ROLES)
    second_factor.disable(session, coordinator, BOX, coordinator_app.code(), ROLES)
    session.refresh(coordinator)
    assert not coordinator.totp_enabled and coordinator.totp_secret is None
    assert session.scalars(select(RecoveryCode).where(
        RecoveryCode.user_id == coordinator.id)).all() == []


def test_admin_resets_a_second_factor_and_the_reset_is_audited(session, make_user):
    admin, legal = make_user("admin"), make_user("legal")
    enrol(session, legal, BOX)
    token = legal.session_token
    with pytest.raises(PermissionDenied):
        second_factor.reset(session, make_user("coordinator"), legal.id)
    with pytest.raises(Conflict):
        second_factor.reset(session, admin, admin.id)  # not on oneself
    second_factor.reset(session, admin, legal.id)
    fresh = session.get(User, legal.id, populate_existing=True)
    assert not fresh.totp_enabled and fresh.totp_secret is None
    assert fresh.session_token != token
    reset = events(session, "second_factor_reset")
    assert [(e.actor_id, e.details, e.outcome) for e in reset] == [
        (admin.id, {"user_id": legal.id}, "success")]


def test_secret_unreadable_with_another_key_fails_closed(session, make_user):
    user = make_user("coordinator")
    app, _ = enrol(session, user, BOX)
    other = totp.SecretBox("a-completely-different-key-" + "z9" * 10)
    assert second_factor.verify(session, other, user.id, app.code()) is None
