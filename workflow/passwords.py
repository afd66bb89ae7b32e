"""Password hashing (scrypt) and per-user session tokens."""

from __future__ import annotations

import secrets

from werkzeug.security import check_password_hash, generate_password_hash

MIN_PASSWORD_LENGTH = 12
# A valid hash of a random password: checked when the user is unknown so both paths cost the same.
_DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16), method="scrypt")


def hash_password(password: str) -> str:
    """Return an scrypt hash of `password`."""
    return generate_password_hash(password, method="scrypt")


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password in constant work whether or not the user exists."""
    if password_hash is None:
        check_password_hash(_DUMMY_HASH, password)
        return False
    return check_password_hash(password_hash, password)


def new_session_token() -> str:
    """Return a fresh random token that identifies the user's current sessions."""
    return secrets.token_urlsafe(24)


def password_problem(password: str) -> str | None:
    """Say what is wrong with a new password, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > 256:
        return "Use at most 256 characters."
    return None
