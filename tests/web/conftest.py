"""Flask fixtures: the app on the test database, a client, and login through the real form."""

from __future__ import annotations

import re

import pytest

from config import TestingConfig
from tests.conftest import PASSWORD
from web import create_app

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
    def __init__(self, client) -> None:
        self.client = client

    def login(self, email: str, password: str = PASSWORD, next_url: str = ""):
        page = self.client.get("/login" + (f"?next={next_url}" if next_url else ""))
        return self.client.post("/login", data={
            "email": email, "password": password, "next": next_url,
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        })

    def logout(self):
        page = self.client.get("/dashboard")
        return self.client.post("/logout", data={
            "csrf_token": csrf_token(page.get_data(as_text=True))})


@pytest.fixture
def auth(client):
    return Auth(client)
