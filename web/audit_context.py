"""Request metadata for audit events, and security events raised by the web layer.

The client address is `request.remote_addr`: the proxy's address unless ProxyFix is
configured for the proxies in front of the app, never a header the client chose.
"""

from __future__ import annotations

from flask import current_app, g, request

from workflow import audit

MAX_USER_AGENT = 255


def init_audit_context(app) -> None:
    """Make every request's client address and user agent available to audit.record."""

    @app.before_request
    def _set_request_meta():
        meta = audit.RequestMeta(
            client_address=(request.remote_addr or "")[:64] or None,
            user_agent=(request.user_agent.string or "")[:MAX_USER_AGENT] or None,
        )
        g._audit_meta_token = audit.request_context.set(meta)

    @app.teardown_request
    def _clear_request_meta(_exc=None):
        token = g.pop("_audit_meta_token", None)
        if token is not None:
            audit.request_context.reset(token)


def security_event(action: str, outcome: str, actor=None, **details) -> None:
    """Record a security event for the current request; never fail the response over it."""
    from .db import get_db

    try:
        audit.record_security(get_db(), action, actor=actor if actor is not None else
                              current_actor(), outcome=outcome, details=details or None)
    except Exception:  # noqa: BLE001 - the error page must still be served
        current_app.logger.warning("Could not record the security event %s", action)


def current_actor():
    """The user making the request (API token owner or logged-in user), or None."""
    user = g.get("api_user")
    if user is not None:
        return user
    from flask_login import current_user

    try:
        return current_user if current_user.is_authenticated else None
    except Exception:  # noqa: BLE001 - e.g. the database is down: record without an actor
        return None


# Path parts that are credentials (a calendar feed's address): recorded as the rule only.
SECRET_ARGS = {"token", "secret"}


def request_details(**extra) -> dict:
    """What was asked: method, endpoint and path (never the query string, nor a path that
    carries a credential)."""
    path = request.path
    if SECRET_ARGS & set(request.view_args or {}) and request.url_rule is not None:
        path = request.url_rule.rule
    return {"method": request.method, "endpoint": request.endpoint, "path": path[:300], **extra}


def audit_refusal(status: int) -> None:
    """Record a refused access: 403, or 404 for a record that is missing or not visible."""
    if status in (403, 404) and request.url_rule is not None and not (
            request.endpoint or "").endswith(".fallback"):
        security_event("access_refused", "denied", **request_details(status=status))


def audit_http_error(error) -> None:
    """Record the security-relevant HTTP errors: CSRF failures, oversized uploads, refusals."""
    from flask_wtf.csrf import CSRFError

    if isinstance(error, CSRFError):
        security_event("csrf_failed", "denied", **request_details(reason=error.description))
    elif error.code == 413:
        security_event("upload_rejected", "rejected",
                       **request_details(status=413, reason="larger than allowed"))
    else:
        audit_refusal(error.code or 0)


def audit_api_problem(status: int, headers: dict) -> None:
    """Record API refusals: an unknown, expired or revoked token, an oversized upload."""
    if status == 401 and "invalid_token" in headers.get("WWW-Authenticate", ""):
        security_event("api_token_rejected", "denied", **request_details())
    elif status == 413:
        security_event("upload_rejected", "rejected",
                       **request_details(status=413, reason="larger than allowed"))
