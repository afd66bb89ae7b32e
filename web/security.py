"""Security headers on every response, error pages included, and the trusted proxy setting."""

from __future__ import annotations

from flask import request
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
UNTRUSTED_HOST_PAGE = ("<!doctype html><html lang=\"en\"><title>Bad request</title>"
                       "<h1>Bad request</h1><p>This site is not served under that host name."
                       "</p></html>")


def init_proxy_fix(app) -> None:
    """Trust X-Forwarded-For/-Proto from exactly TRUSTED_PROXIES proxies (none by default):
    the client address the throttle counts cannot be chosen by the client."""
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)


def init_security_headers(app) -> None:
    """Add CSP, nosniff, referrer policy, frame protection, HSTS and cache rules."""
    init_proxy_fix(app)
    production = app.config.get("ENV_NAME") == "production"

    @app.errorhandler(SecurityError)
    def _untrusted_host(_error):
        # A Host header outside TRUSTED_HOSTS: no URL can be built for it, so no templates.
        return UNTRUSTED_HOST_PAGE, 400, {"Content-Type": "text/html; charset=utf-8"}

    @app.after_request
    def _headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if production:
            h.setdefault("Strict-Transport-Security", HSTS)
        # Pages, downloads and API answers are per user (and carry CSRF tokens): no cache may
        # keep them. Only the static files are shared.
        if request.endpoint != "static" and "no-store" not in h.get("Cache-Control", ""):
            h["Cache-Control"] = "no-store"
        return response
