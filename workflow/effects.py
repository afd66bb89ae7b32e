"""Effects: work a transition does after the stage change, inside the same transaction.

An effect receives (session, partnership, actor, transition) and must not commit.
Effects are registered by the features that own them (e.g. issuing the agreement PDF).
"""

from __future__ import annotations

from collections.abc import Callable

Effect = Callable[..., None]
EFFECTS: dict[str, Effect] = {}


def effect(name: str):
    """Register an effect under `name`."""

    def register(fn: Effect) -> Effect:
        EFFECTS[name] = fn
        return fn

    return register
