"""Downloads and uploads. Issued PDFs are served byte-identical from the database."""

from __future__ import annotations

import hashlib

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from contracts.issuing import draft_pdf
from workflow import queries
from workflow.errors import ValidationFailed
from workflow.models import Document
from workflow.services import documents as svc

from ..audit_context import request_details, security_event
from ..db import get_db
from .forms import UploadForm, WetInkForm

bp = Blueprint("documents", __name__)
PARTNER_KINDS = {"issued", "evidence"}


@bp.before_request
@login_required
def _require_login():
    """Every page here needs a logged-in user."""


def _pdf_response(content: bytes, filename: str, etag: str):
    response = make_response(content)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.set_etag(etag)
    return response.make_conditional(request)


@bp.get("/partnerships/<int:partnership_id>/agreement.pdf")
def agreement(partnership_id: int):
    db = get_db()
    p = queries.get_partnership(db, current_user, partnership_id)
    issued = svc.current_issued(db, p.id)
    if issued is not None:
        return _pdf_response(svc.content_of(db, issued), issued.filename, issued.sha256)
    if not current_user.is_staff:
        abort(404, "The agreement has not been issued yet.")
    content = draft_pdf(db, p)
    return _pdf_response(content, f"{p.reference}-DRAFT.pdf",
                         hashlib.sha256(content).hexdigest())


@bp.get("/partnerships/<int:partnership_id>/documents/<int:document_id>")
def download(partnership_id: int, document_id: int):
    db = get_db()
    p = queries.get_partnership(db, current_user, partnership_id)
    document = db.get(Document, document_id)
    if document is None or document.partnership_id != p.id:
        abort(404)
    if not current_user.is_staff and document.kind not in PARTNER_KINDS and (
            document.created_by_id != current_user.id):
        abort(404)
    return _pdf_response(svc.content_of(db, document), document.filename, document.sha256)


@bp.route("/partnerships/<int:partnership_id>/signed-copies", methods=["GET", "POST"])
def upload(partnership_id: int):
    p = queries.get_partnership(get_db(), current_user, partnership_id)
    if request.method == "GET":
        return render_template("documents/upload.html", p=p, form=UploadForm())
    form = UploadForm()
    if not form.validate_on_submit():
        _audit_rejected_upload(p.id, form.errors)
        return render_template("documents/upload.html", p=p, form=form), 422
    file = form.file.data
    document = svc.upload_signed_copy(get_db(), current_user, p.id, file.read(),
                                      file.filename, current_app.extensions[
                                          "clusterpact.verifier"])
    return redirect(url_for(".result", partnership_id=p.id, document_id=document.id))


@bp.get("/partnerships/<int:partnership_id>/signed-copies/<int:document_id>")
def result(partnership_id: int, document_id: int):
    db = get_db()
    p = queries.get_partnership(db, current_user, partnership_id)
    document = db.get(Document, document_id)
    if document is None or document.partnership_id != p.id or document.kind != "signed_copy":
        abort(404)
    if not current_user.is_staff and document.created_by_id != current_user.id:
        abort(404)
    return render_template("documents/result.html", p=p, document=document)


@bp.route("/partnerships/<int:partnership_id>/parties/<int:party_id>/wet-ink",
          methods=["GET", "POST"])
def wet_ink(partnership_id: int, party_id: int):
    p = queries.get_partnership(get_db(), current_user, partnership_id)
    party = next((x for x in p.parties if x.id == party_id), None) or abort(404)
    form = WetInkForm()
    if form.validate_on_submit():
        file = form.file.data
        try:
            svc.record_wet_ink(get_db(), current_user, p.id, party_id, file.read(),
                               file.filename, form.note.data)
        except ValidationFailed as exc:
            form.note.errors = [*form.note.errors, *exc.field_errors.values()]
        else:
            flash(f"Wet-ink signature of {party.organisation.name} recorded as an attested "
                  "scan.", "success")
            return redirect(url_for("partnerships.detail", partnership_id=p.id) + "#documents")
    if request.method == "POST" and form.errors:
        _audit_rejected_upload(p.id, form.errors)
    return render_template("documents/wet_ink.html", p=p, party=party, form=form), (
        422 if form.errors else 200)


def _audit_rejected_upload(partnership_id: int, errors: dict) -> None:
    security_event("upload_rejected", "rejected", **request_details(
        partnership_id=partnership_id, fields=sorted(errors)))



