"""Clause, review, register, preview and admin pages through the test client (CSRF on)."""

from __future__ import annotations

import re

import pytest

from tests.helpers import approve_all_clauses
from tests.web.conftest import csrf_token
from workflow.clauses import APPROVED, CHANGES_REQUESTED, review_status
from workflow.models import AgreementClause, Partnership
from workflow.services.review import add_comment


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def clause(session, pid, key):
    """The clause as stored now, read through a fresh session (no identity-map leftovers)."""
    from sqlalchemy.orm import Session

    fresh = Session(bind=session.get_bind(), expire_on_commit=False)
    try:
        found = next(c for c in fresh.get(Partnership, pid).clauses if c.clause_key == key)
        _ = list(found.reviews), found.values
        return found
    finally:
        fresh.close()


def test_coordinator_edits_a_clause_and_bad_values_are_shown_next_to_the_field(
        client, auth, make_partnership, session):
    p = make_partnership("negotiation")
    auth.login(p.owner.email)
    url = f"/partnerships/{p.id}/clauses/confidentiality"
    html = page(client, url)
    assert "Guidance:" in html and 'name="var_nnn__term_years"' in html
    bad = client.post(url, data={"csrf_token": csrf_token(html), "expected_version": p.version,
                                 "option": "nnn", "var_nnn__term_years": "forty",
                                 "var_nnn__confirmation_days": "15", "included": "y"})
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert re.search(r'id="var-nnn-term_years-error">[^<]*whole number', body)
    assert clause(session, p.id, "confidentiality").option_key == "standard"
    ok = client.post(url, data={"csrf_token": csrf_token(html), "expected_version": p.version,
                                "option": "nnn", "var_nnn__term_years": "7",
                                "var_nnn__confirmation_days": "15", "included": "y"})
    assert ok.status_code == 302
    saved = clause(session, p.id, "confidentiality")
    assert saved.option_key == "nnn" and saved.values["term_years"] == 7


def test_an_error_on_the_clause_as_a_whole_is_tied_to_its_control(client, auth,
                                                                  make_partnership):
    """Leaving out a mandatory clause: the reason sits next to the checkbox, which points at
    it (aria-describedby) and is marked invalid, as for every other field."""
    p = make_partnership("negotiation")
    auth.login(p.owner.email)
    url = f"/partnerships/{p.id}/clauses/definitions"
    html = page(client, url)
    refused = client.post(url, data={"csrf_token": csrf_token(html),
                                     "expected_version": p.version, "option": "standard"})
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    checkbox = re.search(r'<input[^>]*name="included"[^>]*>', body).group(0)
    assert 'aria-describedby="included-error"' in checkbox and 'aria-invalid="true"' in checkbox
    assert re.search(r'<p class="error" id="included-error">[^<]*[Mm]andatory', body)
    assert body.count('class="error"') == 1  # said once, where it belongs


def test_partnership_page_names_the_blocking_safeguard(client, auth, make_partnership):
    p = make_partnership("negotiation")
    auth.login(p.owner.email)
    html = page(client, f"/partnerships/{p.id}")
    assert ("Confidentiality: counterpart in CN (Priority Watch List, USTR Special 301, 2025) "
            "requires the NNN confidentiality option or an explicit non-use undertaking.") in html
    assert re.search(r"<button[^>]*disabled[^>]*>Submit for legal review", html)


def test_legal_reviews_clause_by_clause_through_the_page(client, auth, make_partnership,
                                                         make_user, session):
    p = make_partnership("legal_review")
    legal = make_user("legal")
    auth.login(legal.email)
    queue = page(client, "/review/")
    assert p.reference in queue
    html = page(client, f"/partnerships/{p.id}/review")
    token = csrf_token(html)
    url = f"/partnerships/{p.id}/clauses/publication/reviews"
    refused = client.post(url, data={"csrf_token": token, "expected_version": p.version,
                                     "decision": "request_changes", "comment": "",
                                     "visibility": "internal"})
    assert refused.status_code == 422
    assert review_status(clause(session, p.id, "publication")) != CHANGES_REQUESTED
    done = client.post(url, data={"csrf_token": token, "expected_version": p.version,
                                  "decision": "approve", "comment": "",
                                  "visibility": "internal"})
    assert done.status_code == 302
    assert review_status(clause(session, p.id, "publication")) == APPROVED


