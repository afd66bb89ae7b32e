"""Clause editing, the background-IP register, the agreement preview and rebasing."""

from .views import bp

__all__ = ["bp"]
