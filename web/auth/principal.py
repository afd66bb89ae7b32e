"""The logged-in user as flask-login sees it: a thin proxy over the domain User."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from workflow.models import User
from workflow.roles import STAFF_ROLES


class Principal:
    """Wrap a `User` for flask-login; the login identity carries the session token."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, user: User) -> None:
        self._user = user

    def __getattr__(self, name):
        return getattr(self._user, name)

    @property
    def user(self) -> User:
        return self._user

    @property
    def is_active(self) -> bool:
        return bool(self._user.active)

    @property
    def is_staff(self) -> bool:
        return self._user.role in STAFF_ROLES

    def get_id(self) -> str:
        # Rotating the token (logout, password or role change) invalidates old cookies.
        return f"{self._user.id}:{self._user.session_token}"


def parse_identity(identity: str) -> tuple[int, str] | None:
    """Split a login identity into (user id, session token)."""
    user_id, sep, token = (identity or "").partition(":")
    if not sep or not user_id.isdigit() or not token:
        return None
    return int(user_id), token


def safe_next(target: str | None) -> str | None:
    """Return `target` if it is a same-site relative path, else None.

    The path is checked as given and once percent-decoded, so that encoded slashes,
    backslashes and control characters (`/%2F/host`, `/%5Chost`, `/%09/host`) are refused
    too; anything but printable ASCII is refused."""
    if not target or len(target) > 2000:
        return None
    parts = urlsplit(target)
    for text in (target, unquote(parts.path)):
        if any(not 0x21 <= ord(c) < 0x7f or c == "\\" for c in text):
            return None
        if not text.startswith("/") or text.startswith("//"):
            return None
    if parts.scheme or parts.netloc:
        return None
    return target
