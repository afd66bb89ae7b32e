"""Logging in, step by step, for the web login and the API's token endpoint alike: the
password, then (when the user has one) the second factor, then completion. Every failure
counts in the shared throttle (workflow/services/throttle.py); a throttled account or address
is refused before any password is checked.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from .. import totp
from ..models import User, utcnow
from . import second_factor, throttle, users


class BadCredentials(Exception):
    """The email and password, or the second-factor code, do not identify an active user.
    Deliberately says nothing about which part was wrong."""


def check_password(session: Session, email: str, password: str, address: str | None,
                   now: datetime | None = None) -> User:
    """The active user with this email and password; raise BadCredentials or Throttled."""
    with throttle.attempt(session, email, address, now):
        user = users.check_credentials(session, email, password)
        if user is None:
            raise BadCredentials()
    return user


def check_second_factor(session: Session, box: totp.SecretBox, user: User, code: str,
                        address: str | None, now: datetime | None = None, *,
                        allow_recovery: bool = True) -> User:
    """The user, when `code` is a valid, unused second-factor code of theirs; raise
    BadCredentials or Throttled."""
    now = now or utcnow()
    with throttle.attempt(session, user.email, address, now):
        found = second_factor.verify(session, box, user.id, code, now,
                                     allow_recovery=allow_recovery)
        if found is None:
            raise BadCredentials()
    return found


def complete(session: Session, user: User, now: datetime | None = None) -> User:
    """Record a successful login and clear the account's failure count. Only here, after the
    last step: clearing it after the password alone would give unlimited code guesses."""
    throttle.clear_account(session, user.email)
    return users.record_login(session, user, now)
