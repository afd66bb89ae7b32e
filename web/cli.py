"""Operator commands (`flask --app wsgi ...`). Their names and options are a stable contract."""

from __future__ import annotations

import sys

import click
from flask import current_app

from workflow import demo
from workflow.definitions import DefinitionError, load_all
from workflow.errors import DomainError
from workflow.roles import ORG_KINDS, SYSTEM_ACTOR, USER_ROLES


def _session():
    return current_app.extensions["clusterpact.sessions"]()


def _fail(exc: DomainError) -> None:
    details = "".join(f"\n  - {r}" for r in exc.reasons)
    raise click.ClickException(f"{exc.detail}{details}")


def init_cli(app) -> None:
    from . import cli_audit, cli_clocks, cli_notifications, cli_ops

    cli_audit.register(app)
    cli_clocks.register(app)
    cli_notifications.register(app)
    cli_ops.register(app)

    @app.cli.command("db-upgrade")
    def db_upgrade():
        """Upgrade the database schema to the latest migration."""
        from .migrate import upgrade

        upgrade(current_app.config["DATABASE_URL"])
        click.echo("Database is up to date.")

    @app.cli.command("sync-clauses")
    def sync_clauses():
        """Publish the clause library: each changed clause becomes a new version."""
        from contracts.library import LibraryError
        from contracts.publish import library_payload
        from workflow.services.library import sync_library

        try:
            payload = library_payload()
        except LibraryError as exc:
            raise click.ClickException(str(exc)) from exc
        with _session() as session:
            report = sync_library(session, SYSTEM_ACTOR, payload)
        for key, version, status in report:
            if status != "unchanged":
                click.echo(f"  {key}: version {version} ({status})")
        changed = sum(1 for *_, status in report if status != "unchanged")
        click.echo(f"Clause library: {len(report)} clauses, {changed} new version(s).")

    @app.cli.command("create-org")
    @click.argument("name")
    @click.option("--country", required=True, help="ISO 3166-1 alpha-2 code, e.g. IT")
    @click.option("--kind", required=True, type=click.Choice(ORG_KINDS))
    @click.option("--city", default=None)
    def create_org(name, country, kind, city):
        """Create an organisation and print its id."""
        from workflow.services.organisations import create_organisation

        with _session() as session:
            try:
                org = create_organisation(session, SYSTEM_ACTOR, name, country, kind, city)
            except DomainError as exc:
                _fail(exc)
            click.echo(org.id)

    @app.cli.command("create-user")
    @click.argument("email")
    @click.option("--name", required=True, help="Display name")
    @click.option("--role", required=True, type=click.Choice(USER_ROLES))
    @click.option("--org", "org_name", default=None, help="Organisation name")
    def create_user(email, name, role, org_name):
        """Create a user; the password is read from a prompt or standard input."""
        from sqlalchemy import select

        from workflow.models import Organisation
        from workflow.services.users import create_user as create

        if sys.stdin.isatty():
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        else:
            password = sys.stdin.readline().rstrip("\r\n")
        with _session() as session:
            org_id = None
            if org_name:
                org_id = session.scalar(
                    select(Organisation.id).where(Organisation.name == org_name)
                )
                if org_id is None:
                    raise click.ClickException(f"No organisation named {org_name!r}.")
            try:
                user = create(session, SYSTEM_ACTOR, email, name, role, password, org_id)
            except DomainError as exc:
                _fail(exc)
            click.echo(user.id)

    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Do nothing when data already exists.")
    def seed_demo(if_empty):
        """Load the demo organisations, users and partnerships; print the logins."""
        with _session() as session:
            if demo.is_seeded(session):
                if if_empty:
                    click.echo("Demo data already present; nothing loaded.")
                    return
                raise click.ClickException("The database already has data; demo not loaded.")
            logins = demo.seed(session)
        path = current_app.instance_path + "/demo-logins.txt"
        _write_private(path, "".join(f"{e}\t{r}\t{p}\n" for e, r, p in logins))
        click.echo(f"Demo data loaded. Logins (also in {path}):")
        for email, role, password in logins:
            click.echo(f"  {role:<12} {email:<36} {password}")

    @app.cli.command("check-workflows")
    def check_workflows():
        """Validate every workflow definition and print each as a Mermaid diagram."""
        try:
            workflows = load_all()
        except DefinitionError as exc:
            raise click.ClickException(str(exc)) from exc
        for wf in workflows.values():
            click.echo(f"%% {wf.key} ({wf.source}): {len(wf.states)} states, "
                       f"{len(wf.transitions)} transitions: OK")
            click.echo(wf.to_mermaid())
            click.echo()


def _write_private(path: str, text: str) -> None:
    import os

    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
