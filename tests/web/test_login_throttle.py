"""Login throttling per account and per client address, shared with the API token endpoint
and stored in the database; the same answer for an unknown user and a wrong password; the
client address only from a configured proxy."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

import config
from tests.conftest import PASSWORD
from tests.web.conftest import Auth
from web import create_app
from workflow import passwords
from workflow.models import AuditEvent
from workflow.services import throttle


def normalised(response, email: str) -> str:
    """The page without what legitimately differs: the CSRF token and the typed email."""
    html = response.get_data(as_text=True)
    html = re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "CSRF", html)
    return html.replace(email, "EMAIL")


def test_unknown_user_and_wrong_password_get_the_same_answer_and_work(
        client, auth, make_user, monkeypatch):
    user = make_user("coordinator")
    hashes = []
    real = passwords.check_password_hash
    monkeypatch.setattr(passwords, "check_password_hash",
                        lambda h, p: hashes.append(h) or real(h, p))
    wrong = auth.login(user.email, "not the password at all")
    unknown = auth.login("nobody@example.org", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert normalised(wrong, user.email) == normalised(unknown, "nobody@example.org")
    assert "Email or password is incorrect." in wrong.get_data(as_text=True)
    assert len(hashes) == 2 and hashes[1].startswith("scrypt:")  # a dummy hash was checked


def test_an_account_is_throttled_after_repeated_failures(client, auth, make_user, session):
    user = make_user("coordinator")
    for _ in range(throttle.ACCOUNT_LIMIT):
        assert auth.login(user.email, "wrong password 123").status_code == 401
    response = auth.login(user.email)  # even the right password waits
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= throttle.WINDOW.total_seconds()
    html = response.get_data(as_text=True)
    assert "Too many failed attempts" in html and 'role="alert"' in html
    assert client.get("/dashboard").status_code == 302  # not logged in
    assert auth.login(make_user("coordinator").email).status_code == 302  # others may
    event = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "login_throttled")).one()
    assert event.outcome == "denied" and event.details["email"] == user.email


def test_a_client_address_is_throttled_across_accounts(app, make_user):
    user = make_user("coordinator")
    attacker = Auth(app.test_client())
    attacker.client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    for i in range(throttle.ADDRESS_LIMIT):
        attacker.login(f"guess{i}@example.org", "password guess")
    assert attacker.login(user.email).status_code == 429
    elsewhere = Auth(app.test_client())
    elsewhere.client.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert elsewhere.login(user.email).status_code == 302


def test_web_login_and_api_token_requests_count_together(client, auth, make_user):
    user = make_user("coordinator")
    for _ in range(throttle.ACCOUNT_LIMIT - 1):
        assert client.post("/api/v1/tokens", json={
            "email": user.email, "password": "wrong password"}).status_code == 401
    assert auth.login(user.email, "wrong again, sorry").status_code == 401
    assert auth.login(user.email).status_code == 429
    assert client.post("/api/v1/tokens", json={
        "email": user.email, "password": PASSWORD}).status_code == 429


def test_second_factor_failures_count_and_the_password_does_not_reset_them(
        client, auth, make_user):
    user = make_user("legal")
    auth.login(user.email)
    auth.logout()
    for _ in range(throttle.ACCOUNT_LIMIT):
        # An attacker who knows the password guesses codes, re-entering the password often.
        assert auth.password_step(user.email).headers["Location"] == "/login/code"
        assert auth.code_step(user.email, "000000").status_code == 401
    assert auth.password_step(user.email).status_code == 429
    assert auth.code_step(user.email).status_code == 429


def test_success_clears_the_account_count(client, auth, make_user):
    user = make_user("coordinator")
    for _ in range(throttle.ACCOUNT_LIMIT - 1):
        auth.login(user.email, "wrong password 123")
    assert auth.login(user.email).status_code == 302
    auth.logout()
    for _ in range(throttle.ACCOUNT_LIMIT - 1):
        auth.login(user.email, "wrong password 123")
    assert auth.login(user.email).status_code == 302


def _app_behind(proxies: int, database, tmp_path):
    settings = config.TestingConfig()
    settings.DATABASE_URL, settings.INSTANCE_PATH = database.url, tmp_path
    settings.TRUSTED_PROXIES = proxies
    return create_app(settings)


@pytest.mark.parametrize("proxies,throttled", [(0, True), (1, False)])
def test_forwarded_addresses_count_only_behind_a_configured_proxy(
        database, tmp_path, make_user, proxies, throttled):
    """Without a trusted proxy, X-Forwarded-For is the client's own claim: rotating it must
    not escape the address count. Behind one proxy, the address it forwards is the client."""
    app = _app_behind(proxies, database, tmp_path)
    try:
        user = make_user("coordinator")
        for i in range(throttle.ADDRESS_LIMIT):
            bot = Auth(app.test_client())
            bot.client.environ_base["HTTP_X_FORWARDED_FOR"] = f"192.0.2.{i}"
            bot.login(f"guess{i}@example.org", "password guess")
        last = Auth(app.test_client())
        last.client.environ_base["HTTP_X_FORWARDED_FOR"] = "192.0.2.250"
        assert (last.login(user.email).status_code == 429) == throttled
    finally:
        app.extensions["clusterpact.engine"].dispose()
