"""Reconciliation: stale temporary files, and documents whose stored content is missing or
no longer matches the sha256 and size recorded when it was stored.

Documents and their bytes are written in one transaction, so a crash or a full disk leaves
neither; what this finds was changed or lost outside the application (a manual edit, a
damaged restore). It reports and never repairs: the evidence stays for a person to judge.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import Document, DocumentBlob

MISSING = "missing content"
SHA_MISMATCH = "sha256 mismatch"
SIZE_MISMATCH = "size mismatch"


@dataclass(frozen=True)
class Finding:
    """One document whose stored bytes do not back its row."""

    document_id: int
    partnership_id: int
    kind: str
    version: int
    problem: str  # MISSING | SHA_MISMATCH | SIZE_MISMATCH
    detail: str

    def __str__(self) -> str:
        return (f"document {self.document_id} ({self.kind} v{self.version} of partnership "
                f"{self.partnership_id}): {self.problem}: {self.detail}")


@dataclass
class Report:
    removed: list[Path] = field(default_factory=list)
    checked: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def clean_temp(folder: Path, max_age: timedelta, now: float | None = None) -> list[Path]:
    """Remove the entries of `folder` last modified more than `max_age` ago."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    cutoff = (now if now is not None else time.time()) - max_age.total_seconds()
    removed = []
    for entry in folder.iterdir():
        try:
            info = entry.lstat()
            if info.st_mtime >= cutoff:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except FileNotFoundError:  # another process cleaned it first
            continue
        removed.append(entry)
    return removed


def count_missing_content(session: Session) -> int:
    """How many documents have no stored bytes (cheap: no content is read)."""
    return session.scalar(
        select(func.count(Document.id))
        .outerjoin(DocumentBlob, DocumentBlob.document_id == Document.id)
        .where(DocumentBlob.document_id.is_(None))) or 0


def check_documents(session: Session, batch_size: int = 50) -> tuple[int, list[Finding]]:
    """Hash every document's stored bytes; (documents checked, findings).

    Reads in keyset batches so memory stays bounded by `batch_size` documents.
    """
    checked, findings, last_id = 0, [], 0
    while True:
        rows = session.execute(
            select(Document.id, Document.partnership_id, Document.kind, Document.version,
                   Document.sha256, Document.size, DocumentBlob.content)
            .outerjoin(DocumentBlob, DocumentBlob.document_id == Document.id)
            .where(Document.id > last_id).order_by(Document.id).limit(batch_size)).all()
        if not rows:
            return checked, findings
        for doc_id, pid, kind, version, sha256, size, content in rows:
            checked += 1
            problem = _problem(sha256, size, content)
            if problem is not None:
                findings.append(Finding(doc_id, pid, kind, version, *problem))
        last_id = rows[-1][0]
        session.rollback()  # end the read snapshot between batches (SQLite WAL checkpoints)


def _problem(sha256: str, size: int, content: bytes | None) -> tuple[str, str] | None:
    if content is None:
        return MISSING, "no stored bytes for this document"
    actual = hashlib.sha256(content).hexdigest()
    if actual != sha256:
        return SHA_MISMATCH, f"recorded {sha256}, stored bytes hash to {actual}"
    if len(content) != size:
        return SIZE_MISMATCH, f"recorded {size} bytes, stored {len(content)}"
    return None


def reconcile(session: Session, temp_folder: Path | None, max_age: timedelta) -> Report:
    """Clean stale temporary files, then check every document's content."""
    report = Report()
    if temp_folder is not None:
        report.removed = clean_temp(temp_folder, max_age)
    report.checked, report.findings = check_documents(session)
    return report
