"""Hostile values in URLs, query strings, forms and uploaded file names: a 4xx with a reason
or a harmless answer, never a 500, and nothing stored that breaks a later page."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from gunicorn.http.wsgi import HEADER_VALUE_RE
from sqlalchemy import select

from tests.api.conftest import grant_token
from tests.web.conftest import csrf_token
from workflow.models import Document, Partnership, User

PAST_SQLITE = str(2**63)  # SQLite cannot bind it: it must never reach the database
PAST_INT32 = str(2**31)  # no id column holds it


@pytest.mark.parametrize("big", [PAST_INT32, PAST_SQLITE])
def test_ids_no_column_holds_are_not_found(client, auth, make_partnership, big):
    p = make_partnership("draft")
    auth.login(p.owner.email)
    for url in (f"/partnerships/{big}", f"/partnerships/{big}/edit",
                f"/partnerships/{big}/review", f"/partnerships/{big}/preview",
                f"/partnerships/{big}/agreement.pdf", f"/partnerships/{big}/clauses/liability",
                f"/partnerships/{p.id}/documents/{big}",
                f"/partnerships/{p.id}/signed-copies/{big}",
                f"/partnerships/{big}/parties/{p.parties[0].id}/wet-ink"):
        assert client.get(url).status_code == 404, url
    token = csrf_token(client.get(f"/partnerships/{p.id}").get_data(as_text=True))
    for url in (f"/partnerships/{big}/transitions/start_due_diligence",
                f"/partnerships/{p.id}/obligations/{big}/done", f"/notifications/{big}/read"):
        assert client.post(url, data={"csrf_token": token, "expected_version": 1}
                           ).status_code == 404, url


def test_admin_actions_on_an_id_no_column_holds_are_not_found(client, auth, make_user):
    auth.login(make_user("admin").email)
    token = csrf_token(client.get("/admin/users").get_data(as_text=True))
    for action, data in (("role", {"role": "legal", "organisation_id": 0}),
                         ("active", {"active": "0"}), ("second-factor/reset", {})):
        response = client.post(f"/admin/users/{PAST_SQLITE}/{action}",
                               data={"csrf_token": token, **data})
        assert response.status_code == 404, action


def test_out_of_range_ids_in_query_strings_are_ignored_or_refused(client, auth,
                                                                  make_partnership):
    p = make_partnership("draft")
    auth.login(p.owner.email)
    listing = client.get(f"/partnerships/?owner={PAST_SQLITE}")
    assert listing.status_code == 200 and p.reference in listing.get_data(as_text=True)
    assert client.get(f"/partnerships/?owner=-{PAST_SQLITE}").status_code == 200
    assert client.get(f"/notifications/?before={PAST_SQLITE}").status_code == 200
    for cursor in (f"2024-01-01T00:00:00|{PAST_SQLITE}", "2024-01-01T00:00:00|0"):
        page = client.get("/partnerships/", query_string={"after": cursor})
        assert page.status_code == 422
        assert "The page link is not valid" in page.get_data(as_text=True)


def _edit_dates(client, p, **dates):
    page = client.get(f"/partnerships/{p.id}/edit").get_data(as_text=True)
    return client.post(f"/partnerships/{p.id}/edit", data={
        "csrf_token": csrf_token(page), "expected_version": p.version, "title": p.title,
        **dates})


@pytest.mark.parametrize("dates", [{"end_date": "9999-12-31"}, {"end_date": "2200-01-01"},
                                   {"start_date": "0001-01-01"}, {"start_date": "1989-12-31"}])
def test_partnership_dates_outside_any_agreement_term_are_refused(client, auth, session,
                                                                 make_partnership, dates):
    p = make_partnership("draft")
    auth.login(p.owner.email)
    response = _edit_dates(client, p, **dates)
    assert response.status_code == 422
    assert "A date from 1990-01-01 to 2199-12-31." in response.get_data(as_text=True)
    session.rollback()
    stored = session.get(Partnership, p.id, populate_existing=True)
    assert (stored.start_date, stored.end_date, stored.version) == (None, None, p.version)


def test_partnership_dates_at_the_edges_of_the_term_are_kept(client, auth, session,
                                                            make_partnership):
    p = make_partnership("draft")
    auth.login(p.owner.email)
    response = _edit_dates(client, p, start_date="1990-01-01", end_date="2199-12-31")
    assert response.status_code == 302
    session.rollback()
    stored = session.get(Partnership, p.id, populate_existing=True)
    assert (stored.start_date, stored.end_date) == (date(1990, 1, 1), date(2199, 12, 31))


def test_the_api_refuses_the_same_dates_naming_the_field(client, session, make_org, make_user):
    coordinator = make_user("coordinator")
    eu, cn = make_org("IT"), make_org("CN", kind="sme")
    token = grant_token(session, coordinator)
    response = client.post("/api/v1/partnerships", headers={
        "Authorization": f"Bearer {token}"}, json={
        "title": "Far future", "workflow": "cluster_partnership",
        "agreement_type": "collaboration", "end_date": "9999-12-31",
        "parties": [{"organisation_id": eu.id, "role": "lead"},
                    {"organisation_id": cn.id, "role": "counterpart"}]})
    assert response.status_code == 422
    assert "end_date" in str(response.get_json())
    assert session.scalars(select(Partnership).where(
        Partnership.title == "Far future")).first() is None


def _multipart(token: str, disposition: str, content: bytes, fields: dict):
    """A multipart body written by hand: the file name exactly as a browser may send it."""
    b = "HostileInputBoundary"
    out = [f'--{b}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n']
    out += [f'--{b}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
            for k, v in fields.items()]
    body = "".join(out).encode() + (
        f'--{b}\r\nContent-Disposition: form-data; name="file"; {disposition}\r\n'
        "Content-Type: application/pdf\r\n\r\n").encode() + content + f"\r\n--{b}--\r\n".encode()
    return body, f"multipart/form-data; boundary={b}"


def _wet_ink(client, p, disposition: str):
    url = f"/partnerships/{p.id}/parties/{p.parties[1].id}/wet-ink"
    body, content_type = _multipart(csrf_token(client.get(url).get_data(as_text=True)),
                                    disposition, b"%PDF-1.4 scanned copy",
                                    {"note": "Signed in Turin on 3 March"})
    return client.post(url, data=body, content_type=content_type)


def _documents(session, kind: str) -> list[Document]:
    session.rollback()
    return list(session.scalars(select(Document).where(Document.kind == kind)))


@pytest.mark.parametrize(("disposition", "reason"), [
    ("filename*=UTF-8''scan%0Acopy.pdf", "Contains characters that are not allowed."),
    ("filename*=UTF-8''scan%00copy.pdf", "Contains characters that are not allowed."),
    ('filename="' + "a" * 197 + '.pdf"', "At most 200 characters.")])
def test_a_wet_ink_scan_with_a_bad_file_name_is_refused(client, auth, session,
                                                       make_partnership, disposition, reason):
    p = make_partnership("signing")
    auth.login(p.owner.email)
    response = _wet_ink(client, p, disposition)
    assert response.status_code == 422
    assert reason in response.get_data(as_text=True)
    assert _documents(session, "wet_ink_scan") == []


def test_a_wet_ink_scan_without_a_name_is_kept_as_scan_pdf(client, auth, session,
                                                          make_partnership):
    p = make_partnership("signing")
    auth.login(p.owner.email)
    assert _wet_ink(client, p, 'filename=""').status_code in (302, 422)  # browsers send one
    assert _wet_ink(client, p, 'filename="turin.pdf"').status_code == 302
    assert [d.filename for d in _documents(session, "wet_ink_scan")] == ["turin.pdf"]


def test_a_file_named_in_another_script_downloads_with_that_name(client, auth, session,
                                                                 make_partnership):
    """A counterpart's scan named in its own script: the header carries an ASCII fallback
    and the UTF-8 name (RFC 6266), both values gunicorn can send."""
    p = make_partnership("signing")
    auth.login(p.owner.email)
    url = f"/partnerships/{p.id}/signed-copies"
    body, content_type = _multipart(csrf_token(client.get(url).get_data(as_text=True)),
                                    "filename*=UTF-8''%E5%90%88%E5%90%8C.pdf", b"%PDF-1.4 x", {})
    assert client.post(url, data=body, content_type=content_type).status_code == 302
    (document,) = _documents(session, "signed_copy")
    assert document.filename == "合同.pdf"
    token = grant_token(session, p.owner)
    for download in (client.get(f"/partnerships/{p.id}/documents/{document.id}"),
                     client.get(f"/api/v1/partnerships/{p.id}/documents/{document.id}",
                                headers={"Authorization": f"Bearer {token}"})):
        assert download.status_code == 200
        assert download.data == b"%PDF-1.4 x"
        disposition = download.headers["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert "filename*=UTF-8''%E5%90%88%E5%90%8C.pdf" in disposition
        assert download.headers["Cache-Control"] == "private, no-store"
        assert not [v for v in download.headers.values() if not HEADER_VALUE_RE.fullmatch(v)]


def test_an_unknown_value_in_the_activate_form_changes_nothing(client, auth, session,
                                                              make_user):
    other = make_user("coordinator")
    auth.login(make_user("admin").email)
    token = csrf_token(client.get("/admin/users").get_data(as_text=True))
    answer = client.post(f"/admin/users/{other.id}/active",
                         data={"csrf_token": token, "active": "banana"})
    assert answer.status_code == 400
    session.rollback()
    assert session.get(User, other.id, populate_existing=True).active
    assert client.post(f"/admin/users/{other.id}/active",
                       data={"csrf_token": token, "active": "0"}).status_code == 302
    session.rollback()
    assert not session.get(User, other.id, populate_existing=True).active


def test_uploads_larger_than_the_limit_are_refused_whole(app, client, auth, session,
                                                        make_partnership):
    """The pages refuse a file over MAX_UPLOAD_BYTES as the API does: 413 with the reason,
    and nothing of it kept (the request limit is larger, so it would otherwise be stored)."""
    app.config["MAX_UPLOAD_BYTES"] = 100_000
    p = make_partnership("signing")
    auth.login(p.owner.email)
    url = f"/partnerships/{p.id}/signed-copies"
    token = csrf_token(client.get(url).get_data(as_text=True))
    big = b"%PDF-1.7\n" + b"0" * 100_000
    response = client.post(url, data={"csrf_token": token, "file": (io.BytesIO(big), "s.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert "The file is larger than the limit of 0.1 MB." in response.get_data(as_text=True)
    wet_ink = f"/partnerships/{p.id}/parties/{p.parties[1].id}/wet-ink"
    fields = {"csrf_token": token, "note": "Signed in Turin on 3 March"}
    refused = client.post(wet_ink, data={**fields, "file": (io.BytesIO(big), "scan.pdf")},
                          content_type="multipart/form-data")
    assert refused.status_code == 413
    assert _documents(session, "signed_copy") == _documents(session, "wet_ink_scan") == []
    at_limit = client.post(wet_ink, content_type="multipart/form-data", data={
        **fields, "file": (io.BytesIO(big[:100_000]), "scan.pdf")})
    assert at_limit.status_code == 302
    assert [d.size for d in _documents(session, "wet_ink_scan")] == [100_000]


def test_every_page_write_needs_a_csrf_token(app, client, auth, make_user):
    """A forged cross-site form is refused before any view runs, on every route that writes
    (the API is exempt only because it takes bearer tokens, never the session cookie)."""
    auth.login(make_user("coordinator").email)
    checked = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.v1.") or rule.endpoint == "static":
            continue
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"}):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "1", rule.rule)
            checked.append((method, path, client.open(path, method=method,
                                                      data={"x": "y"}).status_code))
    assert len(checked) > 30
    assert [c for c in checked if c[2] != 400] == []
