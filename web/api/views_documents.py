"""Documents: the list, downloads (byte-identical from the database), the agreement PDF,
and signed copies uploaded for verification."""

from __future__ import annotations

import hashlib

from flask import current_app, url_for

from contracts.issuing import draft_pdf
from workflow import queries
from workflow.errors import NotFound
from workflow.models import Document
from workflow.roles import is_staff
from workflow.services import documents as svc

from ..db import get_db
from ..documents.views import PARTNER_KINDS
from ..downloads import attachment
from . import outputs as o
from . import present, v1
from .auth import actor
from .errors import ApiProblem
from .schemas import SignedCopyForm
from .spec import operation
from .views_partnerships import ONE

TAG = "Documents"
PDF = {"200": "application/pdf"}


def _may_read(user, document: Document) -> bool:
    """Partners read issued agreements, evidence reports and their own uploads (as the pages)."""
    return (is_staff(user.role) or document.kind in PARTNER_KINDS
            or document.created_by_id == user.id)


@v1.get(ONE + "/documents")
@operation("listDocuments", TAG, HTTP_200=o.DocumentList)
def list_documents(partnership_id: int):
    """The partnership's documents you may read, newest first (content not included)."""
    db, user = get_db(), actor()
    p = queries.get_partnership(db, user, partnership_id)
    return o.DocumentList(items=[present.document(d) for d in svc.documents(db, p.id)
                                 if _may_read(user, d)])


@v1.get(ONE + "/documents/<int:document_id>")
@operation("downloadDocument", TAG, binary=PDF)
def download_document(partnership_id: int, document_id: int):
    """The stored bytes of one document, exactly as issued or uploaded."""
    db, user = get_db(), actor()
    p = queries.get_partnership(db, user, partnership_id)
    document = db.get(Document, document_id)
    if document is None or document.partnership_id != p.id or not _may_read(user, document):
        raise NotFound(f"Document {document_id} not found.")
    return attachment(svc.content_of(db, document), document.filename, document.sha256,
                      document.media_type)


@v1.get(ONE + "/agreement.pdf")
@operation("getAgreementPdf", TAG, binary=PDF)
def agreement_pdf(partnership_id: int):
    """The issued agreement in force; before approval, a watermarked draft (staff only)."""
    db, user = get_db(), actor()
    p = queries.get_partnership(db, user, partnership_id)
    issued = svc.current_issued(db, p.id)
    if issued is not None:
        return attachment(svc.content_of(db, issued), issued.filename, issued.sha256)
    if not is_staff(user.role):
        raise NotFound("The agreement has not been issued yet.")
    content = draft_pdf(db, p)
    return attachment(content, f"{p.reference}-DRAFT.pdf", hashlib.sha256(content).hexdigest())


@v1.post(ONE + "/signed-copies")
@operation("uploadSignedCopy", TAG, errors=(403, 409, 413, 422), HTTP_201=o.SignedCopyResult)
def upload_signed_copy(partnership_id: int, form: SignedCopyForm):
    """Upload a signed copy of the issued PDF (multipart, field `file`) for verification.

    201 with the result when accepted (or held for manual review); 422 with the reason when
    rejected. Every upload is kept and audited.
    """
    file = form.file
    if not hasattr(file, "read"):
        raise ApiProblem(400, "malformed", "Send the signed PDF as a file in the field 'file'.")
    document = svc.upload_signed_copy(
        get_db(), actor(), partnership_id, file.read(), file.filename or "signed.pdf",
        current_app.extensions["clusterpact.verifier"])
    if document.status == "rejected":
        raise ApiProblem(422, "signed-copy-rejected", document.reason or "Rejected.",
                         document_id=document.id,
                         reasons=[document.reason] if document.reason else None)
    location = url_for(".download_document", partnership_id=partnership_id,
                       document_id=document.id)
    return present.signed_copy(document), 201, {"Location": location}
