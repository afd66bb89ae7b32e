"""Personal API tokens: issue, use, revoke, throttle; a session cookie never authorises."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.api.conftest import TOKEN, grant_token, login_form, make_app, problem
from tests.conftest import PASSWORD
from workflow.models import ApiToken, AuditEvent, AuthThrottle, Partnership, utcnow
from workflow.services import throttle, tokens


def test_token_for_email_and_password_is_stored_only_hashed(client, make_user, session):
    user = make_user("coordinator")
    response = client.post("/api/v1/tokens", json={"email": user.email.upper(),
                                                   "password": PASSWORD, "name": "CRM sync"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    secret = body["token"]
    assert secret.startswith("cpt_") and body["expires_at"] and body["name"] == "CRM sync"
    stored = session.scalars(select(ApiToken)).one()
    assert stored.token_hash == tokens.hash_secret(secret) and secret not in (
        stored.token_hash, stored.hint)
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.get_json()["email"] == user.email
    assert me.headers["Cache-Control"] == "no-store"
    actions = session.scalars(select(AuditEvent.action)).all()
    assert "api_token_created" in actions


@pytest.mark.parametrize("password", ["wrong password, wrong!", PASSWORD])
def test_bad_credentials_answer_401_without_saying_which_part(client, make_user, password):
    make_user("coordinator", email="known@example.org")
    email = "unknown@example.org" if password == PASSWORD else "known@example.org"
    body = problem(client.post("/api/v1/tokens", json={"email": email, "password": password}),
                   401)
    assert body["detail"] == "Email, password or code is incorrect."


def test_inactive_user_gets_no_token_and_their_tokens_stop_working(client, make_user, session):
    user = make_user("legal")
    secret = grant_token(session, user)
    user.active = False
    session.commit()
    problem(client.post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD}),
            401)
    problem(client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}), 401)


@pytest.mark.parametrize("header", [None, "Basic dXNlcjpwYXNz", "Bearer", "Bearer cpt_nope",
                                    "Bearer not-a-token"])
def test_missing_or_unknown_token_is_401_with_a_bearer_challenge(client, header):
    response = client.get("/api/v1/me", headers={"Authorization": header} if header else {})
    body = problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="ClusterPact API"')
    assert body["type"].endswith("#problem-unauthenticated")


def test_expired_token_is_refused(client, make_user, session):
    user = make_user("coordinator")
    now = utcnow()
    secret = grant_token(session, user, created_at=now - timedelta(days=91),
                         expires_at=now - timedelta(seconds=1))
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    problem(response, 401)


def test_revoke_current_token(as_user, make_user, session):
    caller = as_user(make_user("legal"))
    other = as_user(caller.user)
    assert caller.delete("/api/v1/tokens/current").status_code == 204
    problem(caller.get("/api/v1/me"), 401)
    assert other.get("/api/v1/me").status_code == 200  # only that token is revoked
    listed = other.get("/api/v1/tokens").get_json()["items"]
    assert [t["current"] for t in listed] == [True, False]
    assert listed[1]["revoked_at"] is not None


def test_failed_requests_are_throttled_per_email(client, make_user, make_org, session):
    user = make_user("coordinator")
    for _ in range(throttle.ACCOUNT_LIMIT):
        problem(client.post("/api/v1/tokens", json={"email": user.email, "password": "nope"}),
                401)
    response = client.post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD})
    body = problem(response, 429)  # even the right password waits
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    assert body["retry_after"] == int(response.headers["Retry-After"])
    other = make_user("partner", organisation=make_org("BR"))
    assert client.post("/api/v1/tokens", json={"email": other.email, "password": PASSWORD}
                       ).status_code == 201


def test_failed_requests_are_throttled_per_client_address(client, make_user):
    user = make_user("coordinator")
    for i in range(throttle.ADDRESS_LIMIT):
        client.post("/api/v1/tokens", json={"email": f"guess{i}@example.org", "password": "x"},
                    environ_base={"REMOTE_ADDR": "203.0.113.9"})
    far = client.post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD},
                      environ_base={"REMOTE_ADDR": "203.0.113.9"})
    problem(far, 429)
    near = client.post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD},
                       environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert near.status_code == 201


def test_throttle_is_shared_by_every_process(database, make_user, tmp_path):
    """Two app instances with their own engines (as two gunicorn workers) count together."""
    user = make_user("coordinator")
    one, two = make_app(database, tmp_path / "a"), make_app(database, tmp_path / "b")
    try:
        for i in range(throttle.ACCOUNT_LIMIT):
            app = (one, two)[i % 2]
            app.test_client().post("/api/v1/tokens", json={"email": user.email,
                                                            "password": "nope"})
        problem(one.test_client().post("/api/v1/tokens", json={
            "email": user.email, "password": PASSWORD}), 429)
        problem(two.test_client().post("/api/v1/tokens", json={
            "email": user.email, "password": PASSWORD}), 429)
    finally:
        for app in (one, two):
            app.extensions["clusterpact.engine"].dispose()


def test_throttle_window_passes_and_success_clears_the_email_count(make_user, session):
    user = make_user("coordinator")
    start = utcnow() - throttle.WINDOW - timedelta(seconds=5)
    for _ in range(throttle.ACCOUNT_LIMIT):
        throttle.record_failure(session, user.email, "192.0.2.1", now=start)
    assert throttle.retry_after(session, user.email, "192.0.2.1", now=start) > 0
    assert throttle.retry_after(session, user.email, "192.0.2.1") == 0  # the window passed
    throttle.record_failure(session, user.email, "192.0.2.1")
    tokens.issue_token(session, user.email, PASSWORD, "192.0.2.1")
    keys = session.scalars(select(AuthThrottle.key)).all()
    assert keys == ["addr:192.0.2.1"]  # the email's count is cleared, the address's kept


def test_session_cookie_alone_never_authorises_the_api(client, make_user, make_org, session):
    user = make_user("coordinator")
    assert login_form(client, user.email).status_code == 302
    assert client.get("/dashboard").status_code == 200  # the browser session works
    eu, cn = make_org("IT"), make_org("CN")
    response = client.post("/api/v1/partnerships", json={
        "title": "Via cookie", "agreement_type": "collaboration",
        "parties": [{"organisation_id": eu.id, "role": "lead"},
                    {"organisation_id": cn.id, "role": "counterpart"}]})
    problem(response, 401)
    problem(client.get("/api/v1/me"), 401)
    assert session.scalar(select(func.count()).select_from(Partnership)) == 0


def test_api_writes_need_no_csrf_token_with_a_bearer_token(as_user, make_user):
    coordinator = as_user(make_user("coordinator"))
    response = coordinator.post("/api/v1/organisations", json={
        "name": "Turin Cluster", "country": "IT", "kind": "cluster"})
    assert response.status_code == 201


def test_tokens_page_lists_and_revokes_with_csrf(client, make_user, session):
    user = make_user("coordinator")
    secret = grant_token(session, user)
    other_secret = grant_token(session, make_user("legal"))
    login_form(client, user.email)
    page = client.get("/account/api-tokens")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and secret[:10] in html and other_secret[:10] not in html
    mine = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one()
    theirs = session.scalars(select(ApiToken).where(ApiToken.user_id != user.id)).one()
    assert client.post(f"/account/api-tokens/{mine.id}/revoke").status_code == 400  # no CSRF
    csrf = TOKEN.search(html).group(1)
    assert client.post(f"/account/api-tokens/{theirs.id}/revoke",
                       data={"csrf_token": csrf}).status_code == 404
    done = client.post(f"/account/api-tokens/{mine.id}/revoke", data={"csrf_token": csrf},
                       follow_redirects=True)
    assert done.status_code == 200 and "revoked" in done.get_data(as_text=True)
    problem(client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}), 401)
    assert client.get("/api/v1/me", headers={
        "Authorization": f"Bearer {other_secret}"}).status_code == 200


def test_tokens_page_needs_a_login(client):
    response = client.get("/account/api-tokens")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
