"""Partnerships through the API: list, create, read, change parties, advance, history."""

from __future__ import annotations

import pytest

from tests.api.conftest import problem
from workflow.services.review import review_clause
from workflow.services.transitions import advance


@pytest.fixture
def world(make_org, make_user, as_user):
    """A coordinator, a legal advisor, and a partner of the Chinese counterpart."""
    eu, cn = make_org("IT"), make_org("CN", kind="sme")
    coordinator = make_user("coordinator")
    return {
        "eu": eu, "cn": cn, "coordinator": coordinator,
        "c": as_user(coordinator), "legal": as_user(make_user("legal")),
        "partner": as_user(make_user("partner", organisation=cn)),
    }


def new_body(eu, cn, **extra) -> dict:
    return {"title": "Diagnostics co-development", "agreement_type": "collaboration",
            "sector": "diagnostics", "start_date": "2026-09-01", "end_date": "2029-08-31",
            "parties": [
                {"organisation_id": eu.id, "role": "lead", "signatory": {
                    "name": "Elena Conti", "title": "Director", "email": "elena@example.org"}},
                {"organisation_id": cn.id, "role": "counterpart"}], **extra}


def test_create_answers_201_with_the_partnership(world):
    response = world["c"].post("/api/v1/partnerships", json=new_body(world["eu"], world["cn"]))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/partnerships/{body['id']}"
    assert body["stage"] == "draft" and body["version"] >= 1 and body["workflow"] == (
        "cluster_partnership")
    assert body["reference"].startswith("CP-") and body["end_date"] == "2029-08-31"
    assert [p["role"] for p in body["parties"]] == ["lead", "counterpart"]
    assert body["parties"][0]["signatory"]["email"] == "elena@example.org"
    assert body["clauses"] and all(c["status"] == "pending" for c in body["clauses"])
    start = next(t for t in body["available_transitions"] if t["trigger"] ==
                 "start_due_diligence")
    assert not start["allowed"] and any("signatory" in r for r in start["reasons"])


def test_create_refuses_other_roles_and_invalid_input(world):
    problem(world["legal"].post("/api/v1/partnerships",
                                json=new_body(world["eu"], world["cn"])), 403)
    body = problem(world["c"].post("/api/v1/partnerships", json=new_body(
        world["eu"], world["cn"], end_date="2020-01-01")), 422)
    assert "end_date" in body["errors"]
    body = problem(world["c"].post("/api/v1/partnerships", json=new_body(
        world["eu"], world["eu"])), 422)
    assert "parties" in body["errors"]
    wrong = new_body(world["eu"], world["cn"])
    wrong["parties"][0]["signatory"]["email"] = "nobody at example"
    body = problem(world["c"].post("/api/v1/partnerships", json=wrong), 422)
    assert list(body["errors"]) == ["parties[0].signatory.email"]
    problem(world["c"].post("/api/v1/partnerships", json={"title": "x"}), 422)


def test_list_filters_and_pages(world, make_partnership, make_org):
    c = world["coordinator"]
    first = make_partnership("draft", owner=c, eu=world["eu"], counterpart=world["cn"])
    make_partnership("due_diligence", owner=c, eu=world["eu"], counterpart=make_org("BR"))
    make_partnership("draft", owner=c, eu=world["eu"], counterpart=make_org("IN"))
    api = world["c"]
    page = api.get("/api/v1/partnerships?per_page=2").get_json()
    assert (page["page"], page["per_page"], page["total"], len(page["items"])) == (1, 2, 3, 2)
    assert len(api.get("/api/v1/partnerships?per_page=2&page=2").get_json()["items"]) == 1
    assert api.get("/api/v1/partnerships?stage=due_diligence").get_json()["total"] == 1
    only_cn = api.get("/api/v1/partnerships?country=cn").get_json()
    assert [p["id"] for p in only_cn["items"]] == [first.id]
    assert api.get(f"/api/v1/partnerships?q={first.reference}").get_json()["total"] == 1
    assert api.get("/api/v1/partnerships?q=no%25such_thing").get_json()["total"] == 0
    # The partner of the Chinese counterpart sees only the partnership their organisation is in.
    mine = world["partner"].get("/api/v1/partnerships").get_json()
    assert [p["id"] for p in mine["items"]] == [first.id] and mine["total"] == 1


def test_detail_for_staff_and_partner(world, make_partnership):
    p = make_partnership("negotiation", counterpart=world["cn"])
    staff = world["legal"].get(f"/api/v1/partnerships/{p.id}").get_json()
    assert staff["stage"] == "negotiation" and staff["safeguards"]
    assert all(c["status"] is not None for c in staff["clauses"])
    mine = world["partner"].get(f"/api/v1/partnerships/{p.id}").get_json()
    assert mine["safeguards"] is None and all(c["status"] is None for c in mine["clauses"])
    # Partners fire no transition, and why one is blocked is a staff matter, as on the page.
    assert mine["available_transitions"] == []


def test_partners_do_not_read_due_diligence_through_blocked_transitions(world,
                                                                        make_partnership):
    p = make_partnership("due_diligence", counterpart=world["cn"])
    url = f"/api/v1/partnerships/{p.id}"
    reasons = [r for t in world["c"].get(url).get_json()["available_transitions"]
               for r in t["reasons"]]
    assert any(r.startswith("Due diligence:") for r in reasons)  # staff see why
    assert world["partner"].get(url).get_json()["available_transitions"] == []


