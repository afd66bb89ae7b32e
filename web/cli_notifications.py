"""`flask --app wsgi send-notifications`: the outbox relay, once or as a loop."""

from __future__ import annotations

import time

import click
from flask import current_app

from workflow.mail import SmtpSender
from workflow.services.outbox import RelaySettings, deliver_pending


def relay_settings(config) -> RelaySettings:
    """The relay's settings from the app configuration; BASE_URL is required for links."""
    if not config.get("BASE_URL"):
        raise click.ClickException(
            "BASE_URL is not set: emails link to pages, e.g. BASE_URL=https://pact.example.org")
    return RelaySettings(mail_from=config["MAIL_FROM"], base_url=config["BASE_URL"])


def smtp_sender(config) -> SmtpSender:
    """An SMTP sender for the configured server."""
    return SmtpSender(config["SMTP_HOST"], config["SMTP_PORT"],
                      username=config.get("SMTP_USERNAME", ""),
                      password=config.get("SMTP_PASSWORD", ""),
                      starttls=bool(config.get("SMTP_STARTTLS")))


def _run_once(settings: RelaySettings) -> None:
    config = current_app.config
    with current_app.extensions["clusterpact.sessions"]() as session, \
            smtp_sender(config) as sender:
        report = deliver_pending(session, sender, settings)
    click.echo(f"Notifications: {report.sent} sent, {report.retrying} to retry, "
               f"{report.failed} failed, {report.skipped} skipped (email off).")
    for error in report.errors[:5]:
        click.echo(f"  {error}", err=True)


def register(app) -> None:
    @app.cli.command("send-notifications")
    @click.option("--once", "mode", flag_value="once", default=True,
                  help="Deliver what is due, then exit (the default).")
    @click.option("--loop", "mode", flag_value="loop", help="Keep delivering until stopped.")
    @click.option("--interval", default=30, show_default=True, type=click.IntRange(1, 3600),
                  help="Seconds between rounds with --loop.")
    def send_notifications(mode, interval):
        """Deliver pending notification emails by SMTP, with retry and backoff."""
        settings = relay_settings(current_app.config)
        if mode == "once":
            _run_once(settings)
            return
        click.echo(f"Relay running: {current_app.config['SMTP_HOST']}:"
                   f"{current_app.config['SMTP_PORT']}, every {interval}s (Ctrl-C stops).")
        while True:
            try:
                _run_once(settings)
            except Exception as exc:  # e.g. the database restarting: log and try next round
                click.echo(f"Relay round failed: {type(exc).__name__}: {exc}", err=True)
            time.sleep(interval)
