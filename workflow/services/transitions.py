"""Advancing a partnership through its workflow."""

from __future__ import annotations

from functools import cache

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from .. import audit
from ..definitions import get_workflow
from ..effects import EFFECTS
from ..engine import check_transition, next_stage
from ..errors import Conflict, ValidationFailed
from ..models import Partnership, utcnow
from ..notifications import notify_transition
from ._base import CONCURRENT_CHANGE, check_version, load_partnership, write

MAX_COMMENT = 5000


@cache
def _load_statement(trigger: str):
    """The partnership and what the trigger's guards and effects read (in every workflow
    that has it), loaded fresh in one statement built once per trigger."""
    from ..definitions import registry
    from ..effects import EFFECT_READS
    from ..guards import GUARD_READS
    from ..queries import load_options

    transitions = [t for wf in registry().values() if (t := wf.transition(trigger))]
    reads = [r for t in transitions for g in t.guards for r in GUARD_READS[g]]
    reads += [r for t in transitions for e in t.effects for r in EFFECT_READS[e]]
    return (select(Partnership).where(Partnership.id == bindparam("partnership_id"))
            .options(*load_options(reads, join_parties=True))
            .execution_options(populate_existing=True))


_table = Partnership.__table__
# Stage, version and times in one conditional UPDATE: it changes the row only while it still
# holds the version the guards were checked against.
_STAGE_CHANGE = (
    update(_table)
    .where(_table.c.id == bindparam("row_id"), _table.c.version == bindparam("loaded_version"))
    .values(stage=bindparam("new_stage"), version=bindparam("new_version"),
            stage_entered_at=bindparam("entered_at"), updated_at=bindparam("entered_at"))
)


def _change_stage(session: Session, partnership: Partnership, checked_version: int,
                  stage: str, now) -> None:
    """Write the stage change, from the version the checks saw, at once and tell the
    session it is saved."""
    version = checked_version + 1
    result = session.connection().execute(_STAGE_CHANGE, {
        "row_id": partnership.id, "loaded_version": checked_version,
        "new_stage": stage, "new_version": version, "entered_at": now})
    if result.rowcount != 1:  # another writer committed since the load
        raise Conflict(CONCURRENT_CHANGE)
    for key, value in (("_stage", stage), ("version", version),
                       ("stage_entered_at", now), ("updated_at", now)):
        set_committed_value(partnership, key, value)


def advance(
    session: Session,
    partnership_id: int,
    trigger: str,
    actor,
    comment: str | None = None,
    expected_version: int | None = None,
    now=None,
) -> Partnership:
    """Fire `trigger` on a partnership: checks, stage change, effects and audit in one commit.

    The partnership and what its guards read are loaded and checked before the write
    begins, so a refused transition never waits for a writer's turn, and on SQLite the
    turn is not held while they load. The write then moves the stage only from the version
    that was checked: every change to a partnership or to what hangs from it (parties,
    clauses, reviews, background IP, checks, waivers, documents) moves its version, so a
    change committed in between makes the stage UPDATE match nothing, which is Conflict.
    The acting user is read again inside the write; if its row changed, the checks run
    again with the stored values.

    The stage change and its audit row are written as soon as the write begins, so effects
    see the new stage; whatever effects and notifications add is flushed at the commit,
    and any error rolls all of it back.
    """
    comment = (comment or "").strip() or None
    if comment and len(comment) > MAX_COMMENT:
        raise ValidationFailed(
            "Comment too long.", {"comment": f"At most {MAX_COMMENT} characters."}
        )
    now = now or utcnow()
    try:
        partnership = load_partnership(session, actor, partnership_id,
                                       statement=_load_statement(trigger))
        check_version(partnership, expected_version)
        transition = check_transition(partnership, trigger, actor, comment, now)
        # What the checks saw: the write moves the stage from exactly this, whatever the
        # session does to the loaded objects in between.
        checked_version, from_stage = partnership.version, partnership.stage
    except BaseException:
        session.rollback()  # a refusal ends the read, as one inside the write would
        raise
    with write(session, keep=actor, expire=False) as actor_changed:
        if actor_changed:
            transition = check_transition(partnership, trigger, actor, comment, now)
        _change_stage(session, partnership, checked_version,
                      next_stage(get_workflow(partnership.workflow_key), from_stage, trigger),
                      now)
        audit.write_now(session, actor, "transition", partnership_id=partnership.id,
                        trigger=trigger, from_stage=from_stage, to_stage=partnership.stage,
                        comment=comment, at=now)
        for name in transition.effects:
            EFFECTS[name](session, partnership, actor, transition)
        if session.is_modified(partnership):
            # Its UPDATE would bump the version a second time for one transition.
            raise RuntimeError(f"effects of {trigger} changed the partnership row")
        # The outbox rows commit or roll back with the stage change.
        notify_transition(session, partnership, actor, transition, from_stage=from_stage,
                          comment=comment)
    return partnership
