"""Effects: work a transition does after the stage change, inside the same transaction.

An effect receives (session, partnership, actor, transition) and must not commit. Effects
that need the document layer (rendering, certification) are declared here by name and bound
by contracts/ when the application starts; an unbound effect fails loudly, it never passes
silently.
"""

from __future__ import annotations

from collections.abc import Callable

Effect = Callable[..., None]
EFFECTS: dict[str, Effect] = {}
# The relationships each effect walks (names as in guards' `reads`), loaded with the
# partnership before the transition runs instead of one lazy query at a time.
EFFECT_READS: dict[str, tuple[str, ...]] = {}


class EffectNotBound(RuntimeError):
    """A declared effect ran before its implementation was bound."""


def effect(name: str, reads: tuple[str, ...] = ()):
    """Register an effect implemented in the domain under `name`."""

    def register(fn: Effect) -> Effect:
        EFFECTS[name] = fn
        EFFECT_READS[name] = reads
        return fn

    return register


def declare_effect(name: str, reads: tuple[str, ...] = ()) -> None:
    """Declare an effect whose implementation another layer binds with `bind_effect`."""

    def unbound(*_args, **_kwargs):
        raise EffectNotBound(f"effect {name!r} has no implementation bound")

    EFFECTS.setdefault(name, unbound)
    EFFECT_READS[name] = reads


def bind_effect(name: str, fn: Effect) -> None:
    """Bind the implementation of a declared effect."""
    if name not in EFFECTS:
        raise KeyError(f"effect {name!r} is not declared")
    EFFECTS[name] = fn


# The agreement's text is built from the parties (with their background IP) and clauses.
AGREEMENT_READS = ("parties.assets", "clauses")
# approve: freeze and issue the certified PDF
declare_effect("issue_agreement", reads=AGREEMENT_READS)
# submit_for_review: lay out the candidate PDF early
declare_effect("prepare_agreement", reads=AGREEMENT_READS)
declare_effect("issue_evidence_report")  # complete: the certificate of completion


@effect("supersede_issued")
def supersede_issued(session, partnership, actor, transition) -> None:
    """Reopening keeps the issued PDF but marks it superseded (never deleted)."""
    from .services.documents import supersede_current

    supersede_current(session, partnership, actor)


@effect("schedule_obligations")
def schedule_obligations(session, partnership, actor, transition) -> None:
    """Activation starts the IPR clocks the chosen clauses set (one obligation each)."""
    from .services.obligations import schedule_obligations as schedule

    schedule(session, partnership, actor)


@effect("end_obligations")
def end_obligations(session, partnership, actor, transition) -> None:
    """Termination ends the agreement today: the clocks that count from the end move."""
    from .services.obligations import schedule_obligations as schedule

    schedule(session, partnership, actor, ended_on=partnership.stage_entered_at.date())
