"""`flask --app wsgi audit-verify`: recompute the audit chain, name the first broken row."""

from __future__ import annotations

import click
from flask import current_app

from workflow.audit import verify_chain


def register(app) -> None:
    @app.cli.command("audit-verify")
    def audit_verify():
        """Recompute the audit log's hash chain; exit 1 and name the first broken row."""
        with current_app.extensions["clusterpact.sessions"]() as session:
            result = verify_chain(session)
        if not result.ok:
            click.echo(result.describe(), err=True)
            raise SystemExit(1)
        click.echo(result.describe())
