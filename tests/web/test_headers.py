"""Security headers on every kind of response, error pages included; no caching of anything
but static files; request size and host names limited."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from web.security import CSP
from workflow.services import throttle

NO_INLINE_SCRIPT = ("'unsafe-inline'", "'unsafe-eval'")


def _page(client, auth, make_user, make_partnership):
    return client.get("/login")


def _authenticated(client, auth, make_user, make_partnership):
    auth.login(make_user("coordinator").email)
    return client.get("/dashboard")


def _download(client, auth, make_user, make_partnership):
    p = make_partnership("draft")
    auth.login(p.owner.email)
    return client.get(f"/partnerships/{p.id}/agreement.pdf")


def _not_found(client, *_):
    return client.get("/no-such-page")


def _method_not_allowed(client, *_):
    return client.get("/logout")


def _too_large(client, *_):
    client.application.config["MAX_CONTENT_LENGTH"] = 1024
    return client.post("/login", data={"email": "x" * 4096, "password": "y"})


def _throttled(client, auth, make_user, make_partnership):
    user = make_user("coordinator")
    for _ in range(throttle.ACCOUNT_LIMIT):
        auth.login(user.email, "wrong password!")
    return auth.login(user.email)


def _server_error(client, *_):
    return client.get("/_test/boom")


def _csrf_failure(client, *_):
    return client.post("/login", data={"email": "a@example.org", "password": PASSWORD})


def _untrusted_host(client, *_):
    client.application.config["TRUSTED_HOSTS"] = ["clusterpact.example.org"]
    return client.get("/login", headers={"Host": "evil.example"})


def _api_problem(client, *_):
    return client.get("/api/v1/me")


def _api_throttled(client, auth, make_user, make_partnership):
    user = make_user("coordinator")
    for _ in range(throttle.ACCOUNT_LIMIT):
        client.post("/api/v1/tokens", json={"email": user.email, "password": "nope"})
    return client.post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD})


RESPONSES = [
    (_page, 200), (_authenticated, 200), (_download, 200), (_not_found, 404),
    (_method_not_allowed, 405), (_too_large, 413), (_throttled, 429), (_server_error, 500),
    (_csrf_failure, 400), (_untrusted_host, 400), (_api_problem, 401), (_api_throttled, 429),
]


@pytest.fixture
def boom(app):
    def explode():
        raise RuntimeError("a bug")

    app.add_url_rule("/_test/boom", "test_boom", explode)


@pytest.mark.parametrize("make,status", RESPONSES, ids=[m.__name__[1:] for m, _ in RESPONSES])
def test_every_response_carries_the_security_headers(
        make, status, client, auth, make_user, make_partnership, boom):
    response = make(client, auth, make_user, make_partnership)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "default-src 'self'" in csp and "object-src 'none'" in csp
    assert not any(bad in csp for bad in NO_INLINE_SCRIPT)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "no-store" in response.headers["Cache-Control"]
    assert "Strict-Transport-Security" not in response.headers  # only in production
    if status == 429:
        assert int(response.headers["Retry-After"]) > 0
    if response.mimetype == "text/html":
        assert "<script" not in response.get_data(as_text=True)


def test_static_files_may_be_cached(client):
    with client.get("/static/app.css") as response:
        assert response.status_code == 200 and "no-store" not in response.headers.get(
            "Cache-Control", "")
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_request_size_is_limited(app):
    assert 0 < app.config["MAX_CONTENT_LENGTH"] <= 64 * 1024 * 1024


def test_csrf_failure_after_login_also_has_headers(client, auth, make_user):
    auth.login(make_user("coordinator").email)
    response = client.post("/logout", data={"csrf_token": "forged"})
    assert response.status_code == 400  # refused: still logged in
    assert client.get("/dashboard").status_code == 200
    assert response.headers["Content-Security-Policy"] == CSP
    assert "no-store" in response.headers["Cache-Control"]
