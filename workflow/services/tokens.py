"""Personal API tokens: issue, authenticate, list and revoke. Failed requests count in the
shared login throttle (workflow/services/throttle.py).

A workflow service like the others (session and actor passed in, one write transaction per
change, audited); the API authenticates with it. Only the sha256 of a token is stored: the
secret is shown once, when it is issued.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from .. import audit
from ..errors import NotFound, PermissionDenied, ValidationFailed
from ..models import ApiToken, User, utcnow
from ..totp import SecretBox
from ..validation import clean_text
from . import login, second_factor, throttle
from ._base import write

TOKEN_PREFIX = "cpt_"  # noqa: S105 - a greppable marker for leaked tokens, no secret  # nosec B105
TOKEN_TTL = timedelta(days=90)
LIST_LIMIT = 100


@dataclass(frozen=True)
class IssuedToken:
    secret: str  # shown once, never stored
    record: ApiToken


def hash_secret(secret: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(session: Session, email: str, password: str, address: str | None = None,
                name: str | None = None, now: datetime | None = None, *,
                code: str | None = None, box: SecretBox | None = None,
                second_factor_roles=frozenset()) -> IssuedToken:
    """Check the credentials (unless throttled) and issue a new token for the user.

    A user with a second factor must send a current TOTP code (`code`; recovery codes are for
    the web login). A user whose role requires a second factor but who has not set one up
    gets no token until they have."""
    name, error = clean_text(name, max_length=120, required=False)
    if error:
        raise ValidationFailed("The token name is not valid.", {"name": error})
    now = now or utcnow()
    user = login.check_password(session, email, password, address, now)
    if user.totp_enabled:
        if not code or box is None:
            throttle.record_failure(session, email, address, now)
            raise login.BadCredentials()
        user = login.check_second_factor(session, box, user, code, address, now,
                                         allow_recovery=False)
    elif second_factor.required(user, second_factor_roles):
        raise PermissionDenied("Your role needs two-factor authentication: set it up in the "
                               "web application (Account, then Security) before requesting "
                               "an API token.")
    user = login.complete(session, user, now)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with write(session):
        token = ApiToken(user_id=user.id, token_hash=hash_secret(secret),
                         hint=secret[:len(TOKEN_PREFIX) + 6], name=name, created_at=now,
                         expires_at=now + TOKEN_TTL, created_from=(address or "")[:64] or None)
        session.add(token)
        session.flush()
        audit.record(session, user, "api_token_created",
                     details={"token_id": token.id, "hint": token.hint}, at=now)
    return IssuedToken(secret, token)


# Every API call runs this: one statement object, compiled and keyed once. The user comes
# as an object (services act with it); of the token only what the check and the caller need.
_BY_HASH = (select(User, ApiToken.id, ApiToken.expires_at, ApiToken.revoked_at)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == bindparam("token_hash")))


def authenticate_token(session: Session, secret: str,
                       now: datetime | None = None) -> tuple[User, int] | None:
    """The user and token id a presented secret stands for, if the token authenticates:
    not revoked, not expired, and its user still active."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    row = session.execute(_BY_HASH, {"token_hash": hash_secret(secret)}).first()
    if row is None:
        return None
    user, token_id, expires_at, revoked_at = row
    if revoked_at is not None or expires_at <= (now or utcnow()) or not user.active:
        return None
    return user, token_id


def user_tokens(session: Session, user) -> list[ApiToken]:
    """The user's tokens, newest first."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                .order_by(ApiToken.id.desc()).limit(LIST_LIMIT)))


def revoke_token(session: Session, actor, token_id: int,
                 now: datetime | None = None) -> ApiToken:
    """Revoke one of the actor's own tokens (revoking twice changes nothing)."""
    now = now or utcnow()
    with write(session):
        # Locked: two revocations at once revoke (and audit) once.
        token = session.get(ApiToken, token_id, populate_existing=True,
                            with_for_update={"of": ApiToken})
        if token is None or token.user_id != actor.id:
            raise NotFound(f"Token {token_id} not found.")
        if token.revoked_at is None:
            token.revoked_at = now
            audit.record(session, actor, "api_token_revoked",
                         details={"token_id": token.id, "hint": token.hint}, at=now)
    return token
