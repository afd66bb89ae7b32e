"""Clauses, reviews, comments, background IP and due diligence through the API."""

from __future__ import annotations

import pytest

from tests.api.conftest import problem


@pytest.fixture
def people(make_org, make_user, as_user):
    cn = make_org("CN", kind="sme")
    coordinator = make_user("coordinator")
    return {"cn": cn, "coordinator": coordinator, "c": as_user(coordinator),
            "legal": as_user(make_user("legal")),
            "partner": as_user(make_user("partner", organisation=cn))}


def base(p) -> str:
    return f"/api/v1/partnerships/{p.id}"


def option_defaults(caller, clause_key: str, option_key: str) -> dict:
    """The default values of a library option, as GET /clauses describes them."""
    library = caller.get("/api/v1/clauses").get_json()["items"]
    clause = next(c for c in library if c["key"] == clause_key)
    option = next(o for o in clause["options"] if o["key"] == option_key)
    return {v["name"]: v["default"] for v in option["variables"]}


def test_set_clause(people, make_partnership):
    p = make_partnership("negotiation", owner=people["coordinator"], counterpart=people["cn"])
    url = base(p) + "/clauses/confidentiality"
    values = option_defaults(people["c"], "confidentiality", "nnn")
    response = people["c"].put(url, json={
        "option": "nnn", "variables": values | {"counterpart_language": "Simplified Chinese"},
        "expected_version": p.version})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["option"] == "nnn" and body["values"]["counterpart_language"] == (
        "Simplified Chinese")
    assert body["revision"] == 2 and body["partnership_version"] == p.version + 1
    assert body["status"] == "pending"
    stale = problem(people["c"].put(url, json={"option": "nnn", "expected_version": p.version}),
                    409)
    assert stale["current_version"] == body["partnership_version"]
    bad = problem(people["c"].put(url, json={"option": "no_such_option"}), 422)
    assert "option" in bad["errors"]
    problem(people["c"].put(base(p) + "/clauses/no_such_clause", json={"option": "x"}), 404)
    problem(people["legal"].put(url, json={"option": "nnn"}), 403)


def test_clauses_cannot_change_in_legal_review(people, make_partnership):
    p = make_partnership("legal_review", owner=people["coordinator"], counterpart=people["cn"])
    problem(people["c"].put(base(p) + "/clauses/confidentiality", json={"option": "nnn"}), 409)


def test_review_clause(people, make_partnership):
    p = make_partnership("legal_review", counterpart=people["cn"])
    url = base(p) + "/clauses/liability/reviews"
    response = people["legal"].post(url, json={"decision": "request_changes",
                                               "comment": "Cap it at EUR 1m",
                                               "visibility": "partner"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["clause"] == "liability" and body["clause_status"] == "changes_requested"
    assert body["decision"] == "request_changes" and body["reviewer"]["display_name"]
    assert people["legal"].post(url, json={"decision": "approve"}).get_json()[
        "clause_status"] == "approved"
    problem(people["legal"].post(url, json={"decision": "request_changes"}), 422)  # no comment
    problem(people["c"].post(url, json={"decision": "approve"}), 403)
    detail = people["partner"].get(base(p)).get_json()
    liability = next(c for c in detail["clauses"] if c["key"] == "liability")
    assert [r["comment"] for r in liability["reviews"]] == ["Cap it at EUR 1m"]  # not internal


def test_reviews_only_during_legal_review(people, make_partnership):
    p = make_partnership("negotiation", counterpart=people["cn"])
    problem(people["legal"].post(base(p) + "/clauses/liability/reviews",
                                 json={"decision": "approve"}), 409)


def test_comments_partner_never_sees_internal(people, make_partnership):
    p = make_partnership("negotiation", counterpart=people["cn"])
    url = base(p) + "/comments"
    internal = people["legal"].post(url, json={"body": "Between us", "visibility": "internal"})
    assert internal.status_code == 201
    shared = people["partner"].post(url, json={"body": "Question on Annex 1",
                                               "visibility": "internal",
                                               "clause": "background_ip"})
    assert shared.status_code == 201 and shared.get_json()["visibility"] == "partner"
    assert [c["body"] for c in people["legal"].get(url).get_json()["items"]] == [
        "Between us", "Question on Annex 1"]
    assert [c["body"] for c in people["partner"].get(url).get_json()["items"]] == [
        "Question on Annex 1"]
    problem(people["legal"].post(url, json={"body": "   "}), 422)
    problem(people["legal"].post(url, json={"body": "x", "clause": "nope"}), 404)


def test_background_ip_assets_and_none_declarations(people, make_partnership):
    p = make_partnership("due_diligence", owner=people["coordinator"], counterpart=people["cn"])
    eu, cn = p.parties
    url = base(p) + "/background-ip"
    added = people["c"].post(url, json={
        "party_id": eu.id, "title": "Microfluidic cartridge", "asset_type": "patent",
        "identifiers": "EP 3 912 345 B1", "expected_version": p.version})
    assert added.status_code == 201, added.get_json()
    register = added.get_json()
    assert register["parties"][0]["assets"][0]["title"] == "Microfluidic cartridge"
    assert register["parties"][0]["declared"] and not register["parties"][1]["declared"]
    declared = people["c"].post(url, json={"party_id": cn.id, "none": True})
    assert declared.status_code == 200
    assert declared.get_json()["parties"][1] | {"assets": None} == {
        "party_id": cn.id, "organisation": cn.organisation.name, "country": "CN",
        "background_none": True, "declared": True, "assets": None}
    problem(people["c"].post(url, json={"party_id": eu.id, "none": True}), 409)  # has assets
    problem(people["c"].post(url, json={"party_id": eu.id, "title": "X",
                                        "asset_type": "poem"}), 422)
    problem(people["c"].post(url, json={"party_id": 424242, "none": True}), 404)
    problem(people["partner"].post(url, json={"party_id": cn.id, "none": False}), 403)
    problem(people["c"].post(url, json={"party_id": cn.id, "none": True,
                                        "expected_version": p.version}), 409)
    assert people["partner"].get(url).get_json() == people["c"].get(url).get_json()


def test_due_diligence(people, make_partnership):
    p = make_partnership("due_diligence", owner=people["coordinator"], counterpart=people["cn"])
    url = base(p) + "/due-diligence"
    state = people["c"].get(url).get_json()
    assert [i["done"] for i in state["items"]] == [False, False, False]
    keys = [i["key"] for i in state["items"]]
    response = people["c"].put(url, json={"expected_version": state["partnership_version"],
                                          "items": [{"key": keys[0], "done": True,
                                                     "note": "Registry extract checked"},
                                                    {"key": keys[1], "done": True},
                                                    {"key": keys[2], "done": False}]})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [i["done"] for i in body["items"]] == [True, True, False]
    assert body["items"][0]["note"] == "Registry extract checked"
    assert body["items"][0]["checked_by"] == people["coordinator"].id
    assert body["partnership_version"] == state["partnership_version"] + 2  # item 3 unchanged
    problem(people["c"].put(url, json={"expected_version": state["partnership_version"],
                                       "items": [{"key": keys[2], "done": True}]}), 409)
    bad = problem(people["c"].put(url, json={"items": [{"key": "astrology", "done": True}]}),
                  422)
    assert "items[0].key" in bad["errors"]
    problem(people["partner"].get(url), 403)
    problem(people["legal"].put(url, json={"items": [{"key": keys[2], "done": True}]}), 403)
