"""Users: creation and authentication."""

from __future__ import annotations

import hmac

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..errors import Conflict, NotFound, ValidationFailed
from ..models import Organisation, User, utcnow
from ..passwords import hash_password, new_session_token, password_problem, verify_password
from ..queries import Page, numbered
from ..roles import ADMIN, PARTNER, SYSTEM, USER_ROLES
from ..validation import clean_email, clean_text
from ._base import require_role, write


def create_user(
    session: Session,
    actor,
    email: str,
    display_name: str,
    role: str,
    password: str,
    organisation_id: int | None = None,
) -> User:
    """Create a user account (admins, or the CLI acting as the system)."""
    if actor.role != SYSTEM:
        require_role(actor, ADMIN, doing="create users")
    errors = {}
    email, errors["email"] = clean_email(email)
    display_name, errors["display_name"] = clean_text(display_name, max_length=120)
    if role not in USER_ROLES:
        errors["role"] = f"One of: {', '.join(USER_ROLES)}."
    errors["password"] = password_problem(password or "")
    if role == PARTNER and organisation_id is None:
        errors["organisation"] = "A partner belongs to an organisation."
    errors = {k: v for k, v in errors.items() if v}
    if errors:
        raise ValidationFailed("The user is not valid.", errors)
    with write(session):
        if organisation_id is not None and session.get(Organisation, organisation_id) is None:
            raise ValidationFailed("Unknown organisation.", {"organisation": "Not found."})
        if session.scalar(select(User.id).where(User.email == email)):
            raise Conflict(f"A user with email {email} already exists.")
        user = User(
            email=email,
            display_name=display_name,
            role=role,
            organisation_id=organisation_id,
            password_hash=hash_password(password),
            session_token=new_session_token(),
            active=True,
        )
        session.add(user)
        session.flush()
        audit.record(session, actor, "user_created", details={"id": user.id, "role": role})
    return user


def check_credentials(session: Session, email: str, password: str) -> User | None:
    """Return the active user with these credentials, or None (same work either way).

    A failure is audited; a success is not a login yet (a second factor may follow, see
    `record_login`)."""
    email = (email or "").strip().lower()
    user = session.scalar(select(User).where(User.email == email)) if email else None
    ok = verify_password(user.password_hash if user else None, password or "")
    if not ok or user is None or not user.active:
        audit.record_security(
            session, "login_failed", actor=user, outcome="failed",
            details={"email": email[:254], "reason": "inactive" if ok else "credentials"})
        return None
    return user


def record_login(session: Session, user: User, now=None) -> User:
    """Note a completed login (password and, when enabled, second factor)."""
    now = now or utcnow()
    with write(session):
        user = session.get(User, user.id, populate_existing=True)
        user.last_login_at = now
        audit.record(session, user, "login", at=now)
    return user


WRONG_CURRENT = "The current password is incorrect."


def change_password(session: Session, actor, current: str, new: str) -> User:
    """Change the actor's own password; every other session of theirs ends."""
    problem = password_problem(new or "")
    if not problem and new == current:
        problem = "Choose a password different from the current one."
    errors = {"new_password": problem}
    # Hash outside the write transaction: scrypt takes long enough to matter under a lock.
    if not verify_password(load_user(session, actor.id).password_hash, current or ""):
        errors = {"current_password": WRONG_CURRENT}
        audit.record_security(session, "password_change_failed", actor=actor,
                              outcome="failed", details={"reason": "current password"})
    errors = {k: v for k, v in errors.items() if v}
    if errors:
        raise ValidationFailed("The password was not changed.", errors)
    new_hash = hash_password(new)
    with write(session):
        user = load_user(session, actor.id)
        user.password_hash = new_hash
        user.session_token = new_session_token()
        audit.record_security(session, "password_changed", actor=user, outcome="success")
    return user


def logout(session: Session, user: User) -> None:
    """Rotate the user's session token so every cookie issued so far stops working."""
    with write(session):
        user = session.get(User, user.id, populate_existing=True)
        user.session_token = new_session_token()
        audit.record(session, user, "logout")


def load_user_for_session(session: Session, user_id: int, token: str) -> User | None:
    """Return the active user whose current session token is `token`."""
    user = session.get(User, user_id)
    if user is None or not user.active or not hmac.compare_digest(user.session_token, token):
        return None
    return user


def set_active(session: Session, actor, user_id: int, active: bool) -> User:
    """Activate or deactivate a user; deactivation ends every session of theirs at once."""
    require_role(actor, ADMIN, doing="manage users")
    with write(session):
        user = load_user(session, user_id)
        if user.id == actor.id and not active:
            raise Conflict("You cannot deactivate yourself.")
        if user.active != bool(active):
            user.active = bool(active)
            user.session_token = new_session_token()
            audit.record(session, actor, "user_activated" if active else "user_deactivated",
                         details={"user_id": user.id})
    return user


def set_role(session: Session, actor, user_id: int, role: str,
             organisation_id: int | None = None) -> User:
    """Change a user's role (and organisation); their sessions end so the new role applies."""
    require_role(actor, ADMIN, doing="manage users")
    if role not in USER_ROLES:
        raise ValidationFailed("Unknown role.", {"role": f"One of: {', '.join(USER_ROLES)}."})
    with write(session):
        user = load_user(session, user_id)
        if organisation_id is not None and session.get(Organisation, organisation_id) is None:
            raise ValidationFailed("Unknown organisation.", {"organisation": "Not found."})
        org = organisation_id if organisation_id is not None else user.organisation_id
        if role == PARTNER and org is None:
            raise ValidationFailed("A partner belongs to an organisation.",
                                   {"organisation": "Required for partners."})
        if user.id == actor.id and role != ADMIN:
            raise Conflict("You cannot remove your own administrator role.")
        if (user.role, user.organisation_id) != (role, org):
            before = user.role
            user.role, user.organisation_id = role, org
            user.session_token = new_session_token()
            audit.record(session, actor, "user_role_changed",
                         details={"user_id": user.id, "from": before, "to": role})
    return user


def load_user(session: Session, user_id: int) -> User:
    """The user, read afresh from the database (NotFound when missing)."""
    user = session.get(User, user_id, populate_existing=True)
    if user is None:
        raise NotFound(f"User {user_id} not found.")
    return user


def list_users(session: Session, page: int = 1, per_page: int = 50) -> Page:
    """A page of the users, by name."""
    return numbered(session, select(User).order_by(User.display_name, User.id), page, per_page)
