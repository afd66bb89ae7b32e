"""POST /api/v1/tokens and the second factor: a user with it on sends `totp` (each code
once); a role that requires it gets no token before it is set up."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.api.conftest import problem
from tests.auth_helpers import enrol
from tests.conftest import PASSWORD
from web.auth.policy import secret_box
from workflow.models import ApiToken, AuditEvent


@pytest.fixture
def enrolled(app, session):
    def make(user):
        with app.app_context():
            return enrol(session, user, secret_box())
    return make


def token_request(client, user, **extra):
    return client.post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD,
                                               **extra})


def test_a_user_with_a_second_factor_sends_a_current_code(client, make_user, enrolled, session):
    user = make_user("legal")
    app, _codes = enrolled(user)
    code = app.code()
    response = token_request(client, user, totp=code)
    assert response.status_code == 201, response.get_json()
    replay = problem(token_request(client, user, totp=code), 401)  # each code once
    assert replay["detail"] == "Email, password or code is incorrect."
    assert len(session.scalars(select(ApiToken)).all()) == 1


@pytest.mark.parametrize("extra", [{}, {"totp": "000000"}], ids=["missing", "wrong"])
def test_a_missing_or_wrong_code_answers_like_a_wrong_password(client, make_user, enrolled,
                                                               extra):
    user = make_user("coordinator")
    enrolled(user)
    refused = token_request(client, user, **extra)
    wrong_password = client.post("/api/v1/tokens", json={"email": user.email,
                                                         "password": "not it at all"})
    assert refused.status_code == wrong_password.status_code == 401
    assert refused.get_json() == wrong_password.get_json()
    assert refused.headers["WWW-Authenticate"] == wrong_password.headers["WWW-Authenticate"]


def test_recovery_codes_are_not_accepted_by_the_api(client, make_user, enrolled):
    user = make_user("coordinator")
    _app, codes = enrolled(user)
    problem(token_request(client, user, totp=codes[0]), 422)


@pytest.mark.parametrize("role", ["admin", "legal"])
def test_a_role_that_requires_a_second_factor_gets_no_token_before_setting_it_up(
        client, make_user, role, session):
    user = make_user(role)
    body = problem(token_request(client, user), 403)
    assert "two-factor authentication" in body["detail"]
    assert session.scalars(select(ApiToken)).all() == []


def test_a_coordinator_without_a_second_factor_needs_no_code(client, make_user):
    assert token_request(client, make_user("coordinator")).status_code == 201


def test_wrong_codes_are_throttled_and_audited(client, make_user, enrolled, session):
    from workflow.services import throttle

    user = make_user("coordinator")
    app, _ = enrolled(user)
    for _ in range(throttle.ACCOUNT_LIMIT):
        problem(token_request(client, user, totp="000000"), 401)
    problem(token_request(client, user, totp=app.code()), 429)
    reasons = session.scalars(select(AuditEvent.details).where(
        AuditEvent.action == "second_factor_failed")).all()
    assert reasons == [{"reason": "invalid"}] * throttle.ACCOUNT_LIMIT
