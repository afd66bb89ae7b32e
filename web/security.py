"""Security headers on every response, error pages included."""

from __future__ import annotations

from flask import request
from flask_login import current_user

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def init_security_headers(app) -> None:
    """Add CSP, nosniff, referrer policy, frame protection, HSTS and cache rules."""

    @app.after_request
    def _headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("X-Frame-Options", "DENY")
        if app.config.get("ENV_NAME") == "production":
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if not request.path.startswith("/static/") and current_user.is_authenticated:
            h["Cache-Control"] = "no-store"
        return response
