"""Second factor in the browser: compulsory set-up for admin and legal, optional for the
others, login in two steps with no identity in between, single-use codes, recovery codes,
the administrator's reset."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from tests.auth_helpers import authenticator
from tests.conftest import PASSWORD
from tests.web.conftest import Auth, csrf_token
from workflow.models import AuditEvent, User

GATED = ["/dashboard", "/partnerships/", "/admin/users", "/account/api-tokens",
         "/account/security", "/account/password"]


@pytest.mark.parametrize("role", ["admin", "legal"])
def test_admin_and_legal_must_set_up_a_second_factor_before_anything_else(
        client, auth, make_user, role):
    user = make_user(role)
    assert auth.password_step(user.email).status_code == 302
    for url in GATED:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"] == "/account/two-factor"
    page = client.get("/account/two-factor")
    assert page.status_code == 200 and "Your role requires a second factor" in page.get_data(
        as_text=True)
    token = csrf_token(client.get("/partnerships/", follow_redirects=True).get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def test_set_up_shows_the_key_and_a_qr_code_image_without_scripts(client, auth, make_user):
    user = make_user("admin")
    auth.password_step(user.email)
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "totp-secret" not in page  # no secret before the user asks for one (GET writes nothing)
    client.post("/account/two-factor/start", data={"csrf_token": csrf_token(page)})
    response = client.get("/account/two-factor")
    html = response.get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html).group(1)
    assert len(secret.replace(" ", "")) == 32
    assert re.search(r'<img class="qr" src="data:image/svg\+xml;charset=utf-8,[^"]+" alt="[^"]+"',
                     html)
    assert "<script" not in html and "<svg" not in html
    assert "img-src 'self' data:" in response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_wrong_enrolment_code_is_refused_next_to_the_field(client, auth, make_user, session):
    user = make_user("legal")
    auth.password_step(user.email)
    page = client.get("/account/two-factor").get_data(as_text=True)
    client.post("/account/two-factor/start", data={"csrf_token": csrf_token(page)})
    page = client.get("/account/two-factor").get_data(as_text=True)
    wrong = client.post("/account/two-factor/confirm",
                        data={"code": "000000", "csrf_token": csrf_token(page)})
    assert wrong.status_code == 422
    assert 'id="code-error"' in wrong.get_data(as_text=True)
    assert session.get(User, user.id, populate_existing=True).totp_enabled_at is None
    started = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "second_factor_setup_started")).all()
    assert [(e.actor_id, e.outcome) for e in started] == [(user.id, "success")]


def test_enrolment_shows_ten_recovery_codes_once_and_then_lets_the_user_in(
        client, auth, make_user, session):
    user = make_user("admin")
    auth.login(user.email)  # enrols through the pages
    codes = auth.recovery_codes[user.email]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/dashboard").status_code == 200
    security = client.get("/account/security").get_data(as_text=True)
    assert "10 unused recovery codes" in security and codes[0] not in security
    assert "cannot be turned off" in security


def test_login_is_two_steps_with_no_identity_before_the_code(client, auth, make_user):
    user = make_user("legal")
    auth.login(user.email)
    auth.logout()
    first = auth.password_step(user.email, next_url="/partnerships/")
    assert first.status_code == 302 and first.headers["Location"] == "/login/code"
    with client.session_transaction() as s:
        assert "_user_id" not in s
    for url in ("/dashboard", "/account/security", "/partnerships/"):
        assert client.get(url).headers["Location"].startswith("/login")
    wrong = auth.code_step(user.email, code="000000")
    assert wrong.status_code == 401 and "not valid" in wrong.get_data(as_text=True)
    done = auth.code_step(user.email)
    assert done.status_code == 302 and done.headers["Location"] == "/partnerships/"
    assert client.get("/dashboard").status_code == 200


def test_a_replayed_code_is_refused(client, auth, make_user, app, session):
    user = make_user("legal")
    auth.login(user.email)
    auth.logout()
    auth.password_step(user.email)
    code = authenticator(user.email).code()
    assert auth.code_step(user.email, code).status_code == 302
    auth.logout()
    again = Auth(app.test_client())  # another browser, same code within its time step
    again.password_step(user.email)
    replay = again.code_step(user.email, code)
    assert replay.status_code == 401
    failed = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "second_factor_failed")).all()
    assert [e.details for e in failed] == [{"reason": "replayed"}]
    assert all(code not in str(e.details) for e in session.scalars(select(AuditEvent)))


def test_a_recovery_code_logs_in_once(client, auth, make_user):
    user = make_user("admin")
    auth.login(user.email)
    code = auth.recovery_codes[user.email][0]
    auth.logout()
    auth.password_step(user.email)
    assert auth.code_step(user.email, code.upper()).status_code == 302
    auth.logout()
    auth.password_step(user.email)
    assert auth.code_step(user.email, code).status_code == 401
    assert auth.code_step(user.email, auth.recovery_codes[user.email][1]).status_code == 302
    assert "8 unused recovery codes" in client.get("/account/security").get_data(as_text=True)


def test_the_pending_login_expires(client, auth, make_user):
    user = make_user("legal")
    auth.login(user.email)
    auth.logout()
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        auth.password_step(user.email)
        clock.shift(timedelta(minutes=6))
        response = client.get("/login/code")
        assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_other_roles_may_opt_in_and_out(client, auth, make_user, session):
    user = make_user("coordinator")
    auth.login(user.email)
    assert client.get("/dashboard").status_code == 200  # not compelled
    auth.enrol(user.email)
    auth.logout()
    assert auth.password_step(user.email).headers["Location"] == "/login/code"
    auth.code_step(user.email)
    page = client.get("/account/security").get_data(as_text=True)
    done = client.post("/account/two-factor/disable", data={
        "code": auth.recovery_codes[user.email][0], "csrf_token": csrf_token(page)})
    assert done.status_code == 302
    assert client.get("/dashboard").status_code == 200  # this session continues
    auth.logout()
    assert auth.password_step(user.email).status_code == 302
    assert client.get("/dashboard").status_code == 200


@pytest.mark.parametrize("roles,role,compelled", [
    ("admin,legal,coordinator", "coordinator", True),
    ("", "admin", False),
    ("partner", "legal", False),
])
def test_which_roles_must_use_a_second_factor_is_configurable(
        client, auth, make_user, make_org, app, roles, role, compelled):
    app.config["REQUIRE_2FA_ROLES"] = frozenset(r for r in roles.split(",") if r)
    user = make_user(role, organisation=make_org("IT") if role == "partner" else None)
    auth.password_step(user.email)
    response = client.get("/dashboard")
    assert (response.status_code == 302) == compelled


def test_admin_resets_a_lost_second_factor(client, auth, make_user, app, session):
    legal, admin = make_user("legal"), make_user("admin")
    legal_browser = Auth(app.test_client())
    legal_browser.login(legal.email)
    assert legal_browser.client.get("/dashboard").status_code == 200
    auth.login(admin.email)
    page = client.get("/admin/users").get_data(as_text=True)
    assert f"two-factor authentication of {legal.email}" in page
    reset = client.post(f"/admin/users/{legal.id}/second-factor/reset",
                        data={"csrf_token": csrf_token(page)})
    assert reset.status_code == 302
    assert legal_browser.client.get("/dashboard").status_code == 302  # sessions ended
    again = legal_browser.password_step(legal.email)
    assert again.headers["Location"] == "/dashboard"  # no code asked: a new set-up follows
    assert legal_browser.client.get("/dashboard").headers["Location"] == "/account/two-factor"
    event = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "second_factor_reset")).one()
    assert (event.actor_id, event.details) == (admin.id, {"user_id": legal.id})


def test_only_an_admin_may_reset(client, auth, make_user, app):
    coordinator, legal = make_user("coordinator"), make_user("legal")
    auth.login(coordinator.email)
    token = csrf_token(client.get("/dashboard").get_data(as_text=True))
    assert client.post(f"/admin/users/{legal.id}/second-factor/reset",
                       data={"csrf_token": token}).status_code == 403


def test_nothing_secret_reaches_the_audit_log(client, auth, make_user, session):
    user = make_user("admin")
    auth.login(user.email)
    codes = auth.recovery_codes[user.email]
    auth.logout()
    auth.password_step(user.email, "a wrong password here")
    auth.password_step(user.email)
    auth.code_step(user.email, "123456")
    auth.code_step(user.email, codes[1])
    secret = authenticator(user.email).secret
    stored = session.get(User, user.id, populate_existing=True)
    text = " ".join(str((e.details, e.comment)) for e in session.scalars(select(AuditEvent)))
    for value in (PASSWORD, "a wrong password here", "123456", secret, *codes,
                  stored.totp_secret, stored.session_token):
        assert value not in text


def test_new_recovery_codes_need_a_current_code(client, auth, make_user):
    user = make_user("legal")
    auth.login(user.email)
    old = auth.recovery_codes[user.email]
    page = client.get("/account/security").get_data(as_text=True)
    wrong = client.post("/account/two-factor/recovery-codes",
                        data={"code": "000000", "csrf_token": csrf_token(page)})
    assert wrong.status_code == 422 and 'id="code-error"' in wrong.get_data(as_text=True)
    done = client.post("/account/two-factor/recovery-codes", data={
        "code": authenticator(user.email).code(), "csrf_token": csrf_token(page)})
    new = re.findall(r"<li><code>([a-z2-9-]{19})</code></li>", done.get_data(as_text=True))
    assert done.status_code == 200 and len(new) == 10 and not set(new) & set(old)
    assert "no-store" in done.headers["Cache-Control"]
