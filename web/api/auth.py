"""Bearer-token authentication and request-shape checks for every API call.

The API never reads the session cookie: a browser session alone authorises nothing here,
which is why the blueprint can be exempt from CSRF.
"""

from __future__ import annotations

from flask import current_app, g, request
from werkzeug.exceptions import BadRequest

from workflow.access import is_visible
from workflow.errors import NotFound as DomainNotFound
from workflow.models import utcnow
from workflow.roles import is_staff
from workflow.services import tokens

from ..db import get_db
from .errors import ApiProblem, unauthenticated

# Endpoints callable without a token (under the v1 blueprint).
PUBLIC = {"create_token", "openapi", "docs", "fallback"}
MULTIPART = {"upload_signed_copy"}
MAX_JSON_BYTES = 1024 * 1024


def _short(endpoint: str | None) -> str:
    return (endpoint or "").rsplit(".", 1)[-1]


def authenticate() -> None:
    """Identify the caller from `Authorization: Bearer <token>` (before each request)."""
    if _short(request.endpoint) in PUBLIC:
        return
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise unauthenticated("Send a personal API token: Authorization: Bearer <token>. "
                              "Get one with POST /api/v1/tokens.")
    found = tokens.authenticate_token(get_db(), secret.strip(), utcnow())
    if found is None:
        raise unauthenticated("The token is unknown, expired or revoked.", "invalid_token")
    g.api_user, g.api_token_id = found


def partnership_visible() -> None:
    """A partnership the caller may not see is 404 for every operation on it, reads and
    writes alike, before anything else is checked (role, body): the answer is the same as
    for a partnership that does not exist."""
    partnership_id = (request.view_args or {}).get("partnership_id")
    user = g.get("api_user")
    if partnership_id is None or user is None or is_staff(user.role):
        return
    if not is_visible(get_db(), user, partnership_id):
        raise DomainNotFound(f"Partnership {partnership_id} not found.")


def check_body() -> None:
    """Refuse bodies that are too large, of the wrong type, or not valid JSON."""
    if request.method not in ("POST", "PUT", "PATCH") or _short(request.endpoint) == "fallback":
        return  # unknown paths and methods answer 404/405 whatever the body
    length = request.content_length or 0
    if _short(request.endpoint) in MULTIPART:
        limit = current_app.config.get("MAX_UPLOAD_BYTES", MAX_JSON_BYTES)
        if length > limit:
            raise ApiProblem(413, "too-large", f"Upload at most {limit} bytes.")
        if request.mimetype != "multipart/form-data":
            raise ApiProblem(400, "malformed", "Send the file as multipart/form-data, "
                             "in the field 'file'.")
        return
    if length > MAX_JSON_BYTES:
        raise ApiProblem(413, "too-large", f"Send at most {MAX_JSON_BYTES} bytes of JSON.")
    if not request.is_json:
        raise ApiProblem(400, "malformed", "Send a JSON body with Content-Type: "
                         "application/json.")
    try:
        request.get_json()
    except BadRequest:
        raise ApiProblem(400, "malformed", "The body is not valid JSON.") from None


def actor():
    """The user the request's token belongs to."""
    return g.api_user


def current_token_id() -> int:
    """The id of the token the request was made with."""
    return g.api_token_id
