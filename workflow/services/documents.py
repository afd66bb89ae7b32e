"""Issued agreements, signed copies, wet-ink attestations and signatures.

The document layer (rendering, certification, verification) lives in contracts/; it is
passed in as plain callables so this module stays free of it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import audit
from ..errors import Conflict, NotFound, ValidationFailed
from ..models import Document, DocumentBlob, Partnership, Signature, utcnow
from ..notifications import notify
from ..roles import COORDINATOR, PARTNER
from ..validation import clean_text
from ._base import load_partnership, require_role, write

SIGNING_STAGES = {"signing"}


def field_name(party_id: int) -> str:
    """The name of a party's signature field in the issued PDF."""
    return f"Signature_Party_{party_id}"


def current_issued(session: Session, partnership_id: int) -> Document | None:
    """The issued agreement in force, if any."""
    return session.scalar(select(Document).where(
        Document.partnership_id == partnership_id, Document.kind == "issued",
        Document.status == "current"))


def documents(session: Session, partnership_id: int) -> list[Document]:
    """Every document of a partnership, newest first (content not loaded)."""
    return list(session.scalars(select(Document).where(
        Document.partnership_id == partnership_id).order_by(Document.id.desc())))


def content_of(session: Session, document: Document) -> bytes:
    """The stored bytes of a document."""
    blob = session.get(DocumentBlob, document.id)
    return blob.content


def _next_version(session: Session, partnership_id: int, kind: str) -> int:
    last = session.scalar(select(func.max(Document.version)).where(
        Document.partnership_id == partnership_id, Document.kind == kind))
    return (last or 0) + 1


def store_document(session: Session, partnership: Partnership, actor, *, kind: str, status: str,
                   filename: str, content: bytes, issued: Document | None = None,
                   reason: str | None = None, details: dict | None = None) -> Document:
    """Add a document with its sha256 in the caller's transaction (atomic with it)."""
    document = Document(
        partnership_id=partnership.id, kind=kind, status=status, filename=filename,
        version=_next_version(session, partnership.id, kind),
        sha256=hashlib.sha256(content).hexdigest(), size=len(content),
        issued_document_id=issued.id if issued else None,
        created_by_id=getattr(actor, "id", None), created_at=utcnow(), reason=reason,
        details=details)
    document.blob = DocumentBlob(content=content)
    session.add(document)
    session.flush()
    return document


def issued_filename(partnership: Partnership, version: int) -> str:
    """A download name built from reference and version."""
    return f"{partnership.reference}-agreement-v{version}.pdf"


def supersede_current(session: Session, partnership: Partnership, actor) -> None:
    """Mark the current issued PDF superseded (it stays stored and listed)."""
    current = current_issued(session, partnership.id)
    if current is not None:
        current.status, current.superseded_at = "superseded", utcnow()
        audit.record(session, actor, "agreement_superseded", partnership=partnership,
                     details={"document_id": current.id, "sha256": current.sha256})


@dataclass(frozen=True)
class SignatureCheck:
    """One signature found in an upload, as the verifier reports it."""

    field: str
    party_id: int | None
    signer_subject: str
    certificate_sha256: str
    signing_time: datetime | None
    intact: bool
    valid: bool
    trusted: bool
    modification_level: str


@dataclass(frozen=True)
class UploadVerdict:
    status: str  # accepted | manual_review | rejected
    reason: str
    signatures: list[SignatureCheck] = field(default_factory=list)


# (issued bytes, upload, {field name: (party id, party name)}) -> verdict
Verifier = Callable[[bytes, bytes, dict[str, tuple[int, str]]], UploadVerdict]


def _file_name(filename: str | None, default: str) -> str:
    """An uploaded file's name as it is kept and sent back: one line of at most 200
    characters (the column's size), or ValidationFailed."""
    name, error = clean_text(filename or default, max_length=200)
    if error:
        raise ValidationFailed("The file name is not valid.", {"file": error})
    return name


