"""Agreement PDFs: drafts, issued versions, signed copies, wet-ink attestations."""

from .views import bp

__all__ = ["bp"]
