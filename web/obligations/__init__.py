"""IPR clocks on the partnership page: obligations, publications and objections."""

from .views import bp, clocks_section

__all__ = ["bp", "clocks_section"]
