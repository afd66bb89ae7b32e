"""The reconciler names each document whose stored content is missing or altered, and
removes only stale temporary files."""

from __future__ import annotations

import os
import time
from datetime import timedelta

from sqlalchemy import delete, update

from workflow.models import Document, DocumentBlob, User
from workflow.reconcile import (
    MISSING,
    SHA_MISMATCH,
    SIZE_MISMATCH,
    check_documents,
    clean_temp,
    count_missing_content,
)
from workflow.services._base import write
from workflow.services.documents import store_document


def add_documents(session, partnership, count):
    owner = session.get(User, partnership.owner_id)
    with write(session):
        docs = [store_document(session, partnership, owner, kind="evidence", status="current",
                               filename=f"e{i}.pdf", content=os.urandom(2000 + i))
                for i in range(count)]
    return [d.id for d in docs]


def test_reconciler_names_missing_and_altered_content(database, session, make_partnership):
    p = make_partnership("draft")
    intact, lost, edited, resized = add_documents(session, p, 4)
    with database.engine.begin() as conn:
        conn.execute(delete(DocumentBlob).where(DocumentBlob.document_id == lost))
        conn.execute(update(DocumentBlob).where(DocumentBlob.document_id == edited)
                     .values(content=b"%PDF-1.7 replaced"))
        conn.execute(update(Document).where(Document.id == resized).values(size=1))

    checked, findings = check_documents(session, batch_size=3)  # crosses a batch boundary

    assert checked == 4
    assert {(f.document_id, f.problem) for f in findings} == {
        (lost, MISSING), (edited, SHA_MISMATCH), (resized, SIZE_MISMATCH)}
    assert all(f.partnership_id == p.id and f.kind == "evidence" for f in findings)
    assert f"document {lost} (evidence v2 of partnership {p.id}): missing content" in str(
        next(f for f in findings if f.document_id == lost))
    assert count_missing_content(session) == 1


def test_reconciler_finds_nothing_wrong_in_intact_documents(database, session,
                                                          make_partnership):
    add_documents(session, make_partnership("draft"), 3)
    assert check_documents(session) == (3, [])
    assert count_missing_content(session) == 0


def test_clean_temp_removes_only_entries_older_than_the_limit(tmp_path):
    folder = tmp_path / "tmp"
    folder.mkdir()
    outside = tmp_path / "keep.txt"
    outside.write_text("not ours")
    stale_file, fresh_file = folder / "upload-1.part", folder / "upload-2.part"
    stale_dir, stale_link = folder / "backup.partial-x", folder / "link"
    stale_file.write_bytes(b"x")
    fresh_file.write_bytes(b"y")
    stale_dir.mkdir()
    (stale_dir / "database.sqlite3").write_bytes(b"z")
    stale_link.symlink_to(outside)
    old = time.time() - 2 * 3600
    for path in (stale_file, stale_dir):
        os.utime(path, (old, old))
    os.utime(stale_link, (old, old), follow_symlinks=False)

    removed = clean_temp(folder, timedelta(minutes=60))

    assert sorted(p.name for p in removed) == ["backup.partial-x", "link", "upload-1.part"]
    assert [p.name for p in folder.iterdir()] == ["upload-2.part"]
    assert outside.read_text() == "not ours"  # a link is removed, never followed
    assert clean_temp(tmp_path / "absent", timedelta(minutes=1)) == []
