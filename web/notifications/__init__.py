"""In-app notifications: the bell, the list with read marks, email choices per kind."""

from .views import bp

__all__ = ["bp"]
