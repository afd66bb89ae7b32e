"""Pages through the Flask test client, with CSRF protection on."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.web.conftest import csrf_token
from workflow.models import AuditEvent, Partnership

PROTECTED = ["/dashboard", "/partnerships/", "/partnerships/new", "/partnerships/1",
             "/partnerships/1/parties/1"]


@pytest.mark.parametrize("url", PROTECTED)
def test_login_required_on_every_page(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_login_page_and_failed_login_say_nothing_about_which_part_was_wrong(client, auth,
                                                                           make_user):
    user = make_user("coordinator")
    assert client.get("/login").status_code == 200
    wrong_pw = auth.login(user.email, "not the password at all")
    unknown = auth.login("nobody@example.org", "not the password at all")
    assert wrong_pw.status_code == unknown.status_code == 401
    assert b"Email or password is incorrect." in wrong_pw.data
    assert b"Email or password is incorrect." in unknown.data


def test_coordinator_sees_and_advances_a_partnership(client, auth, make_partnership, session):
    p = make_partnership("draft")
    assert auth.login(p.owner.email).status_code == 302
    page = client.get(f"/partnerships/{p.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert p.reference in html and "Start due diligence" in html
    response = client.post(f"/partnerships/{p.id}/transitions/start_due_diligence", data={
        "csrf_token": csrf_token(html), "expected_version": p.version})
    assert response.status_code == 302
    follow = client.get(response.headers["Location"])
    assert "is now in stage &#39;Due diligence&#39;" in follow.get_data(as_text=True)
    session.rollback()
    assert session.get(Partnership, p.id).stage == "due_diligence"


def test_blocked_transitions_show_their_reasons(client, auth, make_partnership):
    p = make_partnership("draft", signatories=False)
    auth.login(p.owner.email)
    html = client.get(f"/partnerships/{p.id}").get_data(as_text=True)
    assert re.search(r"<button[^>]*disabled[^>]*>Start due diligence", html)
    assert "signatory name, title and email are required." in html


def test_transition_post_without_csrf_token_is_refused(client, auth, make_partnership, session):
    p = make_partnership("draft")
    auth.login(p.owner.email)
    response = client.post(f"/partnerships/{p.id}/transitions/start_due_diligence",
                           data={"expected_version": p.version})
    assert response.status_code == 400
    assert b"CSRF" in response.data
    session.rollback()
    assert session.get(Partnership, p.id).stage == "draft"


def test_stale_form_gets_409_with_what_to_do(client, auth, make_partnership, session):
    from workflow.services.partnerships import PartyInput, update_party

    p = make_partnership("draft")
    auth.login(p.owner.email)
    token = csrf_token(client.get(f"/partnerships/{p.id}").get_data(as_text=True))
    seen_version = p.version
    party = p.parties[1]
    # Someone else edits the partnership after the page was loaded.
    update_party(session, p.owner, p.id, party.id, PartyInput(
        party.organisation_id, "counterpart", "New Signatory", "CTO", "cto@example.cn"))
    response = client.post(f"/partnerships/{p.id}/transitions/start_due_diligence",
                           data={"csrf_token": token, "expected_version": seen_version})
    assert response.status_code == 409
    assert b"Reload the page" in response.data


def test_guard_failure_is_422_with_reasons(client, auth, make_partnership):
    p = make_partnership("draft", signatories=False)
    auth.login(p.owner.email)
    token = csrf_token(client.get(f"/partnerships/{p.id}").get_data(as_text=True))
    response = client.post(f"/partnerships/{p.id}/transitions/start_due_diligence",
                           data={"csrf_token": token, "expected_version": p.version})
    assert response.status_code == 422
    assert b"signatory name, title and email are required." in response.data


def test_partner_sees_own_partnership_but_not_another_organisations(
        client, auth, make_partnership, make_org, make_user):
    mine = make_partnership("draft")
    other = make_partnership("draft", counterpart=make_org("IN", kind="sme"))
    partner = make_user("partner", organisation=mine.parties[1].organisation)
    auth.login(partner.email)
    listing = client.get("/partnerships/").get_data(as_text=True)
    assert mine.reference in listing and other.reference not in listing
    assert client.get(f"/partnerships/{mine.id}").status_code == 200
    assert client.get(f"/partnerships/{other.id}").status_code == 404
    party = other.parties[0].id
    assert client.get(f"/partnerships/{other.id}/parties/{party}").status_code == 404


def test_logout_revokes_the_old_cookie(client, auth, make_user, app):
    user = make_user("legal")
    auth.login(user.email)
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert client.get("/dashboard").status_code == 200
    auth.logout()
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    assert client.get("/dashboard").status_code == 302


@pytest.mark.parametrize("target,expected", [
    ("/partnerships/", "/partnerships/"),
    ("//evil.example/", "/dashboard"),
    ("https://evil.example/", "/dashboard"),
    ("/\\evil.example", "/dashboard"),
    ("/%09/evil.example", "/dashboard"),
])
def test_next_after_login_only_same_site(client, auth, make_user, target, expected):
    user = make_user("coordinator")
    response = auth.login(user.email, next_url=target)
    assert response.headers["Location"] == expected


def test_create_partnership_through_the_form(client, auth, make_user, make_org, session):
    coordinator = make_user("coordinator")
    eu, cn = make_org("IT"), make_org("CN", kind="sme")
    auth.login(coordinator.email)
    token = csrf_token(client.get("/partnerships/new").get_data(as_text=True))
    bad = client.post("/partnerships/new", data={"csrf_token": token, "title": "",
                                                 "agreement_type": "collaboration",
                                                 "lead_org": eu.id, "counterpart_org": cn.id})
    assert bad.status_code == 422 and b"This field is required." in bad.data
    ok = client.post("/partnerships/new", data={
        "csrf_token": token, "title": "Photonics pilot", "agreement_type": "collaboration",
        "lead_org": eu.id, "counterpart_org": cn.id})
    assert ok.status_code == 302
    created = session.scalars(select(Partnership).where(Partnership.title == "Photonics pilot")
                              ).one()
    assert created.stage == "draft" and created.owner_id == coordinator.id
    assert session.scalars(select(AuditEvent.action).where(
        AuditEvent.partnership_id == created.id)).all() == ["created"]


def test_html_in_user_input_is_escaped(client, auth, make_user, make_org):
    coordinator = make_user("coordinator")
    eu, cn = make_org("IT"), make_org("CN", kind="sme")
    auth.login(coordinator.email)
    token = csrf_token(client.get("/partnerships/new").get_data(as_text=True))
    response = client.post("/partnerships/new", data={
        "csrf_token": token, "title": "<script>alert(1)</script>", "agreement_type": "nda",
        "lead_org": eu.id, "counterpart_org": cn.id}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_security_headers_on_pages_and_errors(client):
    for response in (client.get("/login"), client.get("/no-such-page")):
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/no-such-page").status_code == 404


def test_coordinator_edits_title_and_adds_a_party(client, auth, make_partnership, make_org,
                                                   session):
    p = make_partnership("draft")
    extra = make_org("NO", name="Norway Health Tech")
    auth.login(p.owner.email)
    html = client.get(f"/partnerships/{p.id}/edit").get_data(as_text=True)
    bad = client.post(f"/partnerships/{p.id}/edit", data={
        "csrf_token": csrf_token(html), "expected_version": p.version, "title": "x"})
    assert bad.status_code == 422
    ok = client.post(f"/partnerships/{p.id}/edit", data={
        "csrf_token": csrf_token(html), "expected_version": p.version,
        "title": "Renamed pilot", "start_date": "2027-01-01", "end_date": "2026-01-01"})
    assert ok.status_code == 422 and b"The end date is before the start date." in ok.data
    ok = client.post(f"/partnerships/{p.id}/edit", data={
        "csrf_token": csrf_token(html), "expected_version": p.version,
        "title": "Renamed pilot"})
    assert ok.status_code == 302
    session.rollback()
    fresh = session.get(Partnership, p.id)
    html = client.get(f"/partnerships/{p.id}/parties/new").get_data(as_text=True)
    added = client.post(f"/partnerships/{p.id}/parties/new", data={
        "csrf_token": csrf_token(html), "expected_version": fresh.version,
        "organisation_id": extra.id, "role": "member"})
    assert added.status_code == 302
    session.rollback()
    stored = session.get(Partnership, p.id)
    assert stored.title == "Renamed pilot"
    assert extra.id in {party.organisation_id for party in stored.parties}
