"""Writing notifications into the outbox, always in the caller's transaction.

`notify()` adds one row per recipient; the relay (workflow/services/outbox.py) delivers
them by email later, and the bell shows a user's rows in the app. Because the rows are
written by the same transaction as the change they report, a change that rolls back
leaves no notification behind.

Email text comes from templates/email/<kind>.txt: the first line is the subject, the rest
the body. Templates are plain text (no autoescape); the subject is forced onto one line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from .models import Notification, User, utcnow
from .roles import is_staff

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "email"

# kind -> label on the preferences page. Every kind needs templates/email/<kind>.txt.
KINDS: dict[str, str] = {
    "submitted_for_review": "A partnership is submitted for legal review",
    "changes_requested": "Legal review asks for changes to your partnership",
    "approved": "Your partnership's agreement is approved",
    "sent_for_signature": "An agreement is ready for signature",
    "signed_copy_accepted": "A signed copy is accepted",
    "signed_copy_rejected": "A signed copy is rejected",
    "signed_copy_manual_review": "A signed copy needs a coordinator's review",
    "activated": "A partnership becomes active",
    "clause_changes_requested": "Legal review asks for changes to a clause of your partnership",
    # IPR clocks and stage deadlines (workflow/services/clocks.py, publications.py)
    "stage_overdue": "A partnership you own is past its stage's due date",
    "obligation_reminder": "An obligation or IPR clock is coming due",
    "publication_registered": "Another party announces a publication",
    "publication_objection": "A party objects to a publication",
}

MAX_SUBJECT = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")


class UnknownKind(ValueError):
    """A notification kind without a label in KINDS."""


@cache
def _environment() -> Environment:
    # Text mail, not HTML: no autoescape. StrictUndefined makes a missing value an error
    # in the writing transaction (which then rolls back) instead of an empty phrase.
    return Environment(  # nosec B701
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=False,  # noqa: S701  (text/plain mail; the subject is sanitised below)
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def single_line(text: str, limit: int = MAX_SUBJECT) -> str:
    """Collapse CR, LF and other control characters to spaces and cut to `limit`."""
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@cache
def _templates(kind: str):
    """The subject and body templates of `kind`: the file's first line and the rest.

    They are compiled apart so a line break inside a value (a title) cannot end the
    subject early and push the rest of it into the body.
    """
    env = _environment()
    source, _, _ = env.loader.get_source(env, f"{kind}.txt")
    subject, _, body = source.partition("\n")
    return env.from_string(subject), env.from_string(body)


def render(kind: str, context: dict) -> tuple[str, str]:
    """Render the (subject, body) of a notification of `kind`."""
    if kind not in KINDS:
        raise UnknownKind(f"notification kind {kind!r} is not in KINDS")
    subject, body = _templates(kind)
    return single_line(subject.render(**context)), body.render(**context).strip() + "\n"


def _check_link(link: str | None) -> str | None:
    if link is None:
        return None
    if not link.startswith("/") or link.startswith("//") or "\\" in link or _CONTROL.search(link):
        raise ValueError(f"link must be a path on this site, got {link!r}")
    return link


def _resolve(session: Session, recipients: Iterable) -> tuple[list[User], list[str]]:
    """Split recipients into distinct active users and addresses without an account.

    A recipient is a User or an email address (a party's signatory). An address that
    belongs to an account becomes that user, so they also see it in the app; an address
    of a deactivated account is dropped like the account.
    """
    users: dict[int, User] = {}
    addresses: set[str] = set()
    for r in recipients:
        if r is None:
            continue
        if isinstance(r, str):
            # Lower case, like account emails: one person, one row, one dedupe key.
            address = r.strip().lower()
            if address and "@" in address and not _CONTROL.search(address):
                addresses.add(address)
        elif r.active:
            users.setdefault(r.id, r)
    if addresses:
        known = session.scalars(
            select(User).where(func.lower(User.email).in_(sorted(addresses)))
        ).all()
        for user in known:
            addresses.discard(user.email.lower())
            if user.active:
                users.setdefault(user.id, user)
    return list(users.values()), sorted(addresses)


def _already_sent(session: Session, dedupe_key: str, user_ids, addresses) -> tuple[set, set]:
    """Recipients that already have a row with `dedupe_key` (stored or pending here)."""
    seen_users: set[int] = set()
    seen_addresses: set[str] = set()
    conditions = []
    if user_ids:
        conditions.append(Notification.user_id.in_(user_ids))
    if addresses:
        conditions.append(Notification.to_email.in_(addresses))
    if conditions:
        for uid, address in session.execute(
            select(Notification.user_id, Notification.to_email).where(
                Notification.dedupe_key == dedupe_key, or_(*conditions))
        ):
            seen_users.add(uid)
            seen_addresses.add(address)
    for obj in session.new:
        if isinstance(obj, Notification) and obj.dedupe_key == dedupe_key:
            seen_users.add(obj.user_id)
            seen_addresses.add(obj.to_email)
    return seen_users, seen_addresses


def notify(
    session: Session,
    recipients,
    kind: str,
    context: dict,
    *,
    partnership=None,
    link: str | None = None,
    dedupe_key: str | None = None,
) -> list[Notification]:
    """Add one notification of `kind` per distinct active recipient; never commits."""
    if kind not in KINDS:
        raise UnknownKind(f"notification kind {kind!r} is not in KINDS")
    link = _check_link(link)
    users, addresses = _resolve(session, recipients)
    if dedupe_key is not None:
        seen_users, seen_addresses = _already_sent(
            session, dedupe_key, [u.id for u in users], addresses)
        users = [u for u in users if u.id not in seen_users]
        addresses = [a for a in addresses if a not in seen_addresses]
    if partnership is not None and partnership.id is None:
        session.flush()
    base = dict(context)
    if partnership is not None:
        base.setdefault("partnership", partnership)
    now = utcnow()
    rows = []
    targets = [(u, None) for u in users] + [(None, a) for a in addresses]
    for user, address in targets:
        subject, body = render(kind, {
            **base,
            "recipient_name": user.display_name if user else None,
            "has_account": user is not None,
            # Internal text (transition comments) is for staff only, as on the pages.
            "recipient_is_staff": user is not None and is_staff(user.role),
        })
        row = Notification(
            user_id=user.id if user else None, to_email=address, kind=kind,
            partnership_id=partnership.id if partnership is not None else None,
            subject=subject, body=body, link=link, created_at=now, next_attempt_at=now,
            email_status="pending", attempts=0, dedupe_key=dedupe_key)
        session.add(row)
        rows.append(row)
    return rows


def notify_transition(session: Session, partnership, actor, transition, *, from_stage: str,
                      comment: str | None = None) -> list[Notification]:
    """Write the notifications a transition's `notify:` names, without the actor."""
    if not transition.notify:
        return []
    from .audiences import recipients
    from .definitions import get_workflow

    workflow = get_workflow(partnership.workflow_key)
    context = {
        "actor_name": getattr(actor, "display_name", "System"),
        "owner_name": partnership.owner.display_name,
        "transition_label": transition.label,
        "from_stage_label": workflow.state(from_stage).label,
        "to_stage_label": workflow.state(partnership.stage).label,
        "comment": comment,
    }
    rows = []
    for entry in transition.notify:
        rows += notify(session, recipients(session, partnership, entry.to, exclude=actor),
                       entry.kind, context, partnership=partnership,
                       link=f"/partnerships/{partnership.id}")
    return rows
