"""Partnership pages: list, detail, create, edit parties and checklist, transitions."""

from .views import bp

__all__ = ["bp"]
