"""Domain errors; web/errors.py maps each to one HTTP status."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: a refused request that changed nothing."""

    title = "Request refused"

    def __init__(self, detail: str, reasons: list[str] | None = None, **extra) -> None:
        super().__init__(detail)
        self.detail = detail
        self.reasons = list(reasons or [])
        self.extra = extra


class NotFound(DomainError):
    """The object does not exist or is not visible to the actor (never reveal which)."""

    title = "Not found"


class PermissionDenied(DomainError):
    """The actor's role may not do this."""

    title = "Not allowed for your role"


class Conflict(DomainError):
    """Someone else changed the object first, or the object is not in a state that allows it."""

    title = "Conflict"


class TransitionNotAllowed(Conflict):
    """The trigger does not start from the partnership's current stage."""

    title = "Transition not allowed from the current stage"


class GuardFailed(DomainError):
    """The transition is blocked; `reasons` says why, one reason per failing condition."""

    title = "Blocked"


class ValidationFailed(DomainError):
    """Input is well-formed but not acceptable; `field_errors` maps field to message."""

    title = "Invalid input"

    def __init__(self, detail: str, field_errors: dict[str, str] | None = None, **extra) -> None:
        super().__init__(detail, reasons=list((field_errors or {}).values()), **extra)
        self.field_errors = dict(field_errors or {})
