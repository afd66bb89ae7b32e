"""The shared throttle of failed authentication: web login (password and second factor),
API token requests and password changes count together, per account and per client address.

Counts live in the database (auth_throttles), so every process and every machine behind a
load balancer sees the same numbers. A fixed window per key: the first failure starts it,
`ACCOUNT_LIMIT` or `ADDRESS_LIMIT` failures inside it block the key until it ends.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from .. import audit
from ..errors import Conflict
from ..models import AuthThrottle, utcnow
from ._base import write

WINDOW = timedelta(minutes=15)
ACCOUNT_LIMIT = 5  # failed attempts per account (email address) per window
ADDRESS_LIMIT = 20  # failed attempts per client address per window
KEEP = timedelta(days=1)


class Throttled(Exception):
    """Too many failed attempts; `retry_after` says how many seconds to wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


def account_key(email: str) -> str:
    """The key of an account; the email is kept hashed, not readable."""
    digest = hashlib.sha256((email or "").strip().lower().encode("utf-8", "replace"))
    return f"email:{digest.hexdigest()}"


def _keys(email: str, address: str | None) -> list[tuple[str, int]]:
    keys = [(account_key(email), ACCOUNT_LIMIT)]
    if address:
        keys.append((f"addr:{address[:64]}", ADDRESS_LIMIT))
    return keys


def retry_after(session: Session, email: str, address: str | None,
                now: datetime | None = None) -> int:
    """Seconds until the account and address may try again (0: not throttled)."""
    now = now or utcnow()
    return max(_wait(session.get(AuthThrottle, key, populate_existing=True), limit, now)
               for key, limit in _keys(email, address))


def _wait(row: AuthThrottle | None, limit: int, now: datetime) -> int:
    """Seconds until the key of `row` may try again (0: not blocked)."""
    if row is None or row.failures < limit or row.window_started_at + WINDOW <= now:
        return 0
    return int((row.window_started_at + WINDOW - now).total_seconds()) + 1


@contextmanager
def attempt(session: Session, email: str, address: str | None,
            now: datetime | None = None) -> Iterator[None]:
    """One attempt at a secret (a password, a code), checked inside the block.

    The attempt is counted as a failure before the block runs, in the same locked step that
    checks the limits (Throttled at the limit), and given back when the block ends without
    an exception. So parallel guesses cannot all pass a check made before any of them was
    counted: at most the limit of them reach the secret."""
    take(session, email, address, now)
    yield
    give_back(session, email, address)


def take(session: Session, email: str, address: str | None,
         now: datetime | None = None) -> None:
    """Count an attempt now, or raise Throttled (and audit the refusal) at the limit."""
    now = now or utcnow()
    try:
        wait = _take(session, email, address, now)
    except Conflict:  # another process inserted the same key first: take again
        wait = _take(session, email, address, now)
    if wait:
        audit.record_security(session, "login_throttled", outcome="denied",
                              details={"email": (email or "").strip().lower()[:254],
                                       "retry_after": wait})
        raise Throttled(wait)


def _take(session: Session, email: str, address: str | None, now: datetime) -> int:
    with write(session):
        rows = [(key, limit, session.get(AuthThrottle, key, with_for_update=True,
                                         populate_existing=True))
                for key, limit in _keys(email, address)]
        wait = max(_wait(row, limit, now) for _key, limit, row in rows)
        if wait:
            return wait  # refused: nothing counted
        for key, _limit, row in rows:
            _add_failure(session, key, row, now)
        session.execute(delete(AuthThrottle).where(AuthThrottle.window_started_at < now - KEEP))
    return 0


def give_back(session: Session, email: str, address: str | None) -> None:
    """Return an attempt `take` counted, once its secret proved right."""
    with write(session):
        for key, _limit in _keys(email, address):
            row = session.get(AuthThrottle, key, with_for_update=True, populate_existing=True)
            if row is not None and row.failures > 0:
                row.failures -= 1


def record_failure(session: Session, email: str, address: str | None,
                   now: datetime | None = None) -> None:
    """Count one failed attempt against the account and the client address."""
    now = now or utcnow()
    try:
        _count(session, email, address, now)
    except Conflict:  # another process inserted the same key first: count again
        _count(session, email, address, now)


def _count(session: Session, email: str, address: str | None, now: datetime) -> None:
    with write(session):
        for key, _limit in _keys(email, address):
            row = session.get(AuthThrottle, key, with_for_update=True, populate_existing=True)
            _add_failure(session, key, row, now)
        session.execute(delete(AuthThrottle).where(AuthThrottle.window_started_at < now - KEEP))


def _add_failure(session: Session, key: str, row: AuthThrottle | None, now: datetime) -> None:
    if row is None:
        session.add(AuthThrottle(key=key, window_started_at=now, failures=1))
    elif row.window_started_at + WINDOW <= now:
        row.window_started_at, row.failures = now, 1
    else:
        row.failures += 1


def clear_account(session: Session, email: str) -> None:
    """Forget the account's failures after a complete, successful authentication (the
    address's count stays: one good login must not unlock guessing at other accounts)."""
    with write(session):
        session.execute(delete(AuthThrottle).where(AuthThrottle.key == account_key(email)))
