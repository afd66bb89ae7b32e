"""Advancing a partnership through its workflow."""

from __future__ import annotations

from functools import cache

from sqlalchemy.orm import Session

from .. import audit
from ..definitions import get_workflow
from ..effects import EFFECTS
from ..engine import check_transition, fire
from ..errors import ValidationFailed
from ..models import Partnership, utcnow
from ..notifications import notify_transition
from ._base import check_version, load_partnership, write

MAX_COMMENT = 5000


@cache
def _trigger_options(trigger: str) -> list:
    """Eager loads for what the trigger's guards read, in every workflow that has it."""
    from ..definitions import registry
    from ..guards import GUARD_READS
    from ..queries import load_options

    reads = [r for wf in registry().values() if (t := wf.transition(trigger))
             for g in t.guards for r in GUARD_READS[g]]
    return load_options(reads)


def advance(
    session: Session,
    partnership_id: int,
    trigger: str,
    actor,
    comment: str | None = None,
    expected_version: int | None = None,
    now=None,
) -> Partnership:
    """Fire `trigger` on a partnership: checks, stage change, effects and audit in one commit."""
    comment = (comment or "").strip() or None
    if comment and len(comment) > MAX_COMMENT:
        raise ValidationFailed(
            "Comment too long.", {"comment": f"At most {MAX_COMMENT} characters."}
        )
    now = now or utcnow()
    with write(session):
        partnership = load_partnership(session, actor, partnership_id,
                                       _trigger_options(trigger))
        check_version(partnership, expected_version)
        transition = check_transition(partnership, trigger, actor, comment, now)
        from_stage = partnership.stage
        fire(partnership, get_workflow(partnership.workflow_key), trigger)
        partnership.stage_entered_at = now
        partnership.touch(now)
        for name in transition.effects:
            EFFECTS[name](session, partnership, actor, transition)
        # The outbox rows commit or roll back with the stage change.
        notify_transition(session, partnership, actor, transition, from_stage=from_stage,
                          comment=comment)
        audit.record(
            session,
            actor,
            "transition",
            partnership=partnership,
            trigger=trigger,
            from_stage=from_stage,
            to_stage=partnership.stage,
            comment=comment,
            at=now,
        )
    return partnership
