"""One SQLAlchemy session per request, closed (rolled back if uncommitted) at teardown."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session

from workflow.db import make_engine, make_session_factory

EXT_KEY = "clusterpact.sessions"


def init_db(app) -> None:
    """Create the engine and session factory for the configured database."""
    engine = make_engine(app.config["DATABASE_URL"],
                         busy_timeout_ms=app.config.get("DATABASE_BUSY_TIMEOUT_MS", 15_000),
                         connect_timeout=app.config.get("DATABASE_CONNECT_TIMEOUT", 3))
    app.extensions[EXT_KEY] = make_session_factory(engine)
    app.extensions["clusterpact.engine"] = engine
    app.teardown_appcontext(_close_session)


def get_db() -> Session:
    """Return the request's session, opening it on first use."""
    if "db" not in g:
        g.db = current_app.extensions[EXT_KEY]()
    return g.db


def _close_session(_exc=None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()
