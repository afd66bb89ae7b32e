"""Security events reach the audit log with who, from where and the outcome; no log line and
no audit row ever holds a password, token, code or cookie."""

from __future__ import annotations

import io
import json
import logging
import re

from sqlalchemy import select, text

from tests.auth_helpers import authenticator
from tests.conftest import PASSWORD
from tests.web.conftest import csrf_token
from workflow import audit
from workflow.models import AuditEvent, User
from workflow.services import calendar

AGENT = "Mozilla/5.0 (X11; Linux x86_64) SecurityEventsTest/1.0"


def events(session, action):
    session.rollback()
    return session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                           .order_by(AuditEvent.seq)).all()


def test_refused_access_is_audited_with_actor_and_client(client, auth, session,
                                                         make_partnership, make_org, make_user):
    other = make_partnership("draft")
    org = make_org("IN", kind="sme")
    partner = make_user("partner", organisation=org)
    auth.login(partner.email)
    assert client.get(f"/partnerships/{other.id}", headers={"User-Agent": AGENT}
                      ).status_code == 404
    (event,) = events(session, "access_refused")
    assert (event.actor_id, event.actor_role, event.organisation_id) == (
        partner.id, "partner", org.id)
    assert (event.client_address, event.user_agent, event.outcome) == (
        "127.0.0.1", AGENT, "denied")
    assert event.details["status"] == 404
    assert event.details["path"] == f"/partnerships/{other.id}"


def test_forbidden_page_is_audited(client, auth, session, make_user):
    coordinator = make_user("coordinator")
    auth.login(coordinator.email)
    assert client.get("/admin/users").status_code == 403
    (event,) = events(session, "access_refused")
    assert event.details["status"] == 403 and event.actor_id == coordinator.id


def test_unknown_address_is_not_a_security_event(client, session):
    assert client.get("/no-such-page").status_code == 404
    assert events(session, "access_refused") == []


def test_csrf_failure_is_audited(client, auth, session, make_partnership):
    p = make_partnership("draft")
    auth.login(p.owner.email)
    response = client.post(f"/partnerships/{p.id}/transitions/start_due_diligence",
                           data={"expected_version": p.version}, headers={"User-Agent": AGENT})
    assert response.status_code == 400
    (event,) = events(session, "csrf_failed")
    assert (event.actor_id, event.outcome, event.user_agent) == (p.owner_id, "denied", AGENT)
    assert "csrf_token" not in json.dumps(event.details)


def test_rejected_upload_is_audited(client, auth, session, make_partnership, make_user):
    p = make_partnership("draft")
    partner = make_user("partner", organisation=p.parties[1].organisation)
    auth.login(partner.email)
    page = client.get(f"/partnerships/{p.id}/signed-copies").get_data(as_text=True)
    response = client.post(f"/partnerships/{p.id}/signed-copies", data={
        "csrf_token": csrf_token(page), "file": (io.BytesIO(b"not a pdf"), "notes.txt")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    (event,) = events(session, "upload_rejected")
    assert (event.actor_id, event.outcome) == (partner.id, "rejected")
    assert event.details["partnership_id"] == p.id and event.details["fields"] == ["file"]


def test_failed_login_is_audited_with_the_client(client, auth, session, make_user):
    user = make_user("coordinator")
    client.environ_base["HTTP_USER_AGENT"] = AGENT
    auth.login(user.email, "not the password at all")
    (event,) = events(session, "login_failed")
    assert (event.actor_id, event.outcome, event.client_address, event.user_agent) == (
        user.id, "failed", "127.0.0.1", AGENT)


def test_no_log_line_or_audit_row_holds_a_secret(app, client, auth, session, make_partnership,
                                                 make_user, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # every SQL statement too
    p = make_partnership("draft")
    coordinator = p.owner
    legal = make_user("legal")
    wrong = "Wrong-Password-7731-zebra"
    secrets: list[str] = [PASSWORD, wrong]

    auth.login(coordinator.email, wrong)  # failed login
    auth.login(coordinator.email)  # login
    secrets.append(client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value)
    page = client.get(f"/partnerships/{p.id}/signed-copies").get_data(as_text=True)
    secrets.append(csrf_token(page))
    client.post(f"/partnerships/{p.id}/signed-copies", data={
        "csrf_token": csrf_token(page), "file": (io.BytesIO(b"%PDF-1.7 junk"), "x.exe")},
        content_type="multipart/form-data")  # rejected upload
    auth.logout()

    issued = client.post("/api/v1/tokens", json={"email": coordinator.email,
                                                 "password": PASSWORD})
    token = issued.get_json()["token"]
    secrets.append(token)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}
                      ).status_code == 200
    forged = token[:-6] + "AAAAAA"
    secrets.append(forged)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"}
                      ).status_code == 401
    client.post("/api/v1/tokens", json={"email": coordinator.email, "password": wrong})

    auth.login(coordinator.email)  # a calendar address is a credential in a URL
    feed = calendar.create_feed(session, coordinator).secret
    secrets.append(feed)
    assert client.get(f"/calendar/{feed}.ics").status_code == 200
    calendar.revoke_feed(session, coordinator)
    assert client.get(f"/calendar/{feed}.ics").status_code == 404
    auth.logout()

    auth.login(legal.email)  # enrols the second factor: recovery codes shown once
    secrets.extend(auth.recovery_codes.get(legal.email, []))
    app_of_legal = authenticator(legal.email)
    assert app_of_legal is not None, "legal users enrol a second factor at first login"
    secrets.append(app_of_legal.secret)
    auth.logout()
    auth.password_step(legal.email)
    code = app_of_legal.code()
    assert auth.code_step(legal.email, code).status_code == 302
    codes = [code]
    auth.logout()

    session.rollback()
    secrets.extend(t for (t,) in session.execute(select(User.session_token)))
    logged = "\n".join(_record_text(r) for r in caplog.records)
    rows = "\n".join(json.dumps([str(v) for v in row]) for row in session.execute(
        text("SELECT * FROM audit_events")))
    assert "login_failed" in rows and "upload_rejected" in rows and "api_token_created" in rows
    assert "UPDATE users SET" in logged  # statements are logged at DEBUG, their values never
    assert "/calendar/<token>.ics" in rows  # the refused feed, recorded without its address
    for secret in secrets:
        assert secret and secret not in logged, "a secret reached a log line"
        assert secret not in rows, "a secret reached the audit log"
    for code in codes:
        pattern = re.compile(rf"(?<![\d.:]){code}(?!\d)")
        assert not pattern.search(logged) and not pattern.search(rows)


def _record_text(record: logging.LogRecord) -> str:
    parts = [record.getMessage()]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


def test_request_context_is_cleared_after_the_request(client):
    client.get("/login", headers={"User-Agent": AGENT})
    assert audit.request_context.get() is None
