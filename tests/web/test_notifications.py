"""The bell, the notifications page, read marks, email choices and the relay command."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape
from sqlalchemy import select

from tests.web.conftest import csrf_token
from workflow.models import Notification, NotificationPreference
from workflow.notifications import KINDS, notify


@pytest.fixture
def inbox_of(session, make_partnership):
    """Give a user `n` notifications about one draft partnership."""
    p = make_partnership("draft")

    def give(user, n=1, kind="approved"):
        for i in range(n):
            notify(session, [user], kind, {"actor_name": f"Legal {i}"}, partnership=p,
                   link=f"/partnerships/{p.id}")
        session.commit()
        return p

    return give


def bell(html: str) -> str | None:
    match = re.search(r'class="bell".*?class="badge count">([^<]+)<', html, re.S)
    return match.group(1) if match else None


def test_the_bell_counts_unread_notifications(client, auth, make_user, inbox_of):
    user = make_user("coordinator")
    auth.login(user.email)
    assert bell(client.get("/dashboard").get_data(as_text=True)) is None
    inbox_of(user, 3)
    html = client.get("/dashboard").get_data(as_text=True)
    assert bell(html) == "3"
    assert '<span class="visually-hidden"> unread</span>' in html


def test_the_bell_stops_counting_at_its_cap(client, auth, make_user, inbox_of):
    user = make_user("coordinator")
    inbox_of(user, 101)
    auth.login(user.email)
    assert bell(client.get("/dashboard").get_data(as_text=True)) == "99+"


def test_the_page_lists_only_my_notifications_in_pages(client, auth, make_user, inbox_of,
                                                       app):
    me, other = make_user("coordinator"), make_user("coordinator")
    app.config["PAGE_SIZE"] = 10
    inbox_of(other, 1)
    inbox_of(me, 12)
    auth.login(me.email)
    first = client.get("/notifications/").get_data(as_text=True)
    assert first.count('class="notification unread"') == 10
    older = re.search(r'href="(/notifications/\?before=\d+)">Older', first).group(1)
    second = client.get(older.replace("&amp;", "&")).get_data(as_text=True)
    assert second.count('class="notification unread"') == 2 and "Older</a>" not in second
    assert "Legal 0" in second and "Legal 11" in first


def test_mark_one_and_then_all_read(client, auth, make_user, inbox_of, session):
    user = make_user("coordinator")
    inbox_of(user, 3)
    auth.login(user.email)
    page = client.get("/notifications/").get_data(as_text=True)
    first_id = session.scalars(select(Notification.id).order_by(Notification.id)).first()
    response = client.post(f"/notifications/{first_id}/read",
                           data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert bell(client.get("/notifications/").get_data(as_text=True)) == "2"
    response = client.post("/notifications/read-all", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert bell(html) is None and "2 notification(s) marked as read." in html
    session.rollback()  # end the test's read snapshot
    assert all(r.read_at for r in session.scalars(select(Notification)))


def test_marking_needs_csrf_and_my_own_notification(client, auth, make_user, inbox_of,
                                                    session):
    me, other = make_user("coordinator"), make_user("coordinator")
    inbox_of(other, 1)
    theirs = session.scalars(select(Notification.id)).one()
    auth.login(me.email)
    page = client.get("/notifications/").get_data(as_text=True)
    assert client.post(f"/notifications/{theirs}/read").status_code == 400
    assert client.post("/notifications/read-all").status_code == 400
    response = client.post(f"/notifications/{theirs}/read", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 404
    session.rollback()
    assert session.get(Notification, theirs).read_at is None


def test_preferences_turn_email_off_per_kind(client, auth, make_user, make_org, session):
    user = make_user("partner", organisation=make_org("CN"))
    auth.login(user.email)
    page = client.get("/notifications/preferences").get_data(as_text=True)
    for kind, label in KINDS.items():
        assert re.search(rf'<input checked id="email_{kind}" name="email_{kind}" '
                         r'type="checkbox" value="y">', page), kind
        assert f'<label for="email_{kind}">{escape(label)}</label>' in page
    keep = {f"email_{k}": "y" for k in KINDS if k != "sent_for_signature"}
    response = client.post("/notifications/preferences",
                           data={"csrf_token": csrf_token(page), **keep})
    assert response.status_code == 302
    stored = {p.kind: p.email for p in session.scalars(select(NotificationPreference).where(
        NotificationPreference.user_id == user.id))}
    assert stored == {k: k != "sent_for_signature" for k in KINDS}
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert 'id="email_sent_for_signature" name="email_sent_for_signature" type="checkbox"' in page
    assert '<input checked id="email_sent_for_signature"' not in page


def test_notification_pages_need_a_login(client):
    for url in ("/notifications/", "/notifications/preferences"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_send_notifications_once_delivers_by_smtp(app, runner, make_user, inbox_of, smtp_sink,
                                                  session):
    user = make_user("coordinator")
    p = inbox_of(user, 2)
    app.config.update(SMTP_HOST=smtp_sink.host, SMTP_PORT=smtp_sink.port,
                      BASE_URL="https://pact.example", MAIL_FROM="Pact <noreply@pact.example>")
    result = runner.invoke(args=["send-notifications", "--once"])
    assert result.exit_code == 0, result.output
    assert "2 sent, 0 to retry, 0 failed, 0 skipped" in result.output
    assert len(smtp_sink.to(user.email)) == 2
    assert f"https://pact.example/partnerships/{p.id}" in smtp_sink.messages[0].get_content()
    again = runner.invoke(args=["send-notifications"])
    assert "0 sent" in again.output


def test_send_notifications_reports_an_unreachable_server_and_retries(app, runner, make_user,
                                                                     inbox_of, session):
    from tests.smtp_sink import free_port

    user = make_user("coordinator")
    inbox_of(user, 1)
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())
    result = runner.invoke(args=["send-notifications", "--once"])
    assert result.exit_code == 0, result.output
    assert "0 sent, 1 to retry" in result.output
    row = session.scalars(select(Notification)).one()
    assert row.email_status == "pending" and row.attempts == 1 and row.last_error


def test_send_notifications_refuses_to_run_without_base_url(app, runner):
    app.config["BASE_URL"] = ""
    result = runner.invoke(args=["send-notifications", "--once"])
    assert result.exit_code != 0 and "BASE_URL is not set" in result.output
