"""`flask --app wsgi run-clocks`: reminders for obligations and overdue stages (for cron)."""

from __future__ import annotations

import click
from flask import current_app

from workflow.obligations import parse_lead_days
from workflow.services.clocks import run_clocks


def register(app) -> None:
    @app.cli.command("run-clocks")
    def run_clocks_command():
        """Lapse past obligations, remind at the lead times, remind owners of overdue stages.

        Idempotent and safe from cron every minute: nothing is sent twice.
        """
        try:
            leads = parse_lead_days(current_app.config.get("CLOCK_LEAD_DAYS"))
        except ValueError as exc:
            raise click.ClickException(f"CLOCK_LEAD_DAYS: {exc}") from exc
        with current_app.extensions["clusterpact.sessions"]() as session:
            result = run_clocks(session, lead_days=leads)
        click.echo(result.summary())
