"""The Flask application: `create_app(config)` assembled from small register steps.

web/ is the only package that imports Flask; it parses requests, calls one domain service
per write and renders templates.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from config import Config, load_config

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Config | None = None) -> Flask:
    """Build the application for `config` (default: from the environment)."""
    config = config or load_config()
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(Path(__file__).parent / "static"),
        instance_path=str(config.INSTANCE_PATH),
    )
    app.config.from_object(config)
    register_extensions(app)
    register_blueprints(app)
    register_template_helpers(app)
    register_security_headers(app)
    register_errors(app)
    register_cli(app)
    return app


def register_extensions(app: Flask) -> None:
    from workflow.definitions import registry

    from .audit_context import init_audit_context
    from .db import init_db
    from .documents.setup import init_documents
    from .extensions import csrf, login_manager
    from .faults import init_faults

    registry()  # load and validate every workflow definition at start: fail fast
    init_db(app)
    init_audit_context(app)  # before CSRF: a refused request is audited with its client
    init_faults(app)  # temp folder, 503/507 answers, the start-up reconciliation
    init_documents(app)
    login_manager.init_app(app)
    csrf.init_app(app)


def register_blueprints(app: Flask) -> None:
    from . import (
        admin,
        api,
        auth,
        calendar_feed,
        clauses,
        documents,
        main,
        notifications,
        obligations,
        partnerships,
        review,
    )
    from .extensions import csrf
    from .routing import init_routing

    init_routing(app)  # ids in every path are checked for range, whichever blueprint
    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(partnerships.bp)
    app.register_blueprint(clauses.bp)
    app.register_blueprint(review.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(obligations.bp)
    app.register_blueprint(calendar_feed.bp)
    app.register_blueprint(notifications.bp)
    csrf.exempt(api.v1)  # bearer tokens only: the API never reads the session cookie


def register_template_helpers(app: Flask) -> None:
    from .templating import init_templating

    init_templating(app)


def register_security_headers(app: Flask) -> None:
    from .security import init_security_headers

    init_security_headers(app)


def register_errors(app: Flask) -> None:
    from .errors import register_error_handlers

    register_error_handlers(app)


def register_cli(app: Flask) -> None:
    from .cli import init_cli

    init_cli(app)
