"""The second factor: TOTP enrolment, checking a code at login (each time step once),
recovery codes, turning it off, and an administrator's reset.

`box` is the workflow.totp.SecretBox that encrypts TOTP secrets at rest; the web layer builds
it from the application's secret key. `roles` are the roles that must use a second factor
(configuration, REQUIRE_2FA_ROLES).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from .. import audit, totp
from ..errors import Conflict, PermissionDenied, ValidationFailed
from ..models import RecoveryCode, User, utcnow
from ..passwords import new_session_token
from ..roles import ADMIN
from . import throttle
from ._base import require_role, write
from .users import load_user

INVALID_CODE = "The code is not valid, or it was already used. Wait for the next code."


def required(user, roles) -> bool:
    """Tell whether the user's role must log in with a second factor."""
    return user.role in roles


def begin_enrolment(session: Session, actor, box: totp.SecretBox) -> None:
    """Give the actor a new, not yet confirmed TOTP secret (replacing a pending one)."""
    with write(session):
        user = load_user(session, actor.id)
        if user.totp_enabled:
            raise Conflict("Two-factor authentication is already on.")
        user.totp_secret = box.encrypt(totp.new_secret())
        user.totp_enabled_at, user.totp_last_step = None, None
        audit.record_security(session, "second_factor_setup_started", actor=user,
                              outcome="success")


def pending_secret(user: User, box: totp.SecretBox) -> str | None:
    """The secret the user is enrolling with, while not yet confirmed."""
    if user.totp_enabled or not user.totp_secret:
        return None
    return box.decrypt(user.totp_secret)


def confirm_enrolment(session: Session, actor, box: totp.SecretBox, code: str,
                      now: datetime | None = None) -> list[str]:
    """Turn the second factor on when `code` matches the pending secret; return the recovery
    codes (shown once). Every other session of the user ends."""
    now = now or utcnow()
    with write(session):
        # Locked (PostgreSQL; SQLite's writer already excludes others): the same code sent
        # twice at once turns the factor on once, the second finds no pending secret.
        user = session.get(User, actor.id, populate_existing=True,
                           with_for_update={"of": User})
        secret = pending_secret(user, box) if user is not None else None
        if secret is None:
            raise Conflict("Start the set-up again: there is no pending secret.")
        step = totp.matching_step(secret, code, now, None)
        if step is None:
            raise ValidationFailed("The code does not match.", {"code": INVALID_CODE})
        user.totp_enabled_at, user.totp_last_step = now, step
        user.session_token = new_session_token()
        codes = _new_recovery_codes(session, user, now)
        audit.record_security(session, "second_factor_enabled", actor=user, outcome="success")
    return codes


def verify(session: Session, box: totp.SecretBox, user_id: int, code: str,
           now: datetime | None = None, *, allow_recovery: bool = True) -> User | None:
    """The user, when `code` is a TOTP code of a time step later than the last one used, or
    one of their unused recovery codes; the step or the recovery code is used up. None
    otherwise (audited, with whether the code was replayed)."""
    now = now or utcnow()
    with write(session):
        user = session.get(User, user_id, populate_existing=True)
        if user is None or not user.active or not user.totp_enabled:
            return None
        if totp.looks_like_code(code):
            outcome = _use_step(session, box, user, code, now)
        elif allow_recovery:
            outcome = _use_recovery_code(session, user, code, now)
        else:
            outcome = "invalid"
        if outcome != "ok":
            audit.record_security(session, "second_factor_failed", actor=user,
                                  outcome="failed", details={"reason": outcome})
            return None
    return user


def _use_step(session: Session, box, user: User, code: str, now: datetime) -> str:
    secret = box.decrypt(user.totp_secret)
    step = totp.matching_step(secret, code, now, None) if secret else None
    if step is None:
        return "invalid"
    if user.totp_last_step is not None and step <= user.totp_last_step:
        return "replayed"
    # Conditional update: of two requests with the same code, only one moves the step on.
    moved = session.execute(update(User).where(
        User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step),
    ).values(totp_last_step=step).execution_options(synchronize_session=False))
    return "ok" if moved.rowcount == 1 else "replayed"


def _use_recovery_code(session: Session, user: User, code: str, now: datetime) -> str:
    used = session.execute(update(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None),
        RecoveryCode.code_hash == totp.recovery_hash(user.id, code),
    ).values(used_at=now).execution_options(synchronize_session=False))
    if used.rowcount != 1:
        return "invalid"
    audit.record_security(session, "recovery_code_used", actor=user, outcome="success",
                          details={"remaining": _remaining(session, user.id)})
    return "ok"


def remaining_recovery_codes(session: Session, user) -> int:
    """How many unused recovery codes the user has."""
    return _remaining(session, user.id)


def _remaining(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))) or 0


def regenerate_recovery_codes(session: Session, actor, box: totp.SecretBox, code: str,
                              address: str | None = None,
                              now: datetime | None = None) -> list[str]:
    """Replace the actor's recovery codes after checking a current TOTP code."""
    now = now or utcnow()
    _check_code(session, box, actor, code, address, now, allow_recovery=False)
    with write(session):
        user = load_user(session, actor.id)
        codes = _new_recovery_codes(session, user, now)
        audit.record_security(session, "recovery_codes_replaced", actor=user,
                              outcome="success")
    return codes


def disable(session: Session, actor, box: totp.SecretBox, code: str, roles,
            address: str | None = None, now: datetime | None = None) -> None:
    """Turn the actor's second factor off (not for roles that require it), after a code."""
    if required(actor, roles):
        raise PermissionDenied(f"Your role ({actor.role}) must keep two-factor authentication.")
    now = now or utcnow()
    _check_code(session, box, actor, code, address, now, allow_recovery=True)
    with write(session):
        user = load_user(session, actor.id)
        _clear(session, user)
        audit.record_security(session, "second_factor_disabled", actor=user, outcome="success")


def _check_code(session: Session, box, actor, code: str, address: str | None,
                now: datetime, *, allow_recovery: bool) -> None:
    """Check a logged-in user's code, counting failures in the login throttle (a stolen
    session must not be able to guess its way to turning the second factor off)."""
    with throttle.attempt(session, actor.email, address, now):
        if verify(session, box, actor.id, code, now, allow_recovery=allow_recovery) is None:
            raise ValidationFailed("The code does not match.", {"code": INVALID_CODE})


def reset(session: Session, actor, user_id: int) -> User:
    """An administrator removes a user's second factor (lost phone and recovery codes); the
    user's sessions end and they enrol again at their next login if their role requires it."""
    require_role(actor, ADMIN, doing="reset a second factor")
    if user_id == actor.id:
        raise Conflict("You cannot reset your own second factor; ask another administrator.")
    with write(session):
        user = load_user(session, user_id)
        _clear(session, user)
        audit.record_security(session, "second_factor_reset", actor=actor, outcome="success",
                              details={"user_id": user.id})
    return user


def _clear(session: Session, user: User) -> None:
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = None, None, None
    user.session_token = new_session_token()
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def _new_recovery_codes(session: Session, user: User, now: datetime) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = totp.new_recovery_codes()
    session.add_all(RecoveryCode(user_id=user.id, code_hash=totp.recovery_hash(user.id, c),
                                 created_at=now) for c in codes)
    return codes
