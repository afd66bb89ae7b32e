"""The partnerships list (filters, keyset pages, fixed query count) and the dashboards."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from tests.helpers import party_inputs
from tests.web.conftest import csrf_token
from workflow.services import partnerships as ps


@pytest.fixture
def many(session, make_org, make_user):
    """30 drafts: 20 with a Chinese counterpart, 10 with an Indian one."""
    owner = make_user("coordinator")
    eu = make_org("IT", name="bioPmed")
    cn, india = make_org("CN", name="Qianhai Meditech"), make_org("IN", name="Pune Diagnostics")
    made = []
    for i in range(30):
        other = cn if i < 20 else india
        made.append(ps.create_partnership(session, owner, f"Pilot {i:02d}", "collaboration",
                                          party_inputs(eu, other)))
    return owner, made


def references(html: str) -> list[str]:
    return re.findall(r">(CP-\d{4}-\d{4})</a>", html)


def test_keyset_pages_cover_every_partnership_once(client, auth, many):
    owner, made = many
    auth.login(owner.email)
    seen, url = [], "/partnerships/"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += references(html)
        nxt = re.search(r'href="([^"]+)" rel="next"', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
    assert sorted(seen) == sorted(p.reference for p in made) and len(seen) == len(set(seen))


def test_filters_by_country_tier_text_and_stage(client, auth, many):
    owner, made = many
    auth.login(owner.email)
    india = references(client.get("/partnerships/?country=IN").get_data(as_text=True))
    assert len(india) == 10
    pwl = client.get("/partnerships/?tier=priority_watch_list").get_data(as_text=True)
    assert len(references(pwl)) == 25  # first page of the 30 (CN and IN are both listed)
    assert references(client.get("/partnerships/?q=pune").get_data(as_text=True)) == india
    assert references(client.get("/partnerships/?q=pilot%2007").get_data(as_text=True)) == [
        made[7].reference]
    empty = client.get("/partnerships/?stage=active").get_data(as_text=True)
    assert "No partnership matches these filters." in empty


def test_list_page_runs_a_fixed_number_of_queries(app, client, auth, many):
    owner, _made = many
    auth.login(owner.email)
    statements = []
    engine = app.extensions["clusterpact.engine"]

    def count(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        client.get("/partnerships/")
        small = len(statements)
        statements.clear()
        client.get("/partnerships/?country=CN")
        filtered = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert small <= 8 and filtered <= 8  # not one query per row: 25 rows are shown


def test_each_role_finds_its_work_on_the_dashboard(client, auth, make_partnership, make_user,
                                                   session):
    from workflow.services.review import review_clause  # noqa: F401  (imports the services)

    in_review = make_partnership("legal_review")
    signing = make_partnership("signing")
    auth.login(in_review.owner.email)
    coordinator = client.get("/dashboard").get_data(as_text=True)
    assert "Waiting for you" in coordinator and "Pipeline" in coordinator
    auth.logout()
    legal = make_user("legal")
    auth.login(legal.email)
    html = client.get("/dashboard").get_data(as_text=True)
    assert in_review.reference in html.split('id="queue-h"')[1].split("</table>")[0]
    auth.logout()
    partner = make_user("partner", organisation=signing.parties[1].organisation)
    auth.login(partner.email)
    html = client.get("/dashboard").get_data(as_text=True)
    assert "sign your party&#39;s field and upload the signed copy" in html
    assert signing.reference in html and in_review.reference not in html


def test_admin_changes_a_role_and_the_old_session_stops_working(client, auth, app, make_user):
    from flask.testing import FlaskClient

    admin, target = make_user("admin"), make_user("coordinator")
    other = FlaskClient(app, use_cookies=True)
    from tests.web.conftest import Auth

    Auth(other).login(target.email)
    assert other.get("/dashboard").status_code == 200
    auth.login(admin.email)
    token = csrf_token(client.get("/admin/users").get_data(as_text=True))
    response = client.post(f"/admin/users/{target.id}/role", data={
        "csrf_token": token, "role": "legal", "organisation_id": "0"})
    assert response.status_code == 302
    assert other.get("/dashboard").status_code == 302  # sent back to the login page
    deactivated = client.post(f"/admin/users/{target.id}/active", data={
        "csrf_token": token, "active": "0"})
    assert deactivated.status_code == 302
    assert Auth(other).login(target.email).status_code == 401
