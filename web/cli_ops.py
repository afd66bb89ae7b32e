"""Operator commands for backup, restore and reconciliation (README "Operations")."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
from flask import current_app


def _engine():
    return current_app.extensions["clusterpact.engine"]


def register(app) -> None:
    @app.cli.command("backup")
    @click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
    def backup_command(dest: Path):
        """Back up the database and its documents into the new or empty folder DEST."""
        from workflow.backup import BackupError, backup

        try:
            outcome = backup(_engine(), dest)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        m = outcome.manifest
        for warning in outcome.warnings:
            click.echo(f"warning: {warning}", err=True)
        click.echo(f"Backup written to {outcome.path}: {m['dump']['file']} "
                   f"({m['dump']['size']:,} bytes, sha256 {m['dump']['sha256']}), "
                   f"{m['document_count']} document(s), schema revision "
                   f"{m['schema_revision'] or 'unknown'}.")

    @app.cli.command("restore")
    @click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
    @click.option("--force", is_flag=True, help="Overwrite a target database that has tables.")
    def restore_command(src: Path, force: bool):
        """Restore the backup in SRC into the configured (empty) database."""
        from workflow.backup import BackupError, restore

        try:
            outcome = restore(_engine(), src, force=force)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        for problem in outcome.warnings:
            click.echo(f"error: {problem}", err=True)
        if outcome.warnings:
            raise click.ClickException("The restored documents differ from the manifest.")
        m = outcome.manifest
        click.echo(f"Restored {src} (taken {m['created_at']}, schema revision "
                   f"{m['schema_revision'] or 'unknown'}): {m['document_count']} document(s) "
                   "verified against the manifest.")

    @app.cli.command("reconcile")
    @click.option("--max-age", "max_age", type=int, default=None,
                  help="Minutes after which a temporary file is stale "
                       "(default TEMP_MAX_AGE_MINUTES).")
    def reconcile_command(max_age: int | None):
        """Remove stale temporary files; report documents with missing or altered content."""
        from workflow.reconcile import reconcile

        minutes = max_age if max_age is not None else current_app.config["TEMP_MAX_AGE_MINUTES"]
        folder = Path(current_app.config["TEMP_DIR"])
        with current_app.extensions["clusterpact.sessions"]() as session:
            report = reconcile(session, folder, timedelta(minutes=minutes))
        for path in report.removed:
            click.echo(f"removed stale temporary file {path}")
        for finding in report.findings:
            click.echo(f"error: {finding}", err=True)
        click.echo(f"{report.checked} document(s) checked, {len(report.findings)} problem(s), "
                   f"{len(report.removed)} stale temporary file(s) removed.")
        if report.findings:
            raise SystemExit(1)
