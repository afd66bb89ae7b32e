"""Per-user calendar feeds: a secret address per user (stored hashed, revocable) and the
events it lists (the user's obligations and the stage due dates of their partnerships)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import Session, joinedload

from .. import audit
from ..definitions import get_workflow, registry
from ..models import CalendarFeed, Obligation, Partnership, User, utcnow
from ..obligations import KIND_LABELS
from ._base import write
from .obligations import concerning
from .tokens import hash_secret

FEED_PREFIX = "cpc_"
MAX_EVENTS = 500
HISTORY = timedelta(days=180)  # closed clocks stay in the calendar this long


@dataclass(frozen=True)
class IssuedFeed:
    secret: str  # shown once, never stored
    record: CalendarFeed


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    day: date
    summary: str
    description: str
    path: str  # the page on this site, e.g. /partnerships/12#obligations


def active_feed(session: Session, user) -> CalendarFeed | None:
    """The user's calendar address in use, if any."""
    return session.scalar(select(CalendarFeed).where(
        CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None))
        .order_by(CalendarFeed.id.desc()).limit(1))


def create_feed(session: Session, actor, now: datetime | None = None) -> IssuedFeed:
    """Give the actor a new calendar address; any previous one stops working."""
    now = now or utcnow()
    secret = FEED_PREFIX + secrets.token_urlsafe(32)
    with write(session):
        _revoke_all(session, actor, now)
        feed = CalendarFeed(user_id=actor.id, token_hash=hash_secret(secret),
                            hint=secret[:len(FEED_PREFIX) + 6], created_at=now)
        session.add(feed)
        session.flush()
        audit.record(session, actor, "calendar_feed_created",
                     details={"feed_id": feed.id, "hint": feed.hint}, at=now)
    return IssuedFeed(secret, feed)


def revoke_feed(session: Session, actor, now: datetime | None = None) -> int:
    """Stop the actor's calendar address; return how many were revoked (0 or 1)."""
    now = now or utcnow()
    with write(session):
        count = _revoke_all(session, actor, now)
        if count:
            audit.record(session, actor, "calendar_feed_revoked", at=now)
    return count


def _revoke_all(session: Session, actor, now: datetime) -> int:
    # The user's row is locked first (PostgreSQL; SQLite's writer already excludes others),
    # so two new addresses asked for at once leave one working: the second revokes the first.
    session.scalar(select(User.id).where(User.id == actor.id).with_for_update())
    feeds = session.scalars(select(CalendarFeed).where(
        CalendarFeed.user_id == actor.id, CalendarFeed.revoked_at.is_(None))).all()
    for feed in feeds:
        feed.revoked_at = now
    return len(feeds)


def feed_user(session: Session, secret: str) -> User | None:
    """The active user a calendar secret belongs to, or None (unknown or revoked)."""
    if not secret.startswith(FEED_PREFIX) or len(secret) > 100:
        return None
    feed = session.scalar(select(CalendarFeed).where(
        CalendarFeed.token_hash == hash_secret(secret), CalendarFeed.revoked_at.is_(None)))
    if feed is None or not feed.user.active:
        return None
    return feed.user


def feed_events(session: Session, user, today: date) -> list[FeedEvent]:
    """The user's clocks (open, or closed in the last months) and their stage due dates."""
    rows = session.scalars(
        concerning(user).where(Obligation.status != "cancelled",
                               (Obligation.status == "open")
                               | (Obligation.due_on >= today - HISTORY))
        .options(joinedload(Obligation.partnership))
        .order_by(Obligation.due_on, Obligation.id).limit(MAX_EVENTS)).all()
    events = [_obligation_event(o) for o in rows]
    events += _stage_events(session, user, MAX_EVENTS - len(events))
    return events


def _obligation_event(o: Obligation) -> FeedEvent:
    p = o.partnership
    state = "" if o.status == "open" else f" [{o.status}]"
    return FeedEvent(
        uid=f"obligation-{o.id}@clusterpact", day=o.due_on,
        summary=f"{p.reference}: {o.title}{state}",
        description=(f"{KIND_LABELS.get(o.kind, o.kind)}, due {o.due_on.isoformat()}.\n"
                     f"Partnership {p.reference} \"{p.title}\"."),
        path=f"/partnerships/{p.id}#obligations")


def _stage_events(session: Session, user, limit: int) -> list[FeedEvent]:
    if limit <= 0:
        return []
    timed = [and_(Partnership.workflow_key == wf.key,
                  Partnership._stage.in_([s.name for s in wf.states if s.due_in_days]))
             for wf in registry().values()]
    owned = session.scalars(select(Partnership).where(Partnership.owner_id == user.id,
                                                      or_(false(), *timed))
                            .order_by(Partnership.stage_entered_at, Partnership.id)
                            .limit(limit)).all()
    events = []
    for p in owned:
        state = get_workflow(p.workflow_key).state(p.stage)
        if state is None or state.terminal or not state.due_in_days:
            continue
        due = (p.stage_entered_at + timedelta(days=state.due_in_days)).date()
        events.append(FeedEvent(
            uid=f"stage-{p.id}-{p.stage}-{int(p.stage_entered_at.timestamp())}@clusterpact",
            day=due, summary=f"{p.reference}: {state.label} due",
            description=(f"Stage \"{state.label}\" of partnership {p.reference} "
                         f"\"{p.title}\" is due on {due.isoformat()}."),
            path=f"/partnerships/{p.id}"))
    return events
