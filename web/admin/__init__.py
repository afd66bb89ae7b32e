"""Administration: clause library versions, country-risk tiers and safeguard rules."""

from .views import bp

__all__ = ["bp"]
