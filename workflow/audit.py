"""Writing audit events; always in the caller's transaction, never committed here.

The exception is `record_security`: a security event outside a write transaction (a refused
page view, a CSRF failure) is written and committed in its own short transaction. Each event
records the actor, their role and organisation, what happened and its outcome, and the client
address and user agent of the request being served (`request_context`, set by the web layer).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy.orm import Session

from .audit_verify import VerifyResult, verify_chain
from .db import WRITE_OPTION, begin_write
from .models import AuditEvent, utcnow

__all__ = ["RequestMeta", "VerifyResult", "record", "record_security", "request_context",
           "verify_chain"]


@dataclass(frozen=True)
class RequestMeta:
    """Who is on the other end of the request being served."""

    client_address: str | None = None
    user_agent: str | None = None


# Set per request by the web layer (web/audit_context.py); None outside a request.
request_context: ContextVar[RequestMeta | None] = ContextVar("clusterpact_audit_request",
                                                             default=None)


def record(
    session: Session,
    actor,
    action: str,
    *,
    partnership=None,
    trigger: str | None = None,
    from_stage: str | None = None,
    to_stage: str | None = None,
    comment: str | None = None,
    details: dict | None = None,
    at=None,
    outcome: str = "success",
) -> AuditEvent:
    """Add one audit event for `actor` doing `action` to the session."""
    meta = request_context.get() or RequestMeta()
    event = AuditEvent(
        occurred_at=at or utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_role=getattr(actor, "role", None) or "anonymous",
        organisation_id=getattr(actor, "organisation_id", None),
        client_address=meta.client_address,
        user_agent=meta.user_agent,
        action=action,
        outcome=outcome,
        trigger=trigger,
        from_stage=from_stage,
        to_stage=to_stage,
        comment=comment,
        details=details,
    )
    if partnership is not None:
        # The id when known (cheaper than the relationship); the object for a new row.
        if partnership.id is not None:
            event.partnership_id = partnership.id
        else:
            event.partnership = partnership
    session.add(event)
    return event


@dataclass(frozen=True)
class _Actor:
    """The audited fields of an actor, read before a rollback could expire them."""

    id: int | None
    role: str
    organisation_id: int | None


def record_security(session: Session, action: str, *, actor=None, outcome: str,
                    details: dict | None = None) -> AuditEvent:
    """Record a security event (failed login, refused access, CSRF failure, rejected upload).

    Inside a write transaction the event joins it and commits with it; otherwise it is
    written and committed at once in its own short transaction (a read transaction the
    session had open, e.g. from loading the logged-in user, is ended first).
    `details` must never hold a password, token, code or cookie.
    """
    who = _Actor(getattr(actor, "id", None), getattr(actor, "role", None) or "anonymous",
                 getattr(actor, "organisation_id", None))
    joined = session.in_transaction() and bool(
        session.connection().get_execution_options().get(WRITE_OPTION))
    begin_write(session)
    try:
        event = record(session, who, action, outcome=outcome, details=details)
        if not joined:
            session.commit()
    except BaseException:
        if not joined:
            session.rollback()
        raise
    return event
