"""Faults at the database: unavailable -> 503 within 5 s and recovery without a restart;
full -> 507 with nothing stored. Pages answer in the app's error style, the API with
problem+json, both with Retry-After."""

from __future__ import annotations

import os
import sqlite3
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

import config as app_config
from tests.conftest import PASSWORD
from tests.faults import disk_full
from tests.tcp_proxy import TcpProxy
from tests.web.conftest import Auth, csrf_token
from web import create_app
from workflow.models import Document, Partnership, Signature

POSTGRES = [pytest.param("postgresql", marks=pytest.mark.postgres)]


def _app(database, tmp_path, url=None, **settings):
    config = app_config.TestingConfig()
    config.DATABASE_URL = url or database.url
    config.INSTANCE_PATH = tmp_path
    for key, value in settings.items():
        setattr(config, key, value)
    return create_app(config)


def _token(client, user) -> dict:
    response = client.post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 201, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def _timed(call):
    start = time.monotonic()
    response = call()
    return response, time.monotonic() - start


def _assert_unavailable_page(response, status=503):
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    assert int(response.headers["Retry-After"]) > 0
    page = response.get_data(as_text=True)
    assert f"Error {status}" in page and "Nothing was" in page
    assert "Traceback" not in page


def _assert_unavailable_problem(response, status=503):
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["retry_after"] == int(response.headers["Retry-After"])
    return body


def _stored(database, pid):
    with database.sessions() as s:
        p = s.get(Partnership, pid)
        return (p.stage, p.version,
                s.scalar(select(func.count(Document.id)).where(Document.partnership_id == pid)),
                s.scalar(select(func.count(Signature.id)).where(Signature.partnership_id == pid)))


@pytest.mark.parametrize("database", POSTGRES, indirect=True)
@pytest.mark.parametrize("mode", ["refuse", "hang"])
def test_database_cut_answers_503_within_5_seconds_then_recovers(
        database, tmp_path, make_user, make_partnership, mode):
    owner = make_user("coordinator")
    p = make_partnership("draft", owner=owner)
    url = make_url(database.url)
    proxy = TcpProxy(url.host, url.port or 5432)
    app = _app(database, tmp_path, url.set(port=proxy.port).render_as_string(False))
    try:
        client = app.test_client()
        assert Auth(client).login(owner.email).status_code == 302
        bearer = _token(client, owner)
        assert client.get("/dashboard").status_code == 200
        advance = {"trigger": "start_due_diligence", "expected_version": p.version}

        proxy.cut(mode)
        page, page_seconds = _timed(lambda: client.get("/dashboard"))
        api, api_seconds = _timed(lambda: client.post(
            f"/api/v1/partnerships/{p.id}/transitions", json=advance, headers=bearer))
        _assert_unavailable_page(page)
        assert _assert_unavailable_problem(api)["type"].endswith("#problem-unavailable")
        assert page_seconds < 5 and api_seconds < 5, (page_seconds, api_seconds)

        proxy.restore()  # the same app object, no restart
        assert client.get("/dashboard").status_code == 200
        moved = client.post(f"/api/v1/partnerships/{p.id}/transitions", json=advance,
                            headers=bearer)
        assert moved.status_code == 200, moved.get_data(as_text=True)
        assert moved.get_json()["version"] == p.version + 1  # nothing was applied while cut
    finally:
        app.extensions["clusterpact.engine"].dispose()
        proxy.close()


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_sqlite_locked_beyond_busy_timeout_answers_503_then_recovers(
        database, tmp_path, make_user, make_partnership):
    owner = make_user("coordinator")
    p = make_partnership("draft", owner=owner)
    app = _app(database, tmp_path, DATABASE_BUSY_TIMEOUT_MS=300)
    client = app.test_client()
    try:
        assert Auth(client).login(owner.email).status_code == 302
        bearer = _token(client, owner)
        form = csrf_token(client.get(f"/partnerships/{p.id}").get_data(as_text=True))
        blocker = sqlite3.connect(make_url(database.url).database, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        try:
            page, page_seconds = _timed(lambda: client.post(
                f"/partnerships/{p.id}/transitions/start_due_diligence",
                data={"csrf_token": form, "expected_version": p.version, "comment": ""}))
            api, api_seconds = _timed(lambda: client.post(
                f"/api/v1/partnerships/{p.id}/transitions",
                json={"trigger": "start_due_diligence", "expected_version": p.version},
                headers=bearer))
        finally:
            blocker.rollback()
            blocker.close()
        _assert_unavailable_page(page)
        _assert_unavailable_problem(api)
        assert page_seconds < 5 and api_seconds < 5
        assert _stored(database, p.id)[:2] == ("draft", p.version)
        moved = client.post(f"/api/v1/partnerships/{p.id}/transitions",
                            json={"trigger": "start_due_diligence",
                                  "expected_version": p.version}, headers=bearer)
        assert moved.status_code == 200
    finally:
        app.extensions["clusterpact.engine"].dispose()


def test_disk_full_while_storing_uploads_answers_507_and_stores_nothing(
        database, tmp_path, session, make_partnership):
    p = make_partnership("signing")
    from workflow.models import User

    owner = session.get(User, p.owner_id)
    party = p.parties[0]
    session.rollback()
    app = _app(database, tmp_path)
    client = app.test_client()
    try:
        assert Auth(client).login(owner.email).status_code == 302
        bearer = _token(client, owner)
        form = csrf_token(client.get(
            f"/partnerships/{p.id}/parties/{party.id}/wet-ink").get_data(as_text=True))
        before = _stored(database, p.id)
        scan = os.urandom(300_000)  # more than fits in any page left over
        with disk_full(app.extensions["clusterpact.engine"]):
            page = client.post(
                f"/partnerships/{p.id}/parties/{party.id}/wet-ink",
                data={"csrf_token": form, "note": "Signed in ink, received by courier.",
                      "file": (_bytes_io(scan), "scan.pdf")},
                content_type="multipart/form-data")
            api = client.post(f"/api/v1/partnerships/{p.id}/signed-copies",
                              data={"file": (_bytes_io(scan), "signed.pdf")},
                              content_type="multipart/form-data", headers=bearer)
        _assert_unavailable_page(page, 507)
        assert _assert_unavailable_problem(api, 507)["type"].endswith("#problem-storage-full")
        assert _stored(database, p.id) == before  # no document, no signature, same stage
    finally:
        app.extensions["clusterpact.engine"].dispose()


def _bytes_io(data: bytes):
    from io import BytesIO

    return BytesIO(data)
