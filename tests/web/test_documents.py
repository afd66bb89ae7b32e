"""Downloads and uploads through the web (CSRF on, real PDFs)."""

from __future__ import annotations

import hashlib
import io
import subprocess

from werkzeug.http import parse_options_header

from contracts.signing import make_certificate, sign_field, signer_from_objects
from tests.web.conftest import csrf_token
from workflow.services import documents as docs


def text_of(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()


def test_staff_download_a_watermarked_draft_and_partners_cannot(client, auth, make_partnership,
                                                                 make_user):
    p = make_partnership("negotiation")
    auth.login(p.owner.email)
    first = client.get(f"/partnerships/{p.id}/agreement.pdf")
    assert first.status_code == 200 and first.data.startswith(b"%PDF-")
    assert parse_options_header(first.headers["Content-Disposition"]) == (
        "attachment", {"filename": f"{p.reference}-DRAFT.pdf"})
    pages = text_of(first.data).split("\f")
    assert all("DRAFT" in page for page in pages if page.strip())
    again = client.get(f"/partnerships/{p.id}/agreement.pdf")
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    auth.logout()
    partner = make_user("partner", organisation=p.parties[1].organisation)
    auth.login(partner.email)
    assert client.get(f"/partnerships/{p.id}/agreement.pdf").status_code == 404


def test_partner_downloads_the_issued_pdf_byte_identical(client, auth, make_partnership,
                                                         make_user, make_org, session):
    p = make_partnership("signing")
    issued = docs.current_issued(session, p.id)
    partner = make_user("partner", organisation=p.parties[1].organisation)
    auth.login(partner.email)
    url = f"/partnerships/{p.id}/agreement.pdf"
    one, two = client.get(url), client.get(url)
    assert one.status_code == two.status_code == 200
    assert one.data == two.data == docs.content_of(session, issued)
    assert one.headers["ETag"] == f'"{issued.sha256}"'
    assert hashlib.sha256(one.data).hexdigest() == issued.sha256
    assert parse_options_header(one.headers["Content-Disposition"])[1] == {
        "filename": f"{p.reference}-agreement-v1.pdf"}
    assert client.get(url, headers={"If-None-Match": issued.sha256}).status_code == 304
    auth.logout()
    outsider = make_user("partner", organisation=make_org("BR", kind="sme"))
    auth.login(outsider.email)
    assert client.get(url).status_code == 404
    assert client.get(f"/partnerships/{p.id}/documents/{issued.id}").status_code == 404


def test_upload_a_signed_copy_and_see_the_result(client, auth, make_partnership, make_user,
                                                 session):
    p = make_partnership("signing")
    issued = docs.current_issued(session, p.id)
    party = p.parties[1]
    key, cert = make_certificate("Chen Jing", organisation=party.organisation.name)
    signed = sign_field(docs.content_of(session, issued), docs.field_name(party.id),
                        signer_from_objects(key, cert))
    partner = make_user("partner", organisation=party.organisation)
    auth.login(partner.email)
    form = client.get(f"/partnerships/{p.id}/signed-copies")
    token = csrf_token(form.get_data(as_text=True))
    done = client.post(f"/partnerships/{p.id}/signed-copies", data={
        "csrf_token": token, "file": (io.BytesIO(signed), "signed.pdf")},
        content_type="multipart/form-data", follow_redirects=True)
    html = done.get_data(as_text=True)
    assert done.status_code == 200
    assert "Signed copy: accepted" in html and "Chen Jing" in html
    bad = client.post(f"/partnerships/{p.id}/signed-copies", data={
        "csrf_token": token, "file": (io.BytesIO(b"GIF89a not a pdf"), "signed.pdf")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "Signed copy: rejected" in bad.get_data(as_text=True)
    assert "The file is not a PDF document." in bad.get_data(as_text=True)


def test_upload_without_csrf_token_is_refused(client, auth, make_partnership, session):
    p = make_partnership("signing")
    auth.login(p.owner.email)
    response = client.post(f"/partnerships/{p.id}/signed-copies", data={
        "file": (io.BytesIO(b"%PDF-1.7"), "x.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert [d for d in docs.documents(session, p.id) if d.kind == "signed_copy"] == []


def test_wet_ink_is_shown_as_an_attested_scan(client, auth, make_partnership):
    from workflow.demo import SCAN_PLACEHOLDER

    p = make_partnership("signing")
    party = p.parties[0]
    auth.login(p.owner.email)
    url = f"/partnerships/{p.id}/parties/{party.id}/wet-ink"
    token = csrf_token(client.get(url).get_data(as_text=True))
    missing_note = client.post(url, data={"csrf_token": token, "note": "",
                                          "file": (io.BytesIO(SCAN_PLACEHOLDER), "scan.pdf")},
                               content_type="multipart/form-data")
    assert missing_note.status_code == 422
    ok = client.post(url, data={"csrf_token": token, "note": "Signed in ink, courier copy.",
                                "file": (io.BytesIO(SCAN_PLACEHOLDER), "scan.pdf")},
                     content_type="multipart/form-data")
    assert ok.status_code == 302
    page = client.get(f"/partnerships/{p.id}").get_data(as_text=True)
    assert f"{party.organisation.name}:\n      scan, attested by" in page or \
        "scan, attested by Coordinator User" in page
    assert "digitally signed by" not in page.split("Signatures on version")[1].split(
        party.organisation.name)[1].split("</li>")[0]
