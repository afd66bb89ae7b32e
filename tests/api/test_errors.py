"""Every error is application/problem+json with the status the issue lists."""

from __future__ import annotations

import io

import pytest

from tests.api.conftest import problem


@pytest.fixture
def coordinator(as_user, make_user):
    return as_user(make_user("coordinator"))


def test_malformed_json_is_400(coordinator):
    body = problem(coordinator.post("/api/v1/organisations", data="{not json",
                                    content_type="application/json"), 400)
    assert body["type"].endswith("#problem-malformed") and body["instance"] == (
        "/api/v1/organisations")


def test_body_that_is_not_json_is_400(coordinator):
    problem(coordinator.post("/api/v1/organisations", data="name=x",
                             content_type="application/x-www-form-urlencoded"), 400)
    problem(coordinator.post("/api/v1/organisations", data=b"\xff\xfe",
                             content_type="application/json"), 400)


def test_schema_mismatch_is_422_with_each_field(coordinator):
    body = problem(coordinator.post("/api/v1/organisations", json={
        "name": "X", "country": "Italy", "kind": "castle", "extra": 1}), 422)
    assert set(body["errors"]) == {"country", "kind", "extra"}
    assert body["type"].endswith("#problem-invalid") and len(body["reasons"]) == 3


def test_query_mismatch_is_422(coordinator):
    body = problem(coordinator.get("/api/v1/partnerships?per_page=1000&page=0"), 422)
    assert set(body["errors"]) == {"per_page", "page"}


def test_control_characters_in_text_are_422_not_500(coordinator):
    problem(coordinator.post("/api/v1/tokens", json={"email": "a\x00b@example.org",
                                                      "password": "x"}), 422)
    problem(coordinator.get("/api/v1/partnerships?q=%00"), 422)


def test_oversized_json_is_413(coordinator):
    body = problem(coordinator.post("/api/v1/organisations", data="[" + "1," * 600_000 + "1]",
                                    content_type="application/json"), 413)
    assert body["type"].endswith("#problem-too-large")


def test_oversized_upload_is_413(app, coordinator, make_partnership):
    p = make_partnership("draft")
    app.config["MAX_UPLOAD_BYTES"] = 1000
    problem(coordinator.post(f"/api/v1/partnerships/{p.id}/signed-copies",
                             data={"file": (io.BytesIO(b"%PDF" + b"0" * 2000), "x.pdf")},
                             content_type="multipart/form-data"), 413)


def test_unknown_path_is_404_and_wrong_method_405(coordinator, client):
    problem(coordinator.get("/api/v1/nothing/here"), 404)
    problem(coordinator.get("/api/v1/partnerships/not-a-number"), 404)
    problem(coordinator.get("/api/v1/partnerships/99999999999"), 404)  # beyond int32
    problem(client.get("/api/v1/"), 404)
    response = coordinator.delete("/api/v1/me")
    problem(response, 405)
    assert response.headers["Allow"] == "GET"
    problem(coordinator.post("/api/v1/me", data="not json"), 405)
    problem(coordinator.post("/api/v1/nothing", data="not json"), 404)


def test_unexpected_error_is_a_500_problem_that_rolls_back(app, coordinator, monkeypatch):
    from web.api import views_meta

    def boom(_session):
        raise RuntimeError("boom")

    monkeypatch.setattr(views_meta.queries, "organisations", boom)
    body = problem(coordinator.get("/api/v1/organisations"), 500)
    assert "boom" not in body["detail"]


def test_html_pages_keep_their_html_errors(client):
    response = client.get("/partnerships/999999")
    assert response.status_code == 302  # login first: the API's handlers never apply here
    assert client.get("/no/such/page").mimetype == "text/html"
