"""API fixtures: the app on the test database, and callers holding a bearer token."""

from __future__ import annotations

import re
import secrets

import pytest

from config import TestingConfig
from tests.conftest import PASSWORD
from web import create_app
from workflow.db import begin_write
from workflow.models import ApiToken, utcnow
from workflow.services.tokens import TOKEN_PREFIX, TOKEN_TTL, hash_secret

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def make_app(database, instance_path):
    config = TestingConfig()
    config.DATABASE_URL = database.url
    config.INSTANCE_PATH = instance_path
    return create_app(config)


@pytest.fixture
def app(database, tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_DATABASE_URL", database.url)
    application = make_app(database, tmp_path)
    yield application
    application.extensions["clusterpact.engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def grant_token(session, user, **fields) -> str:
    """A usable token for `user`, stored as the API stores it (no password check: fast)."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    begin_write(session)  # end any read snapshot first (SQLite cannot upgrade a stale one)
    values = {"created_at": now, "expires_at": now + TOKEN_TTL, **fields}
    session.add(ApiToken(user_id=user.id, token_hash=hash_secret(secret), hint=secret[:10],
                         **values))
    session.commit()
    return secret


class Caller:
    """The test client with one user's bearer token on every request."""

    def __init__(self, client, token: str, user=None) -> None:
        self.client, self.token, self.user = client, token, user

    def headers(self, extra=None) -> dict:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def request(self, method: str, url: str, **kwargs):
        kwargs["headers"] = self.headers(kwargs.get("headers"))
        return self.client.open(url, method=method, **kwargs)

    def get(self, url, **kw):
        return self.request("GET", url, **kw)

    def post(self, url, **kw):
        return self.request("POST", url, **kw)

    def put(self, url, **kw):
        return self.request("PUT", url, **kw)

    def patch(self, url, **kw):
        return self.request("PATCH", url, **kw)

    def delete(self, url, **kw):
        return self.request("DELETE", url, **kw)


@pytest.fixture
def as_user(client, session):
    """`as_user(user)` -> a Caller authenticated with a fresh token of `user`."""

    def make(user) -> Caller:
        return Caller(client, grant_token(session, user), user)

    return make


def login_form(client, email: str, password: str = PASSWORD):
    """Log in through the real web form (session cookie)."""
    page = client.get("/login").get_data(as_text=True)
    return client.post("/login", data={"email": email, "password": password, "next": "",
                                       "csrf_token": TOKEN.search(page).group(1)})


def problem(response, status: int) -> dict:
    """Assert a problem+json answer with `status`; return its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["type"]
    return body
