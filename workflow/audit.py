"""Writing audit events; always in the caller's transaction, never committed here."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .models import AuditEvent, utcnow


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
) -> AuditEvent:
    """Add one audit event for `actor` doing `action` to the session."""
    event = AuditEvent(
        occurred_at=at or utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_role=getattr(actor, "role", "anonymous"),
        action=action,
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
