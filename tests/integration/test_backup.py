"""Backup during writes, restore into a fresh database: the restored documents match the
manifest, the reconciler finds nothing wrong and the audit chain verifies."""

from __future__ import annotations

import json
import os
import threading
import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL
from workflow.audit import verify_chain
from workflow.backup import MANIFEST, BackupError, backup, restore
from workflow.db import make_engine, make_session_factory
from workflow.models import Document, User
from workflow.reconcile import check_documents
from workflow.services.documents import record_wet_ink
from workflow.services.transitions import advance


@pytest.fixture
def fresh_target(database, tmp_path):
    """An empty database of the same backend: a new SQLite file, or a new PostgreSQL
    database (created here, dropped afterwards) using the same schema name."""
    if database.kind == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'restored.db'}")
        yield engine
        engine.dispose()
        return
    name = f"cp_restore_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(database.url).set(database=name).render_as_string(False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def _writer(database, owner_id, signing, drafts, started, stop, done, errors):
    """Advance drafts and upload scans until told to stop; count the writes."""
    try:
        with database.sessions() as s:
            actor = s.get(User, owner_id)
            party_ids = [party.id for party in signing.parties]
            s.rollback()
            i = 0
            while not stop.is_set():
                if i % 2 and drafts:
                    advance(s, drafts.pop(), "start_due_diligence", actor)
                else:
                    record_wet_ink(s, actor, signing.id, party_ids[i % len(party_ids)],
                                   os.urandom(4000 + i), f"scan-{i}.pdf", "Signed in ink.")
                i += 1
                done.append(i)
                if i >= 2:
                    started.set()
    except Exception as exc:  # noqa: BLE001 - reported by the test
        errors.append(exc)
        started.set()


def test_backup_taken_during_writes_restores_intact(database, session, make_partnership,
                                                    tmp_path, fresh_target):
    signing = make_partnership("signing")  # holds an issued, certified agreement
    owner = session.get(User, signing.owner_id)
    drafts = [make_partnership("draft", owner=owner).id for _ in range(8)]
    session.rollback()
    started, stop, done, errors = threading.Event(), threading.Event(), [], []
    writer = threading.Thread(target=_writer, args=(database, owner.id, signing, drafts,
                                                    started, stop, done, errors))
    writer.start()
    try:
        assert started.wait(60)
        outcome = backup(database.engine, tmp_path / "backup")
        writes_at_backup = len(done)
        while len(done) < writes_at_backup + 2 and not errors and writer.is_alive():
            stop.wait(0.05)
    finally:
        stop.set()
        writer.join(60)
    assert errors == []

    manifest = json.loads((tmp_path / "backup" / MANIFEST).read_text())
    assert manifest["backend"] == database.kind and manifest["schema_revision"]
    assert manifest["document_count"] == len(manifest["documents"]) >= 2
    with database.sessions() as live:  # writes went on after the backup
        assert live.scalar(select(func.count(Document.id))) > manifest["document_count"]

    restored = restore(fresh_target, tmp_path / "backup")

    assert restored.warnings == []  # every restored document matches the manifest
    with make_session_factory(fresh_target)() as s:
        checked, findings = check_documents(s)
        chain = verify_chain(s)
    assert (checked, findings) == (manifest["document_count"], [])
    assert chain.ok and chain.checked > 0, chain.describe()
    assert outcome.warnings == []


def test_restore_refuses_a_non_empty_target_unless_forced(database, make_partnership,
                                                          tmp_path, fresh_target):
    make_partnership("draft")
    backup(database.engine, tmp_path / "backup")
    restore(fresh_target, tmp_path / "backup")

    with pytest.raises(BackupError, match="not empty"):
        restore(fresh_target, tmp_path / "backup")
    again = restore(fresh_target, tmp_path / "backup", force=True)
    assert again.warnings == []


def test_restore_refuses_a_damaged_dump_and_leaves_the_target_empty(
        database, make_partnership, tmp_path, fresh_target):
    from workflow.backup import is_empty

    make_partnership("draft")
    outcome = backup(database.engine, tmp_path / "backup")
    dump = tmp_path / "backup" / outcome.manifest["dump"]["file"]
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))

    with pytest.raises(BackupError, match=dump.name):
        restore(fresh_target, tmp_path / "backup")
    assert is_empty(fresh_target)


def test_backup_refuses_a_folder_that_is_not_empty(database, tmp_path):
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "old.txt").write_text("keep")
    with pytest.raises(BackupError, match="not an empty folder"):
        backup(database.engine, tmp_path / "backup")
    assert [p.name for p in (tmp_path / "backup").iterdir()] == ["old.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["backup"]  # no staging left behind