def upload_signed_copy(session: Session, actor, partnership_id: int, content: bytes,
                       filename: str, verify: Verifier) -> Document:
    """Verify and keep an uploaded signed copy; accepted signatures are recorded."""
    if actor.role not in (PARTNER, COORDINATOR):
        require_role(actor, PARTNER, COORDINATOR, doing="upload signed copies")
    name = _file_name(filename, "signed.pdf")
    with write(session):
        partnership = load_partnership(session, actor, partnership_id)
        if partnership.stage not in SIGNING_STAGES:
            raise Conflict(f"{partnership.reference} is not out for signature.")
        issued = current_issued(session, partnership.id)
        if issued is None:
            raise Conflict(f"{partnership.reference} has no issued agreement to sign.")
        # Any party's field may be signed in a copy (signatures are collected in turn); who
        # signed is recorded from the certificate and shown, never assumed from the uploader.
        expected = {field_name(p.id): (p.id, p.organisation.name) for p in partnership.parties}
        verdict = verify(content_of(session, issued), content, expected)
        document = store_document(
            session, partnership, actor, kind="signed_copy", status=verdict.status,
            filename=name, content=content, issued=issued, reason=verdict.reason,
            details={"signatures": [_check_dict(s) for s in verdict.signatures]})
        if verdict.status == "accepted":
            for check in verdict.signatures:
                if check.party_id is not None:
                    _record_digital(session, partnership, issued, document, check)
        partnership.touch()
        audit.record(session, actor, f"signed_copy_{verdict.status}", partnership=partnership,
                     details={"document_id": document.id, "sha256": document.sha256,
                              "reason": verdict.reason},
                     outcome="rejected" if verdict.status == "rejected" else "success")
        _notify_upload(session, partnership, actor, document, verdict)
    return document


def _notify_upload(session, partnership, actor, document, verdict: UploadVerdict) -> None:
    """Tell the owner and the uploader how an upload was judged (in the same transaction):
    accepted, rejected, or held for the coordinator's manual review."""
    notify(session, [partnership.owner, actor], f"signed_copy_{verdict.status}", {
        "filename": document.filename, "uploader_name": actor.display_name,
        "reason": verdict.reason,
        "signed_by": ", ".join(s.signer_subject for s in verdict.signatures if s.party_id),
    }, partnership=partnership, link=f"/partnerships/{partnership.id}#documents")


def _check_dict(c: SignatureCheck) -> dict:
    return {"field": c.field, "party_id": c.party_id, "signer_subject": c.signer_subject,
            "certificate_sha256": c.certificate_sha256,
            "signing_time": c.signing_time.isoformat() if c.signing_time else None,
            "intact": c.intact, "valid": c.valid, "trusted": c.trusted,
            "modification_level": c.modification_level}


def _record_digital(session, partnership, issued, document, check: SignatureCheck) -> None:
    already = session.scalar(select(Signature.id).where(
        Signature.issued_document_id == issued.id, Signature.party_id == check.party_id,
        Signature.field_name == check.field, Signature.certificate_sha256
        == check.certificate_sha256))
    if already:
        return
    session.add(Signature(
        partnership_id=partnership.id, party_id=check.party_id, issued_document_id=issued.id,
        source_document_id=document.id, kind="digital", field_name=check.field,
        signer_subject=check.signer_subject, certificate_sha256=check.certificate_sha256,
        signing_time=check.signing_time, intact=check.intact, valid=check.valid,
        trusted=check.trusted, modification_level=check.modification_level))


def record_wet_ink(session: Session, actor, partnership_id: int, party_id: int, scan: bytes,
                   filename: str, note: str) -> Signature:
    """Record a party's signature from a scanned wet-ink copy, attested by a coordinator."""
    require_role(actor, COORDINATOR, doing="attest wet-ink signatures")
    note, error = clean_text(note, max_length=2000, multiline=True)
    if error:
        raise ValidationFailed("A note is required.", {"note": error})
    if not scan:
        raise ValidationFailed("Attach the scanned copy.", {"file": "Required."})
    name = _file_name(filename, "scan.pdf")
    with write(session):
        partnership = load_partnership(session, actor, partnership_id)
        if partnership.stage not in SIGNING_STAGES:
            raise Conflict(f"{partnership.reference} is not out for signature.")
        issued = current_issued(session, partnership.id)
        if issued is None:
            raise Conflict(f"{partnership.reference} has no issued agreement.")
        party = next((p for p in partnership.parties if p.id == party_id), None)
        if party is None:
            raise NotFound(f"Party {party_id} is not part of {partnership.reference}.")
        document = store_document(session, partnership, actor, kind="wet_ink_scan",
                                  status="accepted", filename=name,
                                  content=scan, issued=issued, reason=note)
        signature = Signature(
            partnership_id=partnership.id, party_id=party_id, issued_document_id=issued.id,
            source_document_id=document.id, kind="wet_ink", attested_by_id=actor.id,
            note=note, intact=False, valid=False, trusted=False)
        session.add(signature)
        partnership.touch()
        audit.record(session, actor, "wet_ink_attested", partnership=partnership,
                     comment=note, details={"party_id": party_id, "sha256": document.sha256})
    return signature


def signatures_for(session: Session, issued: Document) -> list[Signature]:
    """Signatures recorded against an issued document."""
    return list(session.scalars(select(Signature).where(
        Signature.issued_document_id == issued.id).order_by(Signature.id)))
