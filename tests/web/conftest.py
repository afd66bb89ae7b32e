"""Flask fixtures: the app on the test database, a client, and login through the real form."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from config import TestingConfig
from tests.auth_helpers import (
    RECOVERY_ON_PAGE,
    SECRET_ON_PAGE,
    authenticator,
    needs_enrolment,
    remember,
)
from tests.conftest import PASSWORD
from web import create_app
from workflow.models import User

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = TOKEN.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.fixture
def app(database, tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_DATABASE_URL", database.url)
    config = TestingConfig()
    config.DATABASE_URL = database.url
    config.INSTANCE_PATH = tmp_path
    application = create_app(config)
    yield application
    application.extensions["clusterpact.engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Auth:
    """Logs in through the real forms: the password, then the second factor. A user whose
    role requires one is enrolled through the set-up pages at their first login (their
    authenticator app is kept in tests.auth_helpers)."""

    def __init__(self, client) -> None:
        self.client = client
        self.recovery_codes: dict[str, list[str]] = {}

    def login(self, email: str, password: str = PASSWORD, next_url: str = ""):
        response = self.password_step(email, password, next_url)
        if response.status_code == 302 and response.headers["Location"] == "/login/code":
            return self.code_step(email)
        if response.status_code == 302 and self._must_enrol(email):
            self.enrol(email)
        return response

    def password_step(self, email: str, password: str = PASSWORD, next_url: str = ""):
        page = self.client.get("/login" + (f"?next={next_url}" if next_url else ""))
        return self.client.post("/login", data={
            "email": email, "password": password, "next": next_url,
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        })

    def code_step(self, email: str, code: str | None = None):
        page = self.client.get("/login/code")
        return self.client.post("/login/code", data={
            "code": code or authenticator(email).code(),
            "csrf_token": csrf_token(page.get_data(as_text=True))})

    def _must_enrol(self, email: str) -> bool:
        app = self.client.application
        with app.extensions["clusterpact.sessions"]() as db:
            user = db.scalar(select(User).where(User.email == email.strip().lower()))
            return user is not None and needs_enrolment(user, app.config["REQUIRE_2FA_ROLES"])

    def enrol(self, email: str) -> list[str]:
        """Set up the logged-in user's second factor through the pages; the recovery codes."""
        page = self.client.get("/account/two-factor").get_data(as_text=True)
        self.client.post("/account/two-factor/start", data={"csrf_token": csrf_token(page)})
        page = self.client.get("/account/two-factor").get_data(as_text=True)
        app = remember(email, SECRET_ON_PAGE.search(page).group(1))
        done = self.client.post("/account/two-factor/confirm", data={
            "code": app.code(), "csrf_token": csrf_token(page)})
        assert done.status_code == 200, done.get_data(as_text=True)
        codes = RECOVERY_ON_PAGE.findall(done.get_data(as_text=True))
        self.recovery_codes[email] = codes
        return codes

    def logout(self):
        page = self.client.get("/dashboard")
        return self.client.post("/logout", data={
            "csrf_token": csrf_token(page.get_data(as_text=True))})


@pytest.fixture
def auth(client):
    return Auth(client)