def test_patch_changes_parties_with_the_version(world, make_partnership):
    p = make_partnership("draft", owner=world["coordinator"], counterpart=world["cn"],
                         signatories=False)
    lead, counterpart = p.parties
    url = f"/api/v1/partnerships/{p.id}"
    response = world["c"].patch(url, json={"expected_version": p.version, "parties": [
        {"id": lead.id, "signatory": {"name": "Elena Conti", "title": "Director",
                                      "email": "elena@example.org"}},
        {"id": counterpart.id, "signatory": {"name": "Li Wei"}}]})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["version"] == p.version + 2
    assert body["parties"][1] | {"organisation": None} == {
        "id": counterpart.id, "organisation": None, "role": "counterpart",
        "signatory": {"name": "Li Wei", "title": None, "email": None},
        "background_none": False, "background_declared": False}
    stale = problem(world["c"].patch(url, json={"expected_version": p.version, "parties": [
        {"id": lead.id, "role": "lead"}]}), 409)
    assert stale["current_version"] == body["version"]
    problem(world["c"].patch(url, json={"expected_version": body["version"], "parties": [
        {"id": 987654, "role": "lead"}]}), 404)
    problem(world["partner"].patch(url, json={"expected_version": body["version"], "parties": [
        {"id": lead.id, "role": "lead"}]}), 403)
    # A party outside the EU/EEA is the counterpart: it cannot become a member.
    refused = problem(world["c"].patch(url, json={"expected_version": body["version"],
                                                  "parties": [{"id": counterpart.id,
                                                               "role": "member"}]}), 422)
    assert refused["errors"] == {
        "parties[0].role": "An organisation outside the EU/EEA takes part as a counterpart."}
    invalid = problem(world["c"].patch(url, json={"expected_version": body["version"],
                                                  "parties": [{"id": lead.id, "signatory": {
                                                      "email": "not an email"}}]}), 422)
    assert list(invalid["errors"]) == ["parties[0].signatory.email"]


def test_transitions_answer_each_status(world, make_partnership):
    p = make_partnership("draft", owner=world["coordinator"], counterpart=world["cn"])
    url = f"/api/v1/partnerships/{p.id}/transitions"
    moved = world["c"].post(url, json={"trigger": "start_due_diligence",
                                       "expected_version": p.version})
    assert moved.status_code == 200
    body = moved.get_json()
    assert body | {"version": 0} == {"id": p.id, "reference": p.reference,
                                     "stage": "due_diligence", "stage_label": "Due diligence",
                                     "version": 0}
    assert body["version"] > p.version
    stale = problem(world["c"].post(url, json={"trigger": "start_negotiation",
                                               "expected_version": p.version}), 409)
    assert stale["current_version"] == body["version"]
    wrong_stage = problem(world["c"].post(url, json={"trigger": "approve",
                                                     "expected_version": body["version"]}), 409)
    assert wrong_stage["current_stage"] == "due_diligence"
    assert wrong_stage["type"].endswith("#problem-transition-not-allowed")
    problem(world["legal"].post(url, json={"trigger": "start_negotiation",
                                           "expected_version": body["version"]}), 403)
    blocked = problem(world["c"].post(url, json={"trigger": "start_negotiation",
                                                 "expected_version": body["version"]}), 422)
    assert blocked["type"].endswith("#problem-blocked") and len(blocked["reasons"]) >= 3
    problem(world["c"].post(url, json={"trigger": "fly_to_the_moon",
                                       "expected_version": body["version"]}), 422)
    problem(world["c"].post(url, json={"trigger": "withdraw"}), 422)  # no expected_version


def test_history_hides_internal_review_comments_from_partners(world, make_partnership,
                                                              make_user, session):
    p = make_partnership("legal_review", counterpart=world["cn"])
    legal = make_user("legal")
    review_clause(session, legal, p.id, "confidentiality", "request_changes",
                  "Internal: counterpart's lawyer is slow", "internal")
    review_clause(session, legal, p.id, "liability", "request_changes",
                  "Please cap liability", "partner")
    url = f"/api/v1/partnerships/{p.id}/history"
    staff = [e["comment"] for e in world["legal"].get(url).get_json()["items"]]
    assert "Internal: counterpart's lawyer is slow" in staff and "Please cap liability" in staff
    events = world["partner"].get(url).get_json()["items"]
    assert [e["action"] for e in events][0] == "created"
    shown = [e["comment"] for e in events]
    assert "Please cap liability" in shown and "Internal: counterpart's lawyer is slow" not in (
        shown)


def test_history_gives_partners_no_staff_remarks_or_checklist(world, make_partnership,
                                                              make_user, session):
    """Partners see every event, but not the comments and details staff write: reasons to
    request changes, and the due-diligence items (refused to them on their own)."""
    p = make_partnership("legal_review", counterpart=world["cn"])
    advance(session, p.id, "request_changes", make_user("legal"),
            comment="Internal: stall until the screening is redone")
    url = f"/api/v1/partnerships/{p.id}/history"
    staff = world["legal"].get(url).get_json()["items"]
    assert "Internal: stall until the screening is redone" in [e["comment"] for e in staff]
    assert any(e["details"] for e in staff if e["action"] == "due_diligence_checked")
    problem(world["partner"].get(f"/api/v1/partnerships/{p.id}/due-diligence"), 403)
    events = world["partner"].get(url).get_json()["items"]
    assert [e["action"] for e in events] == [e["action"] for e in staff]
    assert [(e["comment"], e["details"]) for e in events] == [(None, None)] * len(events)
