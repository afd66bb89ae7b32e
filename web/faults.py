"""Storage faults as answers (503/507 with Retry-After), the temporary folder, and the
cheap reconciliation run once at start.

A database that is down, locked or full is not a bug: the page says so in the app's error
style (the API with a problem document), nothing was changed, and the next request after
recovery works again without a restart (the engine's pre-ping replaces dead connections).
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from flask import Request, current_app, g, request
from sqlalchemy.exc import SQLAlchemyError

from workflow.faults import FULL, StorageFault, classify

log = logging.getLogger(__name__)
# Uploads above this size are spooled to an anonymous file in the app's temp folder.
SPOOL_MAX_MEMORY = 512 * 1024


def temp_dir(app) -> Path:
    """The app's folder for temporary files (instance/tmp unless CLUSTERPACT_TEMP_DIR)."""
    return Path(app.config.get("TEMP_DIR") or Path(app.instance_path) / "tmp")


class SpoolingRequest(Request):
    """Spool large uploads into the app's temp folder instead of the system default.

    The files are anonymous (unlinked at creation), so a crash mid-upload leaves nothing
    behind, and a full disk shows up as ENOSPC in a folder the operator knows.
    """

    def _get_file_stream(self, total_content_length, content_type, filename=None,
                         content_length=None):
        return tempfile.SpooledTemporaryFile(  # Werkzeug closes it after the request
            max_size=SPOOL_MAX_MEMORY, mode="rb+", dir=current_app.config["TEMP_DIR"])


def init_faults(app) -> None:
    """Create the temp folder, spool uploads into it, and run the start-up reconciliation."""
    folder = temp_dir(app)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    app.config["TEMP_DIR"] = str(folder)
    app.request_class = SpoolingRequest
    if app.config.get("RECONCILE_ON_START", True):
        _reconcile_on_start(app, folder)


def _reconcile_on_start(app, folder: Path) -> None:
    """Remove stale temp files and count documents without content (full check: CLI)."""
    from datetime import timedelta

    from workflow import reconcile

    removed = reconcile.clean_temp(folder, timedelta(minutes=app.config["TEMP_MAX_AGE_MINUTES"]))
    if removed:
        log.warning("start-up: removed %d stale temporary file(s) from %s", len(removed), folder)
    engine = app.extensions["clusterpact.engine"]
    try:
        with app.extensions["clusterpact.sessions"]() as session:
            missing = reconcile.count_missing_content(session)
    except SQLAlchemyError as exc:  # not migrated yet, or the database is down: not fatal
        log.info("start-up: document check skipped (%s)", type(exc).__name__)
        return
    finally:
        if engine.url.database not in (None, "", ":memory:"):
            engine.dispose()  # no connection opened here is inherited by forked workers
    if missing:
        log.error("start-up: %d document(s) have no stored content; run "
                  "`flask --app wsgi reconcile`", missing)


def storage_fault_response(error: BaseException):
    """The 503/507 answer for a storage fault behind `error`, or None for anything else."""
    # Flask wraps an error raised outside the view (after_request) in InternalServerError.
    error = getattr(error, "original_exception", None) or error
    fault = classify(error)
    if fault is None:
        return None
    # The first line only: the rest of a database error repeats the statement's parameters.
    log.warning("%s on %s %s: %s", "Storage full" if fault.kind == FULL else
                "Database unavailable", request.method, request.path,
                (str(error).splitlines() or [type(error).__name__])[0][:300])
    _forget_session_state()
    headers = {"Retry-After": str(fault.retry_after), "Cache-Control": "no-store"}
    if request.path.startswith("/api/"):
        from .api.errors import problem_response

        return problem_response(fault.status, _slug(fault), fault.detail, headers,
                                title=_title(fault), retry_after=fault.retry_after)
    from .errors import render_error

    body, status = render_error(fault.status, _title(fault), fault.detail)
    return body, status, headers


def _title(fault: StorageFault) -> str:
    return "No room to store this" if fault.kind == FULL else "Temporarily unavailable"


def _slug(fault: StorageFault) -> str:
    return "storage-full" if fault.kind == FULL else "unavailable"


def _forget_session_state() -> None:
    """Drop the request's database session and treat the user as anonymous for the rest of
    the request, so rendering the error page never waits for the database again."""
    from .extensions import login_manager

    db = g.pop("db", None)
    if db is not None:
        try:
            db.close()
        except SQLAlchemyError:  # the connection is already gone; the pool replaces it
            db.invalidate()
    g._login_user = login_manager.anonymous_user()
