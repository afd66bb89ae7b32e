"""What a browser session is worth, checked on every request.

- A login starts a fresh session (nothing from before it survives: no session fixation) that
  carries its start and last-seen times; the absolute lifetime and the idle timeout are
  enforced here from those signed timestamps, not left to the cookie's expiry.
- Between the password and the second factor the session holds only a pending login (user
  id, session token, time): no identity, so nothing but the code page accepts it.
- A user whose role requires a second factor reaches nothing but its set-up (and logging out)
  until they have one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from workflow.services import second_factor
from workflow.totp import SecretBox

from .principal import Principal, safe_next

AUTH_AT, SEEN_AT = "auth_at", "seen_at"
PENDING = "pending_login"
BOX_KEY = "clusterpact.secret_box"
# Reachable while a required second factor is not set up yet.
SETUP_ENDPOINTS = {"static", "auth.logout", "auth.two_factor", "auth.two_factor_start",
                   "auth.two_factor_confirm", "main.healthz"}


def secret_box() -> SecretBox:
    """The box that encrypts TOTP secrets, keyed from SECRET_KEY (and its fallbacks)."""
    box = current_app.extensions.get(BOX_KEY)
    if box is None:
        config = current_app.config
        box = SecretBox(config["SECRET_KEY"], config.get("SECRET_KEY_FALLBACKS") or ())
        current_app.extensions[BOX_KEY] = box
    return box


def second_factor_roles() -> frozenset[str]:
    """The roles that must log in with a second factor (REQUIRE_2FA_ROLES)."""
    return frozenset(current_app.config.get("REQUIRE_2FA_ROLES", ()))


def _now() -> int:
    return int(time.time())


def start_session(user) -> None:
    """Log `user` in on a new session: whatever the session held before is dropped."""
    session.clear()
    login_user(Principal(user))
    session.permanent = True
    session[AUTH_AT] = session[SEEN_AT] = _now()


def keep_session(user) -> None:
    """Carry this session over to the user's rotated session token (after they changed their
    password or second factor); their other sessions stay ended."""
    login_user(Principal(user))


def end_session() -> None:
    logout_user()
    session.clear()


@dataclass(frozen=True)
class PendingLogin:
    user_id: int
    token: str
    next: str | None


def begin_pending(user, target: str | None) -> None:
    """Remember that `user` passed the password step; they are not logged in yet."""
    session.clear()
    session[PENDING] = {"user": user.id, "token": user.session_token, "at": _now(),
                        "next": target or ""}


def pending_login() -> PendingLogin | None:
    """The login waiting for its second factor, unless it is missing or too old."""
    data = session.get(PENDING)
    if not isinstance(data, dict):
        return None
    limit = current_app.config["LOGIN_CODE_TIMEOUT"].total_seconds()
    if _now() - int(data.get("at", 0)) > limit:
        session.pop(PENDING, None)
        return None
    return PendingLogin(int(data["user"]), str(data["token"]), safe_next(data.get("next")))


def enforce() -> object | None:
    """Before each browser request: end expired sessions; hold users who must set up a
    second factor on its set-up page."""
    if request.blueprint == "api.v1" or request.endpoint == "static":
        return None  # the API authenticates with bearer tokens, never with this session
    if not current_user.is_authenticated:
        return None
    now, config = _now(), current_app.config
    started, seen = session.get(AUTH_AT), session.get(SEEN_AT)
    if (not isinstance(started, int) or not isinstance(seen, int)
            or now - started > config["PERMANENT_SESSION_LIFETIME"].total_seconds()
            or now - seen > config["SESSION_IDLE_TIMEOUT"].total_seconds()):
        end_session()
        flash("Your session has expired. Log in again.", "info")
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("auth.login", next=safe_next(target)))
    session[SEEN_AT] = now
    if (request.endpoint not in SETUP_ENDPOINTS and not current_user.totp_enabled
            and second_factor.required(current_user, second_factor_roles())):
        flash("Your role requires two-factor authentication. Set it up to continue.", "info")
        return redirect(url_for("auth.two_factor"))
    return None
