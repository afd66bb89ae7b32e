"""Documents through the API: drafts for staff, issued PDFs byte-identical, signed copies."""

from __future__ import annotations

import hashlib
import io

import pytest
from werkzeug.http import parse_options_header

from contracts.signing import make_certificate, sign_field, signer_from_objects
from tests.api.conftest import problem
from workflow.services import documents as docs


@pytest.fixture
def signing(make_partnership, make_user, as_user, session):
    """A partnership out for signature, its issued PDF, and callers for each side."""
    p = make_partnership("signing")
    issued = docs.current_issued(session, p.id)
    partner_user = make_user("partner", organisation=p.parties[1].organisation)
    return {"p": p, "issued": issued, "pdf": docs.content_of(session, issued),
            "c": as_user(p.owner), "legal": as_user(make_user("legal")),
            "partner": as_user(partner_user)}


def upload(caller, p, content: bytes, name="signed.pdf"):
    return caller.post(f"/api/v1/partnerships/{p.id}/signed-copies",
                       data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def test_staff_get_a_watermarked_draft_and_partners_do_not(make_partnership, make_user,
                                                           as_user):
    p = make_partnership("negotiation")
    url = f"/api/v1/partnerships/{p.id}/agreement.pdf"
    response = as_user(p.owner).get(url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert parse_options_header(response.headers["Content-Disposition"]) == (
        "attachment", {"filename": f"{p.reference}-DRAFT.pdf"})
    partner = make_user("partner", organisation=p.parties[1].organisation)
    problem(as_user(partner).get(url), 404)


def test_issued_pdf_and_documents_are_byte_identical(signing):
    p, issued, partner = signing["p"], signing["issued"], signing["partner"]
    one = partner.get(f"/api/v1/partnerships/{p.id}/agreement.pdf")
    assert one.status_code == 200 and one.data == signing["pdf"]
    assert one.headers["ETag"] == f'"{issued.sha256}"'
    assert hashlib.sha256(one.data).hexdigest() == issued.sha256
    listed = partner.get(f"/api/v1/partnerships/{p.id}/documents").get_json()["items"]
    entry = next(d for d in listed if d["kind"] == "issued")
    assert entry["sha256"] == issued.sha256 and entry["status"] == "current"
    again = partner.get(entry["download"])
    assert again.status_code == 200 and again.data == signing["pdf"]
    problem(partner.get(f"/api/v1/partnerships/{p.id}/documents/{issued.id + 999}"), 404)


def test_upload_signed_copy_accepted(signing, session):
    p, partner = signing["p"], signing["partner"]
    party = p.parties[1]
    key, cert = make_certificate("Li Wei", organisation=party.organisation.name)
    signed = sign_field(signing["pdf"], docs.field_name(party.id),
                        signer_from_objects(key, cert))
    response = upload(partner, p, signed)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "accepted" and body["document"]["sha256"] == (
        hashlib.sha256(signed).hexdigest())
    assert [(s["field"], s["party_id"]) for s in body["signatures"]] == [
        (docs.field_name(party.id), party.id)]
    assert "Li Wei" in body["signatures"][0]["signer_subject"]
    assert partner.get(response.headers["Location"]).data == signed
    session.rollback()  # end the test's read snapshot: the app committed in its own session
    assert {s.party_id for s in docs.signatures_for(session, signing["issued"])} == {party.id}


def test_rejected_copy_is_422_kept_and_shown_only_to_staff_and_its_uploader(signing):
    p, c, partner = signing["p"], signing["c"], signing["partner"]
    body = problem(upload(c, p, b"GIF89a not a pdf"), 422)
    assert body["type"].endswith("#problem-signed-copy-rejected")
    assert body["detail"] == "The file is not a PDF document." and body["document_id"]
    url = f"/api/v1/partnerships/{p.id}/documents"
    assert body["document_id"] in [d["id"] for d in c.get(url).get_json()["items"]]
    assert body["document_id"] not in [d["id"] for d in partner.get(url).get_json()["items"]]
    problem(partner.get(f"{url}/{body['document_id']}"), 404)


def test_upload_errors(signing, make_partnership, as_user):
    p = signing["p"]
    problem(upload(signing["legal"], p, signing["pdf"]), 403)
    problem(signing["partner"].post(f"/api/v1/partnerships/{p.id}/signed-copies",
                                    data=signing["pdf"], content_type="application/pdf"), 400)
    missing = problem(signing["partner"].post(
        f"/api/v1/partnerships/{p.id}/signed-copies", data={"other": "x"},
        content_type="multipart/form-data"), 422)
    assert "file" in missing["errors"]
    approved = make_partnership("approved", owner=p.owner, eu=p.parties[0].organisation,
                                counterpart=p.parties[1].organisation)
    problem(upload(signing["c"], approved, signing["pdf"]), 409)
