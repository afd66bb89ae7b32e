"""Legal review: the queue, clause-by-clause decisions, waivers and comments."""

from .views import bp

__all__ = ["bp"]
