"""A user's notifications in the app: the bell's count, the list, read marks, email choices."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from .. import audit
from ..errors import NotFound, ValidationFailed
from ..models import Notification, NotificationPreference, utcnow
from ..notifications import KINDS
from ._base import write

BELL_CAP = 99  # the bell shows "99+" beyond this; counting stops there (cheap at any size)


def unread_count(session: Session, user_id: int) -> int:
    """Unread notifications of a user, counted up to BELL_CAP + 1."""
    capped = (select(Notification.id)
              .where(Notification.user_id == user_id, Notification.read_at.is_(None))
              .limit(BELL_CAP + 1).subquery())
    return session.scalar(select(func.count()).select_from(capped)) or 0


def page(session: Session, user_id: int, *, before: int | None = None,
         size: int = 25) -> tuple[list[Notification], int | None]:
    """One page of a user's notifications, newest first (keyset on id).

    Returns the rows and the `before` value of the next page, or None on the last page.
    """
    stmt = select(Notification).where(Notification.user_id == user_id)
    if before is not None:
        stmt = stmt.where(Notification.id < before)
    rows = list(session.scalars(stmt.order_by(Notification.id.desc()).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    return rows, (rows[-1].id if more else None)


def mark_read(session: Session, actor, notification_id: int) -> Notification:
    """Mark one of the actor's own notifications read (idempotent)."""
    with write(session):
        row = session.get(Notification, notification_id)
        if row is None or row.user_id != actor.id:
            raise NotFound(f"Notification {notification_id} not found.")
        if row.read_at is None:
            row.read_at = utcnow()
    return row


def mark_all_read(session: Session, actor) -> int:
    """Mark every unread notification of the actor read; return how many."""
    with write(session):
        result = session.execute(
            update(Notification)
            .where(Notification.user_id == actor.id, Notification.read_at.is_(None))
            .values(read_at=utcnow())
            .execution_options(synchronize_session=False))
    return result.rowcount or 0


def email_choices(session: Session, user_id: int) -> dict[str, bool]:
    """Each kind with whether the user gets it by email (on unless turned off)."""
    stored = dict(session.execute(
        select(NotificationPreference.kind, NotificationPreference.email)
        .where(NotificationPreference.user_id == user_id)).all())
    return {kind: stored.get(kind, True) for kind in KINDS}


def set_email_choices(session: Session, actor, choices: dict[str, bool]) -> None:
    """Store the actor's email choice for every kind named in `choices`."""
    unknown = sorted(set(choices) - set(KINDS))
    if unknown:
        raise ValidationFailed("Unknown notification kind.", {"kinds": ", ".join(unknown)})
    with write(session):
        stored = {p.kind: p for p in session.scalars(select(NotificationPreference).where(
            NotificationPreference.user_id == actor.id))}
        for kind, email in choices.items():
            if kind in stored:
                stored[kind].email = bool(email)
            else:
                session.add(NotificationPreference(user_id=actor.id, kind=kind,
                                                   email=bool(email)))
        off = sorted(k for k, v in choices.items() if not v)
        audit.record(session, actor, "notification_preferences_changed",
                     details={"email_off": off})
