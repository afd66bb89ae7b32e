"""The workflow engine: `transitions` machines built once per workflow definition.

The machine never sees an ORM row. Each advance runs the trigger on a short-lived `_Flow`
holding the current stage and reads the new stage back, so loading a row can never reset
its stage (transitions' add_model sets the model to `initial`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from transitions import Machine

from .definitions import TransitionDef, WorkflowDef, get_workflow
from .errors import GuardFailed, PermissionDenied, TransitionNotAllowed, ValidationFailed
from .guards import GUARDS, GuardContext
from .models import utcnow


@dataclass(frozen=True)
class TransitionOption:
    """One trigger from the current stage and whether `actor` may fire it now."""

    trigger: str
    label: str
    dest: str
    allowed: bool
    reasons: tuple[str, ...]
    requires_comment: bool
    role_allowed: bool


class _Flow:
    """The machine's model: a stage held apart from any row while one trigger runs."""

    def __init__(self, stage: str) -> None:
        self.state = stage


@cache
def machine_for(workflow_key: str) -> Machine:
    """Return the cached machine of a workflow (no models attached between calls)."""
    wf = get_workflow(workflow_key)
    return Machine(
        model=None,
        states=list(wf.state_names),
        initial=wf.initial,
        transitions=[
            {"trigger": t.trigger, "source": list(t.sources), "dest": t.dest}
            for t in wf.transitions
        ],
        auto_transitions=False,
        send_event=False,
    )


def role_reason(transition: TransitionDef, role: str) -> str | None:
    """Say why `role` may not fire `transition`, or None if it may."""
    if role in transition.roles:
        return None
    who = " or ".join(sorted(transition.roles))
    return f"Only a {who} can {transition.label.lower()}."


def guard_reasons(transition: TransitionDef, ctx: GuardContext) -> list[str]:
    """Collect the reasons of every failing guard of `transition`."""
    reasons: list[str] = []
    for name in transition.guards:
        reasons.extend(GUARDS[name](ctx))
    return reasons


def risk_loader_for(partnership):
    """A loader of the partnership's country-risk data that queries at most once."""
    cache = []

    def load():
        if not cache:
            from sqlalchemy.orm import object_session

            from .risk import load_risk

            session = object_session(partnership)
            if session is None:
                raise RuntimeError("country-risk data needs a partnership bound to a session")
            cache.append(load_risk(session, partnership))
        return cache[0]

    return load


def available_transitions(partnership, actor, now=None, risk_loader=None
                          ) -> list[TransitionOption]:
    """Every trigger from the partnership's stage, allowed or not, with the reasons."""
    wf = get_workflow(partnership.workflow_key)
    ctx = GuardContext(partnership, actor, wf, None, now or utcnow(),
                       risk_loader or risk_loader_for(partnership))
    options = []
    for t in wf.transitions_from(partnership.stage):
        reasons = []
        denied = role_reason(t, actor.role)
        if denied:
            reasons.append(denied)
        reasons.extend(guard_reasons(t, ctx))
        options.append(
            TransitionOption(
                trigger=t.trigger,
                label=t.label,
                dest=t.dest,
                allowed=not reasons,
                reasons=tuple(reasons),
                requires_comment=t.requires_comment,
                role_allowed=denied is None,
            )
        )
    return options


def check_transition(partnership, trigger: str, actor, comment=None, now=None,
                     risk_loader=None) -> TransitionDef:
    """Decide whether `actor` may fire `trigger` now; raise the domain error that says why not.

    Order: unknown trigger (422), wrong stage (409), wrong role (403), guards and the
    required comment (422, every reason at once).
    """
    wf = get_workflow(partnership.workflow_key)
    transition = wf.transition(trigger)
    if transition is None:
        raise ValidationFailed(
            f"'{trigger}' is not a step of the {wf.label} workflow.", {"trigger": "Unknown."}
        )
    if partnership.stage not in transition.sources:
        raise TransitionNotAllowed(
            f"{transition.label} is not possible from stage "
            f"'{wf.state(partnership.stage).label}'.",
            current_stage=partnership.stage,
        )
    denied = role_reason(transition, actor.role)
    if denied:
        raise PermissionDenied(denied)
    ctx = GuardContext(partnership, actor, wf, comment, now or utcnow(),
                       risk_loader or risk_loader_for(partnership))
    reasons = guard_reasons(transition, ctx)
    if transition.requires_comment and not comment:
        reasons.append("A comment is required for this step.")
    if reasons:
        raise GuardFailed(f"{transition.label} is blocked.", reasons)
    return transition


def next_stage(workflow: WorkflowDef, stage: str, trigger: str) -> str:
    """Run `trigger` from `stage` through the workflow's cached machine; return the new stage.

    The event is fired on a fresh wrapper without registering it as a model: registration
    (`add_model`) would reset the stage to `initial` and costs more than the transition.
    """
    flow = _Flow(stage)
    if not machine_for(workflow.key).events[trigger].trigger(flow):
        raise RuntimeError(f"machine refused {trigger} from {stage}")
    return flow.state


def fire(partnership, workflow: WorkflowDef, trigger: str) -> None:
    """Run `trigger` on a partnership object in memory, changing its stage (nothing saved)."""
    partnership._stage = next_stage(workflow, partnership.stage, trigger)
