"""Operator commands: backup, restore and reconcile through `flask --app wsgi ...`, and the
cheap reconciliation the app runs when it starts."""

from __future__ import annotations

import logging
import os
import time

import pytest
from sqlalchemy import delete

import config as app_config
from web import create_app
from workflow.models import DocumentBlob, User
from workflow.services._base import write
from workflow.services.documents import store_document

SQLITE = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


def make_app(url, instance):
    config = app_config.TestingConfig()
    config.DATABASE_URL = url
    config.INSTANCE_PATH = instance
    return create_app(config)


def add_document(session, partnership) -> int:
    with write(session):
        doc = store_document(session, partnership, session.get(User, partnership.owner_id),
                             kind="evidence", status="current", filename="e.pdf",
                             content=os.urandom(3000))
    return doc.id


@SQLITE
def test_backup_and_restore_commands_round_trip(database, session, make_partnership,
                                                runner, tmp_path):
    add_document(session, make_partnership("draft"))
    backup = runner.invoke(args=["backup", str(tmp_path / "backup")])
    assert backup.exit_code == 0, backup.output
    assert "1 document(s)" in backup.output

    refused = runner.invoke(args=["restore", str(tmp_path / "backup")])  # the live database
    assert refused.exit_code != 0 and "not empty" in refused.output

    fresh = make_app(f"sqlite:///{tmp_path / 'fresh.db'}", tmp_path / "fresh")
    try:
        fresh_runner = fresh.test_cli_runner()
        restored = fresh_runner.invoke(args=["restore", str(tmp_path / "backup")])
        assert restored.exit_code == 0, restored.output
        assert "1 document(s) verified" in restored.output
        check = fresh_runner.invoke(args=["reconcile"])
        assert check.exit_code == 0, check.output
        assert "1 document(s) checked, 0 problem(s)" in check.output
        chain = fresh_runner.invoke(args=["audit-verify"])
        assert chain.exit_code == 0, chain.output
    finally:
        fresh.extensions["clusterpact.engine"].dispose()


def test_reconcile_command_names_a_document_without_content(database, session, app,
                                                            make_partnership, runner):
    p = make_partnership("draft")
    doc_id = add_document(session, p)
    with database.engine.begin() as conn:
        conn.execute(delete(DocumentBlob).where(DocumentBlob.document_id == doc_id))

    result = runner.invoke(args=["reconcile"])

    assert result.exit_code == 1
    assert f"document {doc_id} (evidence v1 of partnership {p.id}): missing content" in (
        result.output)


@SQLITE
def test_app_start_removes_stale_temp_files_and_reports_missing_content(
        database, session, make_partnership, tmp_path, caplog):
    doc_id = add_document(session, make_partnership("draft"))
    with database.engine.begin() as conn:
        conn.execute(delete(DocumentBlob).where(DocumentBlob.document_id == doc_id))
    temp = tmp_path / "tmp"
    temp.mkdir()
    stale, fresh = temp / "stale.part", temp / "fresh.part"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"y")
    old = time.time() - 3 * 3600
    os.utime(stale, (old, old))

    with caplog.at_level(logging.INFO, logger="web.faults"):
        app = make_app(database.url, tmp_path)
    app.extensions["clusterpact.engine"].dispose()

    assert not stale.exists() and fresh.exists()
    assert "removed 1 stale temporary file(s)" in caplog.text
    assert "1 document(s) have no stored content" in caplog.text
