"""The calendar feed: a user's secret .ics address and the page that manages it."""

from .views import bp

__all__ = ["bp"]
