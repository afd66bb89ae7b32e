"""Issuing agreements: the document effects of the workflow and the upload verifier.

Bound into workflow.effects when the application starts (`bind(settings)`), so the domain
names the effects in its workflow definitions without depending on this layer.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from workflow import agreement_types, audit
from workflow.db import WRITE_OPTION
from workflow.definitions import get_workflow
from workflow.effects import bind_effect
from workflow.models import AuditEvent, Partnership, RenderCache, utcnow
from workflow.services.documents import (
    SignatureCheck,
    UploadVerdict,
    current_issued,
    field_name,
    issued_filename,
    store_document,
)

from .agreement import AgreementSnapshot, build_snapshot

log = logging.getLogger(__name__)


@dataclass
class DocumentSettings:
    """What issuing and verifying need from the configuration."""

    signer: object  # a pyHanko signer holding the platform key and certificate
    trust_roots: list = field(default_factory=list)  # certificates partners' keys chain to
    max_upload_bytes: int = 20 * 1024 * 1024
    prepare_in_background: bool = True


def cache_key(snapshot: AgreementSnapshot, *, draft: bool, generated: str) -> str:
    """The hash of everything that determines a rendered PDF's bytes."""
    from .pdf import content_hash

    return content_hash(snapshot, draft=draft, author=_author(snapshot), generated=generated)


def _author(snapshot: AgreementSnapshot) -> str:
    lead = next((p for p in snapshot.parties if p.role == "lead"), None)
    return lead.name if lead else "ClusterPact"


def _snapshot(partnership: Partnership, version: int) -> AgreementSnapshot:
    return build_snapshot(partnership, agreement_types.label(partnership.agreement_type),
                          version=version)


def is_cached(session: Session, key: str) -> bool:
    """Whether the render cache holds `key` (without reading the PDF)."""
    return session.scalar(select(RenderCache.content_hash)
                          .where(RenderCache.content_hash == key)) is not None


def rendered(session: Session, snapshot: AgreementSnapshot, *, draft: bool, generated: str):
    """(pdf bytes, layout) from the shared render cache, rendering on a miss."""
    key = cache_key(snapshot, draft=draft, generated=generated)
    row = session.get(RenderCache, key)
    if row is not None:
        return row.content, row.layout or {}
    result, layout = _lay_out(snapshot, draft=draft, generated=generated)
    _store_cache(session, key, "draft" if draft else "final", result.pages, layout, result.pdf)
    return result.pdf, layout


def _lay_out(snapshot: AgreementSnapshot, *, draft: bool, generated: str):
    from .pdf import render_pdf

    result = render_pdf(snapshot, draft=draft, author=_author(snapshot), generated=generated)
    layout = {"boxes": {str(k): [v[0], list(v[1])] for k, v in result.signature_boxes.items()}}
    return result, layout


