"""Clocks on the partnership page and dashboard, publication and objection forms, the .ics
feed and run-clocks from the command line (CSRF on, SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from tests.helpers import MAIN_PATH, build_partnership, prepare_for
from tests.web.conftest import csrf_token
from workflow.models import Obligation, Publication, utcnow
from workflow.services import partnerships as ps
from workflow.services.transitions import advance

FEED_URL = re.compile(r'id="feed-url" type="text" readonly value="([^"]+)"')


@pytest.fixture
def deal(active_deal):
    return active_deal


def clocks(session, p):
    return session.scalars(select(Obligation).where(Obligation.partnership_id == p.id)
                           .order_by(Obligation.due_on)).all()


def give_notice(client, p, party_id, title, planned_on):
    url = f"/partnerships/{p.id}/publications/new"
    token = csrf_token(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, "party_id": party_id, "title": title,
                                  "planned_on": planned_on, "venue": ""})


def test_the_partnership_page_lists_each_clock_with_due_date_and_days_left(client, auth, deal,
                                                                           session):
    p, people = deal
    auth.login(people["partner_cn"].email)
    html = client.get(f"/partnerships/{p.id}").get_data(as_text=True)
    assert "Obligations and clocks" in html
    today = utcnow().date()
    for o in clocks(session, p):
        assert o.title in html and o.due_on.isoformat() in html
        assert f"{(o.due_on - today).days} days" in html
    assert "Give notice of a publication" in html


def test_a_partner_gives_notice_of_a_publication_and_sees_errors_next_to_fields(
        client, auth, deal, session):
    p, people = deal
    lead, counterpart = p.parties
    auth.login(people["partner_eu"].email)
    form = client.get(f"/partnerships/{p.id}/publications/new").get_data(as_text=True)
    assert f'value="{lead.id}"' in form and f'value="{counterpart.id}"' not in form
    too_soon = give_notice(client, p, lead.id, "Assay paper", utcnow().date().isoformat())
    assert too_soon.status_code == 422
    assert re.search(r'<p class="error" id="planned_on-error">The agreement asks for 45 days',
                     too_soon.get_data(as_text=True))
    planned = (utcnow().date() + timedelta(days=50)).isoformat()
    done = give_notice(client, p, lead.id, "Assay paper", planned)
    assert done.status_code == 302 and done.headers["Location"].endswith("#obligations")
    pub = session.scalar(select(Publication).where(Publication.partnership_id == p.id))
    assert (pub.title, pub.party_id, pub.planned_on.isoformat()) == ("Assay paper", lead.id,
                                                                     planned)
    page = client.get(f"/partnerships/{p.id}").get_data(as_text=True)
    assert "Assay paper" in page and pub.objection_deadline.isoformat() in page
    assert "Record an objection" not in page  # the publisher cannot object to itself


def test_the_other_party_records_an_objection(client, auth, deal, session):
    p, people = deal
    lead, counterpart = p.parties
    auth.login(people["partner_eu"].email)
    give_notice(client, p, lead.id, "Sensor paper",
                (utcnow().date() + timedelta(days=60)).isoformat())
    auth.logout()
    pub = session.scalar(select(Publication).where(Publication.partnership_id == p.id))
    auth.login(people["partner_cn"].email)
    assert "Record an objection" in client.get(f"/partnerships/{p.id}").get_data(as_text=True)
    url = f"/partnerships/{p.id}/publications/{pub.id}/objections/new"
    token = csrf_token(client.get(url).get_data(as_text=True))
    blank = client.post(url, data={"csrf_token": token, "party_id": counterpart.id,
                                   "reason": "", "requested_change": ""})
    assert blank.status_code == 422 and 'id="reason-error"' in blank.get_data(as_text=True)
    assert client.post(url, data={"party_id": counterpart.id, "reason": "x",
                                  "requested_change": "y"}).status_code == 400  # no CSRF
    done = client.post(url, data={"csrf_token": token, "party_id": counterpart.id,
                                  "reason": "Discloses our know-how <b>now</b>",
                                  "requested_change": "Remove section 4"})
    assert done.status_code == 302
    page = client.get(f"/partnerships/{p.id}").get_data(as_text=True)
    assert "Discloses our know-how &lt;b&gt;now&lt;/b&gt;" in page
    assert "Remove section 4" in page and "at the latest" in page


def test_another_organisation_sees_none_of_the_clocks(client, auth, deal):
    p, people = deal
    auth.login(people["outsider"].email)
    assert client.get(f"/partnerships/{p.id}").status_code == 404
    assert client.get(f"/partnerships/{p.id}/publications/new").status_code == 404
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert p.reference not in dashboard and "No open obligations." in dashboard


def test_dashboards_show_the_users_upcoming_obligations(client, auth, deal, session):
    p, people = deal
    first = clocks(session, p)[0]
    for user in (people["owner"], people["partner_cn"]):
        auth.login(user.email)
        html = client.get("/dashboard").get_data(as_text=True)
        assert "Upcoming obligations" in html and first.title in html
        assert p.reference in html and first.due_on.isoformat() in html
        auth.logout()


def create_feed(client) -> str:
    token = csrf_token(client.get("/account/calendar").get_data(as_text=True))
    page = client.post("/account/calendar", data={"csrf_token": token})
    assert page.status_code == 200
    return FEED_URL.search(page.get_data(as_text=True)).group(1)


def events(response) -> dict:
    cal = Calendar.from_ical(response.data)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def test_the_calendar_feed_lists_obligations_and_stage_due_dates(client, auth, deal, session,
                                                                 make_partnership):
    p, people = deal
    draft = make_partnership("draft", owner=people["owner"])
    auth.login(people["owner"].email)
    url = create_feed(client)
    auth.logout()
    path = url.removeprefix("http://localhost")
    response = client.get(path)  # no session: the secret address is the credential
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.headers["Cache-Control"] == "no-store"
    found = events(response)
    for o in clocks(session, p):
        event = found[f"obligation-{o.id}@clusterpact"]
        assert event.decoded("DTSTART") == o.due_on and isinstance(event.decoded("DTSTART"),
                                                                   date)
        assert str(event["SUMMARY"]) == f"{p.reference}: {o.title}"
        assert f"/partnerships/{p.id}#obligations" in str(event["DESCRIPTION"])
    due = (draft.stage_entered_at + timedelta(days=30)).date()
    (stage,) = [e for uid, e in found.items() if uid.startswith(f"stage-{draft.id}-draft-")]
    assert stage.decoded("DTSTART") == due and "Draft due" in str(stage["SUMMARY"])
    assert set(events(client.get(path))) == set(found)  # stable UIDs


def test_a_revoked_or_replaced_address_answers_404(client, auth, deal):
    p, people = deal
    auth.login(people["partner_cn"].email)
    first = create_feed(client).removeprefix("http://localhost")
    second = create_feed(client).removeprefix("http://localhost")
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    token = csrf_token(client.get("/account/calendar").get_data(as_text=True))
    assert client.post("/account/calendar/revoke",
                       data={"csrf_token": token}).status_code == 302
    assert client.get(second).status_code == 404
    assert client.get("/calendar/cpc_unknown.ics").status_code == 404
    assert client.post("/account/calendar", data={}).status_code == 400  # no CSRF token


def test_a_partners_feed_has_no_foreign_obligations(client, auth, deal, session):
    p, people = deal
    auth.login(people["outsider"].email)
    outsider = client.get(create_feed(client).removeprefix("http://localhost"))
    assert events(outsider) == {}
    auth.logout()
    auth.login(people["partner_cn"].email)
    ours = events(client.get(create_feed(client).removeprefix("http://localhost")))
    assert {f"obligation-{o.id}@clusterpact" for o in clocks(session, p)} == set(ours)


def test_run_clocks_prints_a_summary_and_sends_nothing_twice(runner, app, session, make_user,
                                                             make_org):
    owner, legal = make_user("coordinator"), make_user("legal")
    p = build_partnership(session, owner, legal, make_org("IT"), make_org("CN"), "draft")
    ps.update_partnership(session, owner, p.id, p.title,
                          end_date=utcnow().date() + timedelta(days=7))
    for trigger in MAIN_PATH[p.workflow_key]:
        prepare_for(session, p, trigger, owner, legal)
        p = advance(session, p.id, trigger, legal if trigger == "approve" else owner)
    app.config["CLOCK_LEAD_DAYS"] = "30,7,1,0"
    first = runner.invoke(args=["run-clocks"])
    assert first.exit_code == 0, first.output
    assert re.match(r"Clocks \d{4}-\d\d-\d\d: 1 obligation reminder\(s\), 0 overdue",
                    first.output)
    again = runner.invoke(args=["run-clocks"])
    assert "0 obligation reminder(s), 0 overdue reminder(s)" in again.output
    app.config["CLOCK_LEAD_DAYS"] = "7,soon"
    bad = runner.invoke(args=["run-clocks"])
    assert bad.exit_code != 0 and "CLOCK_LEAD_DAYS" in bad.output


def test_the_owner_marks_the_renewal_decision_done(client, auth, deal, session):
    p, people = deal
    renewal = next(o for o in clocks(session, p) if o.kind == "renewal_notice")
    auth.login(people["partner_cn"].email)
    page = client.get(f"/partnerships/{p.id}").get_data(as_text=True)
    assert "Mark done" not in page  # the renewal is the coordinator's decision
    auth.logout()
    auth.login(people["owner"].email)
    page = client.get(f"/partnerships/{p.id}").get_data(as_text=True)
    url = f"/partnerships/{p.id}/obligations/{renewal.id}/done"
    assert url in page
    assert client.post(url, data={}).status_code == 400  # no CSRF token
    done = client.post(url, data={"csrf_token": csrf_token(page)})
    assert done.status_code == 302
    session.rollback()  # end the read snapshot taken above
    session.refresh(renewal)
    assert renewal.status == "done"
    assert client.post(url, data={"csrf_token": csrf_token(page)}).status_code == 409


@pytest.mark.parametrize("url", ["/account/calendar", "/partnerships/1/publications/new",
                                 "/partnerships/1/publications/1/objections/new"])
def test_clock_pages_need_a_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
