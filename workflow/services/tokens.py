"""Personal API tokens: issue, authenticate, list and revoke; throttle failed requests.

A workflow service like the others (session and actor passed in, one write transaction per
change, audited); the API authenticates with it. Only the sha256 of a token is stored: the
secret is shown once, when it is issued.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .. import audit
from ..errors import Conflict, NotFound, ValidationFailed
from ..models import ApiToken, AuthThrottle, User, utcnow
from ..validation import clean_text
from . import users
from ._base import write

TOKEN_PREFIX = "cpt_"  # noqa: S105 - a marker that makes leaked tokens greppable, not a secret
TOKEN_TTL = timedelta(days=90)
THROTTLE_WINDOW = timedelta(minutes=15)
EMAIL_LIMIT = 5  # failed requests per email address per window
ADDRESS_LIMIT = 20  # failed requests per client address per window
LIST_LIMIT = 100


class BadCredentials(Exception):
    """The email and password do not identify an active user."""


class Throttled(Exception):
    """Too many failed token requests; `retry_after` says how many seconds to wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class IssuedToken:
    secret: str  # shown once, never stored
    record: ApiToken


def hash_secret(secret: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _keys(email: str, address: str | None) -> list[tuple[str, int]]:
    """Throttle keys with their limits; emails are kept hashed, not readable."""
    digest = hashlib.sha256((email or "").strip().lower().encode("utf-8", "replace"))
    keys = [(f"email:{digest.hexdigest()}", EMAIL_LIMIT)]
    if address:
        keys.append((f"addr:{address[:64]}", ADDRESS_LIMIT))
    return keys


def retry_after(session: Session, email: str, address: str | None,
                now: datetime | None = None) -> int:
    """Seconds until the email and address may try again (0: not throttled)."""
    now = now or utcnow()
    wait = 0
    for key, limit in _keys(email, address):
        row = session.get(AuthThrottle, key, populate_existing=True)
        if row is not None and row.failures >= limit:
            ends = row.window_started_at + THROTTLE_WINDOW
            if ends > now:
                wait = max(wait, int((ends - now).total_seconds()) + 1)
    return wait


def record_failure(session: Session, email: str, address: str | None,
                   now: datetime | None = None) -> None:
    """Count one failed token request against the email and the client address."""
    now = now or utcnow()
    try:
        _count(session, email, address, now)
    except Conflict:  # another process inserted the same key first: count again
        _count(session, email, address, now)


def _count(session: Session, email: str, address: str | None, now: datetime) -> None:
    with write(session):
        for key, _limit in _keys(email, address):
            row = session.get(AuthThrottle, key, with_for_update=True, populate_existing=True)
            if row is None:
                session.add(AuthThrottle(key=key, window_started_at=now, failures=1))
            elif row.window_started_at + THROTTLE_WINDOW <= now:
                row.window_started_at, row.failures = now, 1
            else:
                row.failures += 1
        session.execute(delete(AuthThrottle).where(
            AuthThrottle.window_started_at < now - timedelta(days=1)))


def issue_token(session: Session, email: str, password: str, address: str | None = None,
                name: str | None = None, now: datetime | None = None) -> IssuedToken:
    """Check the credentials (unless throttled) and issue a new token for the user."""
    name, error = clean_text(name, max_length=120, required=False)
    if error:
        raise ValidationFailed("The token name is not valid.", {"name": error})
    now = now or utcnow()
    wait = retry_after(session, email, address, now)
    if wait:
        raise Throttled(wait)
    user = users.authenticate(session, email, password)
    if user is None:
        record_failure(session, email, address, now)
        raise BadCredentials()
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with write(session):
        session.execute(delete(AuthThrottle).where(
            AuthThrottle.key == _keys(email, None)[0][0]))
        token = ApiToken(user_id=user.id, token_hash=hash_secret(secret),
                         hint=secret[:len(TOKEN_PREFIX) + 6], name=name, created_at=now,
                         expires_at=now + TOKEN_TTL, created_from=(address or "")[:64] or None)
        session.add(token)
        session.flush()
        audit.record(session, user, "api_token_created",
                     details={"token_id": token.id, "hint": token.hint}, at=now)
    return IssuedToken(secret, token)


def authenticate_token(session: Session, secret: str,
                       now: datetime | None = None) -> tuple[User, ApiToken] | None:
    """The user and token a presented secret stands for, if the token is usable."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret)))
    if token is None or not token.usable(now or utcnow()):
        return None
    return token.user, token


def user_tokens(session: Session, user) -> list[ApiToken]:
    """The user's tokens, newest first."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                .order_by(ApiToken.id.desc()).limit(LIST_LIMIT)))


def revoke_token(session: Session, actor, token_id: int,
                 now: datetime | None = None) -> ApiToken:
    """Revoke one of the actor's own tokens (revoking twice changes nothing)."""
    now = now or utcnow()
    with write(session):
        token = session.get(ApiToken, token_id, populate_existing=True)
        if token is None or token.user_id != actor.id:
            raise NotFound(f"Token {token_id} not found.")
        if token.revoked_at is None:
            token.revoked_at = now
            audit.record(session, actor, "api_token_revoked",
                         details={"token_id": token.id, "hint": token.hint}, at=now)
    return token
