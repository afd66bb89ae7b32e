"""Browser sessions: cookie flags, server-side revocation (a captured cookie is refused after
logout, password change, deactivation, role change or a second-factor change), idle timeout
and absolute lifetime checked on the server, and a fresh session at login."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from config import ProductionConfig
from tests.auth_helpers import enrol
from tests.conftest import PASSWORD
from tests.web.conftest import Auth, csrf_token
from web import create_app
from web.auth.policy import secret_box
from workflow.models import AuditEvent
from workflow.roles import SYSTEM_ACTOR
from workflow.services import second_factor, users

NEW_PASSWORD = "a brand new passphrase, 2026"
T0 = datetime(2026, 6, 1, 8, 0, 0, tzinfo=UTC)


def cookie_name(app) -> str:
    return app.config["SESSION_COOKIE_NAME"]


def captured(client, app) -> str:
    return client.get_cookie(cookie_name(app)).value


def replay(client, app, value: str):
    client.set_cookie(cookie_name(app), value)
    return client.get("/dashboard")


def refused(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.fixture
def production_app(database, tmp_path, monkeypatch):
    from contracts.signing import create_dev_keypair

    key, cert = create_dev_keypair(tmp_path / "signing")
    monkeypatch.setenv("SECRET_KEY", "prod-" + "Kq8vZ2!m" * 6)
    monkeypatch.setenv("TRUSTED_HOSTS", "localhost")
    monkeypatch.setenv("DATABASE_URL", database.url)
    monkeypatch.setenv("SIGNING_KEY_PATH", str(key))
    monkeypatch.setenv("SIGNING_CERT_PATH", str(cert))
    config = ProductionConfig()
    config.INSTANCE_PATH = tmp_path
    application = create_app(config)
    yield application
    application.extensions["clusterpact.engine"].dispose()


def test_development_cookie_is_httponly_and_samesite_lax(client, auth, make_user, app):
    response = auth.login(make_user("coordinator").email)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("clusterpact_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_production_cookie_is_secure_host_prefixed_httponly_lax(production_app, make_user):
    user = make_user("coordinator")
    client = production_app.test_client()  # https, as PREFERRED_URL_SCHEME says
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={
        "email": user.email, "password": PASSWORD, "csrf_token": csrf_token(page)},
        headers={"Referer": "https://localhost/login"})  # Flask-WTF's strict check on https
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-clusterpact_session=")
    attributes = {part.strip().split("=")[0] for part in cookie.split(";")[1:]}
    assert {"Secure", "HttpOnly", "SameSite", "Path"} <= attributes
    assert "Domain" not in attributes and "Path=/" in cookie and "SameSite=Lax" in cookie
    assert client.get("/dashboard").status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def _logout(ctx):
    ctx.auth.logout()


def _password_changed_elsewhere(ctx):
    other = Auth(ctx.app.test_client())
    other.login(ctx.user.email)
    page = other.client.get("/account/password").get_data(as_text=True)
    done = other.client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
        "csrf_token": csrf_token(page)})
    assert done.status_code == 302
    assert other.client.get("/dashboard").status_code == 200  # the changing session stays


def _deactivated(ctx):
    users.set_active(ctx.session, ctx.admin, ctx.user.id, False)


def _role_changed(ctx):
    users.set_role(ctx.session, ctx.admin, ctx.user.id, "legal")


def _second_factor_turned_on_elsewhere(ctx):
    with ctx.app.app_context():
        enrol(ctx.session, ctx.user, secret_box())


def _second_factor_reset(ctx):
    with ctx.app.app_context():
        enrol(ctx.session, ctx.user, secret_box())
    ctx.auth.login(ctx.user.email)  # enrolling ended the session: log in again, with a code
    ctx.cookie = captured(ctx.client, ctx.app)
    assert ctx.client.get("/dashboard").status_code == 200
    second_factor.reset(ctx.session, ctx.admin, ctx.user.id)


class Ctx:
    def __init__(self, **kw) -> None:
        self.__dict__.update(kw)


@pytest.mark.parametrize("event", [_logout, _password_changed_elsewhere, _deactivated,
                                   _role_changed, _second_factor_turned_on_elsewhere,
                                   _second_factor_reset], ids=lambda f: f.__name__[1:])
def test_a_cookie_captured_before_is_refused_after(event, client, auth, make_user, app,
                                                   session):
    user = make_user("coordinator")
    admin = users.create_user(session, SYSTEM_ACTOR, "root@example.org", "Root", "admin",
                              PASSWORD)
    auth.login(user.email)
    ctx = Ctx(client=client, auth=auth, app=app, session=session, user=user, admin=admin,
              cookie=captured(client, app))
    assert client.get("/dashboard").status_code == 200
    event(ctx)
    assert refused(replay(client, app, ctx.cookie))


def test_login_starts_a_fresh_session(client, auth, make_user):
    user = make_user("coordinator")
    client.get("/login")
    with client.session_transaction() as s:
        s["planted"] = "by an attacker"
        before = s["csrf_token"]
    auth.login(user.email)
    with client.session_transaction() as s:
        assert "planted" not in s and s.get("csrf_token") != before
        assert s["_user_id"].startswith(f"{user.id}:")
        assert isinstance(s["auth_at"], int) and s["auth_at"] == s["seen_at"]


def test_idle_session_ends_on_the_server(client, auth, make_user, app):
    user = make_user("coordinator")
    with time_machine.travel(T0, tick=False) as clock:
        auth.login(user.email)
        first = captured(client, app)
        for _ in range(3):  # activity keeps the session alive past the idle timeout
            clock.shift(timedelta(minutes=59))
            assert client.get("/dashboard").status_code == 200
        clock.shift(timedelta(minutes=61))
        response = client.get("/partnerships/")
        assert refused(response) and "next=/partnerships/" in response.headers["Location"]
        assert refused(replay(client, app, first))  # the old cookie is no better
        assert "Your session has expired" in client.get("/login").get_data(as_text=True)


def test_absolute_lifetime_ends_even_an_active_session(client, auth, make_user, app):
    user = make_user("coordinator")
    with time_machine.travel(T0, tick=False) as clock:
        auth.login(user.email)
        for _ in range(14):  # 11 h 40 min of steady activity
            clock.shift(timedelta(minutes=50))
            assert client.get("/dashboard").status_code == 200
        clock.shift(timedelta(minutes=25))  # 12 h 05 min after the login
        assert refused(client.get("/dashboard"))


def test_change_password_needs_the_current_one(client, auth, make_user, session):
    user = make_user("coordinator")
    auth.login(user.email)
    page = client.get("/account/password")
    assert page.status_code == 200
    token = csrf_token(page.get_data(as_text=True))
    wrong = client.post("/account/password", data={
        "current_password": "not my password!", "new_password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD, "csrf_token": token})
    assert wrong.status_code == 422
    assert "The current password is incorrect." in wrong.get_data(as_text=True)
    short = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "short", "confirm": "short",
        "csrf_token": token})
    assert short.status_code == 422 and "at least 12 characters" in short.get_data(as_text=True)
    done = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
        "csrf_token": token})
    assert done.status_code == 302 and done.headers["Location"] == "/account/security"
    assert client.get("/dashboard").status_code == 200
    auth.logout()
    assert auth.login(user.email).status_code == 401  # the old password
    assert auth.login(user.email, NEW_PASSWORD).status_code == 302
    actions = session.scalars(select(AuditEvent.action).where(
        AuditEvent.actor_id == user.id)).all()
    assert "password_change_failed" in actions and "password_changed" in actions
    for event in session.scalars(select(AuditEvent)):
        assert NEW_PASSWORD not in str(event.details) and PASSWORD not in str(event.details)
