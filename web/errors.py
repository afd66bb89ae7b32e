"""The one place where domain errors become HTTP statuses, and the error pages."""

from __future__ import annotations

from flask import render_template, request
from werkzeug.exceptions import HTTPException

from workflow.errors import (
    Conflict,
    DomainError,
    GuardFailed,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)

STATUS = [
    (NotFound, 404),
    (PermissionDenied, 403),
    (Conflict, 409),
    (GuardFailed, 422),
    (ValidationFailed, 422),
]

NEXT_STEPS = {
    400: "The request could not be understood. Go back and try again.",
    403: "Your role does not allow this. Ask a coordinator or an administrator if you need access.",
    404: "The page or record does not exist, or it is not shared with your organisation.",
    405: "This address does not accept that kind of request.",
    409: "Someone else changed this record, or it is no longer in a stage that allows this. "
    "Reload the page to see its current state, then try again.",
    413: "The file is too large. Upload a smaller file.",
    422: "The request was understood but cannot be carried out; the reasons are listed below.",
    429: "Too many attempts. Wait a minute and try again.",
    500: "Something went wrong on our side. Nothing was changed. Try again later.",
    503: "The service is temporarily unavailable. Try again in a moment.",
    507: "The server is out of storage space. Try again later; if it persists, tell an "
    "administrator.",
}


def status_for(error: DomainError) -> int:
    """Return the HTTP status of a domain error."""
    for cls, status in STATUS:
        if isinstance(error, cls):
            return status
    return 400


def render_error(status: int, title: str, detail: str, reasons=()) -> tuple[str, int]:
    """Render the HTML error page."""
    return (
        render_template(
            "errors/error.html",
            status=status,
            title=title,
            detail=detail,
            reasons=list(reasons),
            next_step=NEXT_STEPS.get(status, ""),
            back=request.referrer if _same_site(request.referrer) else None,
        ),
        status,
    )


def _same_site(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)


def register_error_handlers(app) -> None:
    """Install handlers for domain errors, HTTP errors and unexpected exceptions."""
    from .audit_context import audit_http_error, audit_refusal
    from .faults import storage_fault_response

    @app.errorhandler(DomainError)
    def _domain(error: DomainError):
        _rollback()
        audit_refusal(status_for(error))
        return render_error(status_for(error), error.title, error.detail, error.reasons)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if (fault := storage_fault_response(error)) is not None:  # e.g. from after_request
            return fault
        _rollback()
        audit_http_error(error)
        return render_error(error.code or 500, error.name, error.description or "")

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if (fault := storage_fault_response(error)) is not None:  # database down or full
            return fault
        _rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return render_error(500, "Internal error", "An unexpected error occurred.")


def _rollback() -> None:
    from flask import g

    db = g.get("db")
    if db is not None:
        db.rollback()
