"""The JSON API under /api/v1 (bearer tokens, problem+json, OpenAPI 3.1) and the page where
users manage their API tokens.

`bp` is registered by the app factory; it nests `v1`, the API itself (exempt from CSRF
because it authenticates every call by bearer token and never by the session cookie), and
`ui`, the token page (a normal, CSRF-protected browser page).
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__)
v1 = Blueprint("v1", __name__, url_prefix="/api/v1")


def _assemble() -> None:
    from . import views_content, views_documents, views_meta, views_partnerships  # noqa: F401
    from .auth import authenticate, check_body, partnership_visible
    from .errors import register_error_handlers
    from .ui import ui

    v1.before_request(authenticate)
    v1.before_request(partnership_visible)
    v1.before_request(check_body)
    v1.after_request(_no_store)
    register_error_handlers(v1)
    bp.register_blueprint(v1)
    bp.register_blueprint(ui)


def _no_store(response):
    """API answers are per caller: never cached by shared caches."""
    response.headers.setdefault("Cache-Control", "no-store")
    return response


_assemble()