class _Preparer:
    """Lays out final PDFs ahead of approval, one at a time per process, each content once.

    A submitted content is laid out from its snapshot (plain data) with no database
    connection held; the result is stored in its own short transaction. Work still queued
    when the process ends is lost, which costs nothing but time: approve renders itself on
    a cache miss.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: set[str] = set()
        self._pool = None

    def submit(self, bind, key: str, snapshot: AgreementSnapshot, generated: str,
               background: bool) -> None:
        with self._lock:
            if key in self._pending:
                return  # already queued or being laid out
            self._pending.add(key)
            if background and self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prepare-pdf")
        if background:
            self._pool.submit(self._run, bind, key, snapshot, generated)
        else:
            self._run(bind, key, snapshot, generated)

    def _run(self, bind, key, snapshot, generated) -> None:
        try:
            result, layout = _lay_out(snapshot, draft=False, generated=generated)
            _save_cache(sessionmaker(bind=bind), key, "final", result.pages, layout, result.pdf)
        except Exception:  # noqa: BLE001 - approve renders itself if this failed
            log.exception("preparing the agreement PDF of %s failed", snapshot.reference)
        finally:
            with self._lock:
                self._pending.discard(key)


_PREPARER = _Preparer()


def _store_cache(session: Session, key, kind, pages, layout, pdf) -> None:
    """Keep a rendered PDF: inside a service's write transaction as part of it (SQLite has a
    single writer), otherwise in its own short transaction; a concurrent twin is fine."""
    if session.in_transaction() and session.connection().get_execution_options().get(
            WRITE_OPTION):
        try:
            with session.begin_nested():
                session.add(_cache_row(key, kind, pages, layout, pdf))
        except IntegrityError:  # the background preparer stored it meanwhile: same bytes
            pass  # only the savepoint is rolled back; the service's write goes on
        return
    _save_cache(sessionmaker(bind=session.get_bind()), key, kind, pages, layout, pdf)


def _save_cache(factory, key, kind, pages, layout, pdf) -> None:
    with factory() as own:
        own.add(_cache_row(key, kind, pages, layout, pdf))
        try:
            own.commit()
        except IntegrityError:  # a twin stored it first
            own.rollback()


def _cache_row(key, kind, pages, layout, pdf) -> RenderCache:
    return RenderCache(content_hash=key, kind=kind, pages=pages, layout=layout, content=pdf,
                       created_at=utcnow())


def draft_pdf(session: Session, partnership: Partnership) -> bytes:
    """The watermarked draft of the current content (cached by content hash, never issued)."""
    snapshot = _snapshot(partnership, partnership.version)
    return rendered(session, snapshot, draft=True, generated=date.today().isoformat())[0]


def _next_issue_version(session: Session, partnership: Partnership) -> int:
    from workflow.models import Document

    last = session.scalar(select(func.max(Document.version)).where(
        Document.partnership_id == partnership.id, Document.kind == "issued"))
    return (last or 0) + 1


def _final_inputs(session: Session, partnership: Partnership):
    """The snapshot and date of the next issued version (stable from submission on)."""
    version = _next_issue_version(session, partnership)
    # In review the content is settled: date it by the review's start, so the PDF laid out at
    # submission is the one approval certifies (approval's effects already see the approved
    # stage, so the start is read from the audit trail).
    workflow = get_workflow(partnership.workflow_key)
    if workflow.state(partnership.stage).reviewing:
        settled = partnership.stage_entered_at
    else:
        settled = session.scalar(select(func.max(AuditEvent.occurred_at)).where(
            AuditEvent.partnership_id == partnership.id, AuditEvent.action == "transition",
            AuditEvent.to_stage.in_([s.name for s in workflow.states if s.reviewing])))
    return _snapshot(partnership, version), version, (settled or utcnow()).date().isoformat()


def make_prepare_effect(settings: DocumentSettings):
    """submit_for_review: lay out the final PDF once the content settles, after commit.

    The snapshot and its cache key are taken inside the transition from the rows its guards
    have just loaded; a content submitted before (the usual case after a round of changes)
    is found in the render cache and nothing more is done. Otherwise the layout runs after
    the commit, from the snapshot (plain data), so the write lock is never held for it.
    """

    def prepare(session: Session, partnership: Partnership, actor, transition) -> None:
        snapshot, _version, settled = _final_inputs(session, partnership)
        key = cache_key(snapshot, draft=False, generated=settled)
        if is_cached(session, key):
            return
        bind = session.get_bind()

        def after_commit(_session):
            _PREPARER.submit(bind, key, snapshot, settled, settings.prepare_in_background)

        event.listen(session, "after_commit", after_commit, once=True)

    return prepare


def make_issue_effect(settings: DocumentSettings):
    """approve: add the signature fields, certify, and store the issued PDF (version n)."""
    from .signing import prepare_and_certify

    def issue(session: Session, partnership: Partnership, actor, transition) -> None:
        snapshot, version, settled = _final_inputs(session, partnership)
        pdf, layout = rendered(session, snapshot, draft=False, generated=settled)
        boxes = {int(k): (v[0], tuple(v[1])) for k, v in layout["boxes"].items()}
        names = {pid: field_name(pid) for pid in boxes}
        certified = prepare_and_certify(
            pdf, boxes, names, settings.signer,
            reason=f"Issued by ClusterPact: {partnership.reference} version {version}")
        if current_issued(session, partnership.id) is not None:
            from workflow.services.documents import supersede_current

            supersede_current(session, partnership, actor)
        document = store_document(session, partnership, actor, kind="issued",
                                  status="current", filename=issued_filename(partnership,
                                                                             version),
                                  content=certified)
        audit.record(session, actor, "agreement_issued", partnership=partnership,
                     details={"document_id": document.id, "version": version,
                              "sha256": document.sha256})

    return issue


def make_evidence_effect(settings: DocumentSettings):
    """complete: issue the certificate of completion as its own PDF."""

    def evidence(session: Session, partnership: Partnership, actor, transition) -> None:
        from .evidence import render_evidence

        pdf = render_evidence(session, partnership)
        document = store_document(session, partnership, actor, kind="evidence",
                                  status="current",
                                  filename=f"{partnership.reference}-evidence.pdf", content=pdf)
        audit.record(session, actor, "evidence_report_issued", partnership=partnership,
                     details={"document_id": document.id, "sha256": document.sha256})

    return evidence


def make_verifier(settings: DocumentSettings):
    """The upload verifier handed to workflow.services.documents.upload_signed_copy."""
    from .verify import verify_signed_copy

    def verify(issued: bytes, upload: bytes, expected: dict[str, tuple[int, str]]
               ) -> UploadVerdict:
        names = {field: name for field, (_pid, name) in expected.items()}
        result = verify_signed_copy(issued, upload, names, settings.trust_roots,
                                    max_bytes=settings.max_upload_bytes)
        checks = [SignatureCheck(
            field=s.field, party_id=expected[s.field][0] if s.new and s.field in expected
            else None,
            signer_subject=s.signer_subject, certificate_sha256=s.certificate_sha256,
            signing_time=s.signing_time, intact=s.intact, valid=s.valid, trusted=s.trusted,
            modification_level=s.modification_level or "")
            for s in result.signatures if not s.certification]
        return UploadVerdict(result.status, result.reason, checks)

    return verify


def bind(settings: DocumentSettings) -> None:
    """Bind the document effects of the workflow definitions to this layer."""
    bind_effect("prepare_agreement", make_prepare_effect(settings))
    bind_effect("issue_agreement", make_issue_effect(settings))
    bind_effect("issue_evidence_report", make_evidence_effect(settings))
