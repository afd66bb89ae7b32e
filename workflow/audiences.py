"""Who is told about a partnership: named audiences used by `notify:` in workflow definitions.

An audience returns recipients for `workflow.notifications.notify`: users, or the email
address of a party's signatory (who may have no account).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import AuditEvent, Partnership, User
from .roles import LEGAL, PARTNER

Audience = Callable[[Session, Partnership], list]


def owner(session: Session, partnership: Partnership) -> list:
    """The coordinator who owns the partnership."""
    return [partnership.owner]


def legal_advisors(session: Session, partnership: Partnership) -> list:
    """Every active legal advisor (any of them may take the review)."""
    return list(session.scalars(
        select(User).where(User.role == LEGAL, User.active.is_(True)).order_by(User.id)))


def signatories(session: Session, partnership: Partnership) -> list:
    """Each party's signatory, by email address (an account is found if there is one)."""
    return [p.signatory_email for p in partnership.parties if p.signatory_email]


def partner_users(session: Session, partnership: Partnership) -> list:
    """Active partner users of the organisations that are parties."""
    orgs = [p.organisation_id for p in partnership.parties]
    if not orgs:
        return []
    return list(session.scalars(
        select(User).where(User.role == PARTNER, User.active.is_(True),
                           User.organisation_id.in_(orgs)).order_by(User.id)))


def participants(session: Session, partnership: Partnership) -> list:
    """Users who acted on the partnership (reviewers, approvers, uploaders...)."""
    ids = select(AuditEvent.actor_id).where(
        AuditEvent.partnership_id == partnership.id, AuditEvent.actor_id.is_not(None)
    ).distinct()
    return list(session.scalars(select(User).where(User.id.in_(ids)).order_by(User.id)))


def everyone(session: Session, partnership: Partnership) -> list:
    """Owner, partner users, signatories and everyone who acted on the partnership."""
    return [*owner(session, partnership), *partner_users(session, partnership),
            *signatories(session, partnership), *participants(session, partnership)]


AUDIENCES: dict[str, Audience] = {
    "owner": owner,
    "legal_advisors": legal_advisors,
    "signatories": signatories,
    "partner_users": partner_users,
    "participants": participants,
    "everyone": everyone,
}


def recipients(session: Session, partnership: Partnership, names, *, exclude=None) -> list:
    """The recipients of the named audiences, without `exclude` (the actor)."""
    found = [r for name in names for r in AUDIENCES[name](session, partnership)]
    if exclude is None or getattr(exclude, "id", None) is None:
        return found
    email = exclude.email.lower()
    return [r for r in found
            if not (isinstance(r, str) and r.strip().lower() == email)
            and not (isinstance(r, User) and r.id == exclude.id)]
