"""Downloads and uploads. Issued PDFs are served byte-identical from the database."""

from __future__ import annotations

import hashlib

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from contracts.issuing import draft_pdf
from contracts.verify import megabytes
from workflow import queries
from workflow.errors import ValidationFailed
from workflow.models import Document
from workflow.services import documents as svc

from ..audit_context import request_details, security_event
from ..db import get_db
from ..downloads import attachment
from ..form_errors import attach_errors
from .forms import UploadForm, WetInkForm

bp = Blueprint("documents", __name__)
PARTNER_KINDS = {"issued", "evidence"}


@bp.before_request
@login_required
def _require_login():
    """Every page here needs a logged-in user."""


@bp.get("/partnerships/<int:partnership_id>/agreement.pdf")
def agreement(partnership_id: int):
    db = get_db()
    p = queries.get_partnership(db, current_user, partnership_id)
    issued = svc.current_issued(db, p.id)
    if issued is not None:
        return attachment(svc.content_of(db, issued), issued.filename, issued.sha256)
    if not current_user.is_staff:
        abort(404, "The agreement has not been issued yet.")
    content = draft_pdf(db, p)
    return attachment(content, f"{p.reference}-DRAFT.pdf", hashlib.sha256(content).hexdigest())


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
    return attachment(svc.content_of(db, document), document.filename, document.sha256,
                      document.media_type)


@bp.route("/partnerships/<int:partnership_id>/signed-copies", methods=["GET", "POST"])
def upload(partnership_id: int):
    p = queries.get_partnership(get_db(), current_user, partnership_id)
    if request.method == "GET":
        return render_template("documents/upload.html", p=p, form=UploadForm())
    form = UploadForm()
    if not form.validate_on_submit():
        _audit_rejected_upload(p.id, form.errors)
        return render_template("documents/upload.html", p=p, form=form), 422
    content = _read_within_limit(form.file)
    if content is None:
        _audit_rejected_upload(p.id, form.errors)
        return render_template("documents/upload.html", p=p, form=form), 413
    document = svc.upload_signed_copy(get_db(), current_user, p.id, content,
                                      form.file.data.filename, current_app.extensions[
                                          "clusterpact.verifier"])
    return redirect(url_for(".result", partnership_id=p.id, document_id=document.id))


def _read_within_limit(field) -> bytes | None:
    """The uploaded file's bytes, or None (with the reason on the field) when it is larger
    than MAX_UPLOAD_BYTES: such a file is refused whole and nothing of it is kept, as the
    API does."""
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    content = field.data.read(limit + 1)
    if len(content) > limit:
        field.errors = [*field.errors, f"The file is larger than the limit of "
                                       f"{megabytes(limit)} MB."]
        return None
    return content


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
    status = 422
    if form.validate_on_submit():
        content = _read_within_limit(form.file)
        if content is None:
            status = 413
        else:
            try:
                svc.record_wet_ink(get_db(), current_user, p.id, party_id, content,
                                   form.file.data.filename, form.note.data)
            except ValidationFailed as exc:
                attach_errors(form, exc)
            else:
                flash(f"Wet-ink signature of {party.organisation.name} recorded as an "
                      "attested scan.", "success")
                return redirect(url_for("partnerships.detail", partnership_id=p.id)
                                + "#documents")
    if request.method == "POST" and form.errors:
        _audit_rejected_upload(p.id, form.errors)
    return render_template("documents/wet_ink.html", p=p, party=party, form=form), (
        status if form.errors else 200)


def _audit_rejected_upload(partnership_id: int, errors: dict) -> None:
    security_event("upload_rejected", "rejected", **request_details(
        partnership_id=partnership_id, fields=sorted(errors)))