def test_partner_never_sees_internal_comments(client, auth, make_partnership, make_user,
                                              session):
    p = make_partnership("negotiation")
    add_comment(session, p.owner, p.id, "Internal: our fallback is royalty-free.", "internal")
    add_comment(session, p.owner, p.id, "Please confirm the filing countries.", "partner")
    partner = make_user("partner", organisation=p.parties[1].organisation)
    auth.login(partner.email)
    html = page(client, f"/partnerships/{p.id}")
    assert "Please confirm the filing countries." in html
    assert "fallback is royalty-free" not in html
    assert client.get(f"/partnerships/{p.id}/review").status_code == 403
    assert client.get(f"/partnerships/{p.id}/clauses/confidentiality").status_code == 403


def test_preview_escapes_values_and_is_marked_draft(client, auth, make_partnership, session):
    from workflow.services.clauses import set_clause

    p = make_partnership("negotiation")
    dispute = clause(session, p.id, "dispute_resolution")
    values = {**dispute.values, "proceedings_language": "<script>alert(1)</script>{{ 7*7 }}"}
    set_clause(session, p.owner, p.id, "dispute_resolution", dispute.option_key, values)
    auth.login(p.owner.email)
    html = page(client, f"/partnerships/{p.id}/preview")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;{{ 7*7 }}" in html
    assert "49" not in re.sub(r"\d{3,}", "", html.split("Dispute resolution")[-1])
    assert 'class="watermark"' in html and "Annex 1" in html


def test_background_ip_asset_added_through_the_form(client, auth, make_partnership, session):
    p = make_partnership("negotiation")
    party = p.parties[0]
    auth.login(p.owner.email)
    url = f"/partnerships/{p.id}/parties/{party.id}/assets/new"
    html = page(client, url)
    response = client.post(url, data={
        "csrf_token": csrf_token(html), "expected_version": p.version,
        "title": "Photonic sensor patent", "asset_type": "patent",
        "identifiers": "EP 1 234 567", "jurisdictions": "EP, CN"})
    assert response.status_code == 302
    detail = page(client, f"/partnerships/{p.id}")
    assert "Photonic sensor patent" in detail


def test_admin_edits_country_risk_and_others_are_refused(client, auth, make_user):
    admin = make_user("admin")
    coordinator = make_user("coordinator")
    auth.login(coordinator.email)
    assert client.get("/admin/risk").status_code == 403
    auth.logout()
    auth.login(admin.email)
    html = page(client, "/admin/risk")
    assert "China (CN)" in html and "USTR 2025 Special 301 Report" in html
    response = client.post("/admin/risk", data={
        "csrf_token": csrf_token(html), "country": "th", "tier_key": "priority_watch_list",
        "source": "USTR 2026 Special 301 Report", "year": "2026"})
    assert response.status_code == 302
    assert "Thailand (TH)" in page(client, "/admin/risk")
    assert "confidentiality" in page(client, "/admin/library")


@pytest.mark.parametrize("role", ["coordinator", "legal", "admin"])
def test_staff_pages_render_for_each_role(client, auth, make_partnership, make_user, role,
                                          session):
    p = make_partnership("legal_review")
    approve_all_clauses(session, make_user("legal"), p)
    user = make_user(role)
    auth.login(user.email)
    for url in ("/dashboard", "/partnerships/", f"/partnerships/{p.id}",
                f"/partnerships/{p.id}/review", f"/partnerships/{p.id}/preview", "/review/"):
        page(client, url)
    session.rollback()
    assert all(review_status(c) == APPROVED for c in session.get(Partnership, p.id).clauses
               if isinstance(c, AgreementClause))


def test_partner_never_sees_internal_review_comments_in_the_history(
        client, auth, make_partnership, make_user, session):
    from workflow.services.review import review_clause

    p = make_partnership("legal_review")
    legal = make_user("legal")
    review_clause(session, legal, p.id, "publication", "request_changes",
                  "Internal: our fallback is 60 days.", "internal")
    partner = make_user("partner", organisation=p.parties[1].organisation)
    auth.login(partner.email)
    html = page(client, f"/partnerships/{p.id}")
    assert "our fallback is 60 days" not in html
