"""Writing audit events; always in the caller's transaction, never committed here.

The exception is `record_security`: a security event outside a write transaction (a refused
page view, a CSRF failure) is written and committed in its own short transaction. Each event
records the actor, their role and organisation, what happened and its outcome, and the client
address and user agent of the request being served (`request_context`, set by the web layer).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.orm import Session

from .audit_verify import VerifyResult, verify_chain
from .db import WRITE_OPTION, begin_write
from .models import AuditEvent, utcnow
from .models.audit_chain import append

__all__ = ["RequestMeta", "VerifyResult", "record", "record_security", "request_context",
           "verify_chain", "write_now"]


@dataclass(frozen=True)
class RequestMeta:
    """Who is on the other end of the request being served."""

    client_address: str | None = None
    user_agent: str | None = None


# Set per request by the web layer (web/audit_context.py); None outside a request.
request_context: ContextVar[RequestMeta | None] = ContextVar("clusterpact_audit_request",
                                                             default=None)


def _fields(actor, action: str, *, partnership_id=None, trigger=None, from_stage=None,
            to_stage=None, comment=None, details=None, at=None, outcome="success") -> dict:
    meta = request_context.get() or RequestMeta()
    return {
        "occurred_at": at or utcnow(),
        "actor_id": getattr(actor, "id", None),
        "actor_role": getattr(actor, "role", None) or "anonymous",
        "organisation_id": getattr(actor, "organisation_id", None),
        "client_address": meta.client_address,
        "user_agent": meta.user_agent,
        "action": action,
        "outcome": outcome,
        "partnership_id": partnership_id,
        "trigger": trigger,
        "from_stage": from_stage,
        "to_stage": to_stage,
        "comment": comment,
        "details": details,
    }


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
    event = AuditEvent(**_fields(actor, action, trigger=trigger, from_stage=from_stage,
                                 to_stage=to_stage, comment=comment, details=details, at=at,
                                 outcome=outcome))
    if partnership is not None:
        # The id when known (cheaper than the relationship); the object for a new row.
        if partnership.id is not None:
            event.partnership_id = partnership.id
        else:
            event.partnership = partnership
    session.add(event)
    return event


_INSERT = insert(AuditEvent.__table__)  # one statement object: compiled and keyed once


def write_now(session: Session, actor, action: str, **fields) -> None:
    """Insert one audit event at once, in the session's write transaction, through Core.

    The same row `record` adds (same fields, same chain link), without the unit of work: for
    the hot path of a transition. Rows `record` adds later in the transaction follow it in
    the chain. Takes `record`'s keyword fields, with `partnership_id` for `partnership`.
    """
    values = _fields(actor, action, **fields)
    connection = session.connection()
    values["row_hash"] = append(connection, values)
    connection.execute(_INSERT, values)


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
