"""Errors of the API as application/problem+json (RFC 9457).

Domain errors get their status from web.errors.status_for, the one mapping the pages use too.
"""

from __future__ import annotations

from flask import current_app, g, json, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.http import HTTP_STATUS_CODES

from workflow.errors import (
    Conflict,
    DomainError,
    GuardFailed,
    TransitionNotAllowed,
    ValidationFailed,
)
from workflow.services.login import BadCredentials
from workflow.services.throttle import Throttled

from ..audit_context import audit_api_problem, audit_http_error, audit_refusal
from ..errors import status_for
from ..faults import storage_fault_response
from .schemas import Problem

PROBLEM_JSON = "application/problem+json"
# One answer for an unknown email, a wrong password and a wrong or missing TOTP code.
BAD_CREDENTIALS = "Email, password or code is incorrect."
DOCS = "/api/v1/docs#problem-"


class ApiProblem(Exception):
    """An error the API itself raises (authentication, malformed input, rejected copies)."""

    def __init__(self, status: int, slug: str, detail: str, headers=None, **extra) -> None:
        super().__init__(detail)
        self.status, self.slug, self.detail = status, slug, detail
        self.headers = dict(headers or {})
        self.extra = extra


class RequestInvalid(Exception):
    """The request body or query string does not match its schema."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("request invalid")
        self.errors = errors


def unauthenticated(detail: str, error: str | None = None) -> ApiProblem:
    challenge = 'Bearer realm="ClusterPact API"' + (f', error="{error}"' if error else "")
    return ApiProblem(401, "unauthenticated", detail, {"WWW-Authenticate": challenge})


def problem_response(status: int, slug: str, detail: str | None = None, headers=None,
                     title: str | None = None, **extra):
    """A problem+json response; `slug` names the problem type on the docs page."""
    body = Problem(type=DOCS + slug if slug else "about:blank",
                   title=title or HTTP_STATUS_CODES.get(status, "Error"), status=status,
                   detail=detail, instance=request.path, **extra)
    response = current_app.response_class(
        json.dumps(body.model_dump(exclude_none=True)), status=status, mimetype=PROBLEM_JSON)
    response.headers.update(headers or {})
    return response


def _domain_slug(error: DomainError) -> str:
    if isinstance(error, TransitionNotAllowed):
        return "transition-not-allowed"
    if isinstance(error, Conflict):
        return "conflict"
    if isinstance(error, GuardFailed):
        return "blocked"
    if isinstance(error, ValidationFailed):
        return "invalid"
    return {404: "not-found", 403: "forbidden"}.get(status_for(error), "refused")


def _rollback() -> None:
    db = g.get("db")
    if db is not None:
        db.rollback()


def register_error_handlers(bp) -> None:
    """Answer every error raised under the API blueprint with a problem document."""

    @bp.errorhandler(DomainError)
    def _domain(error: DomainError):
        _rollback()
        extra = {k: v for k, v in error.extra.items() if k in ("current_version", "current_stage")}
        if isinstance(error, ValidationFailed):
            extra["errors"] = error.field_errors or None
        if error.reasons:
            extra["reasons"] = error.reasons
        audit_refusal(status_for(error))
        return problem_response(status_for(error), _domain_slug(error), error.detail,
                                title=error.title, **extra)

    @bp.errorhandler(ApiProblem)
    def _api(error: ApiProblem):
        _rollback()
        audit_api_problem(error.status, error.headers)
        return problem_response(error.status, error.slug, error.detail, error.headers,
                                **error.extra)

    @bp.errorhandler(RequestInvalid)
    def _invalid(error: RequestInvalid):
        return problem_response(422, "invalid", "The request does not match its schema.",
                                title="Invalid input", errors=error.errors,
                                reasons=[f"{k}: {v}" for k, v in error.errors.items()])

    @bp.errorhandler(BadCredentials)
    def _credentials(_error):
        return problem_response(401, "bad-credentials", BAD_CREDENTIALS,
                                {"WWW-Authenticate": 'Bearer realm="ClusterPact API"'})

    @bp.errorhandler(Throttled)
    def _throttled(error: Throttled):
        return problem_response(429, "throttled", "Too many failed attempts. Try again later.",
                                {"Retry-After": str(error.retry_after)},
                                retry_after=error.retry_after)

    @bp.errorhandler(HTTPException)
    def _http(error: HTTPException):
        _rollback()
        audit_http_error(error)
        headers = {}
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        return problem_response(error.code or 500, "", error.description, headers)

    @bp.errorhandler(Exception)
    def _unexpected(error: Exception):
        if (fault := storage_fault_response(error)) is not None:  # database down or full
            return fault
        _rollback()
        current_app.logger.exception("Unhandled API error on %s %s", request.method,
                                     request.path)
        return problem_response(500, "", "An unexpected error occurred. Nothing was changed.")


def validation_hook(req, resp, error, instance, model_adapter) -> None:
    """Spectree's `before` hook: turn a schema error into a 422 problem."""
    if error is None:
        return
    errors: dict[str, str] = {}
    for item in error.errors(include_url=False, include_context=False, include_input=False):
        location = ".".join(str(part) for part in item["loc"]) or "body"
        errors.setdefault(location, item["msg"])
    raise RequestInvalid(errors)
