"""Login (password, then second factor), logout, the session policy and the user's own
security settings."""

from . import account  # noqa: F401  (registers the account pages on bp)
from .views import bp

__all__ = ["bp"]
