"""The caller, reference data, organisations, and the API's own description."""

from __future__ import annotations

import pytest

from tests.api.conftest import problem


def test_me(as_user, make_user, make_org):
    org = make_org("CN", kind="sme")
    body = as_user(make_user("partner", organisation=org)).get("/api/v1/me").get_json()
    assert body["role"] == "partner" and body["organisation"] == {
        "id": org.id, "name": org.name, "country": "CN", "city": None, "kind": "sme",
        "eu_eea": False}


def test_workflows_list_states_transitions_and_roles(as_user, make_user):
    items = as_user(make_user("legal")).get("/api/v1/workflows").get_json()["items"]
    cluster = next(w for w in items if w["key"] == "cluster_partnership")
    assert cluster["initial"] == "draft" and len(cluster["checklist"]) == 3
    approve = next(t for t in cluster["transitions"] if t["trigger"] == "approve")
    assert approve["roles"] == ["legal"] and approve["sources"] == ["legal_review"]
    assert "all_clauses_approved" in approve["guards"]
    assert {s["name"] for s in cluster["states"]} >= {"draft", "active", "withdrawn"}


def test_clause_library_with_options_and_variables(as_user, make_user, make_org):
    partner = make_user("partner", organisation=make_org("CN"))
    items = as_user(partner).get("/api/v1/clauses").get_json()["items"]
    assert [c["order"] for c in items] == sorted(c["order"] for c in items)
    confidentiality = next(c for c in items if c["key"] == "confidentiality")
    nnn = next(o for o in confidentiality["options"] if o["key"] == "nnn")
    assert nnn["text"] and any(v["name"] and v["type"] for v in nnn["variables"])


def test_countries_with_eu_flag_and_risk_tier(as_user, make_user):
    items = as_user(make_user("coordinator")).get("/api/v1/countries").get_json()["items"]
    by_code = {c["code"]: c for c in items}
    assert by_code["IT"]["eu_eea"] and not by_code["IT"]["risk"]
    assert by_code["NO"]["eu_eea"] and not by_code["CN"]["eu_eea"]
    cn = by_code["CN"]["risk"][0]
    assert cn["source"].startswith("USTR") and cn["year"] == 2025


def test_safeguard_rules(as_user, make_user):
    items = as_user(make_user("legal")).get("/api/v1/safeguard-rules").get_json()["items"]
    rule = next(r for r in items if r["clause"] == "confidentiality")
    assert rule["tier"] and rule["tier_source"] and rule["severity"] in ("block", "warn")
    assert rule["blocking"] == (rule["severity"] == "block") and rule["satisfied_by"]


def test_organisations_staff_see_all_partners_only_their_own(as_user, make_user, make_org):
    own, other = make_org("CN", kind="sme"), make_org("IT")
    staff = as_user(make_user("legal")).get("/api/v1/organisations").get_json()["items"]
    assert {o["id"] for o in staff} == {own.id, other.id}
    partner = as_user(make_user("partner", organisation=own))
    assert [o["id"] for o in partner.get("/api/v1/organisations").get_json()["items"]] == [
        own.id]


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_create_organisation(as_user, make_user, role):
    response = as_user(make_user(role)).post("/api/v1/organisations", json={
        "name": "Lyon Photonics", "country": "fr", "kind": "sme", "city": "Lyon"})
    assert response.status_code == 201
    assert response.get_json() | {"id": 0} == {"id": 0, "name": "Lyon Photonics",
                                               "country": "FR", "city": "Lyon", "kind": "sme",
                                               "eu_eea": True}


@pytest.mark.parametrize("role", ["legal", "partner"])
def test_create_organisation_needs_coordinator_or_admin(as_user, make_user, make_org, role):
    user = make_user(role, organisation=make_org("CN") if role == "partner" else None)
    problem(as_user(user).post("/api/v1/organisations", json={
        "name": "Nope Ltd", "country": "GB", "kind": "sme"}), 403)


def test_create_organisation_conflict_and_invalid(as_user, make_user, make_org):
    caller = as_user(make_user("coordinator"))
    existing = make_org("IT", name="bioPmed")
    problem(caller.post("/api/v1/organisations", json={
        "name": existing.name, "country": "IT", "kind": "cluster"}), 409)
    body = problem(caller.post("/api/v1/organisations", json={
        "name": "Somewhere", "country": "XX", "kind": "cluster"}), 422)
    assert "country" in body["errors"]


def test_openapi_describes_every_operation_from_the_same_models(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0"
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    operations = {(m.upper(), path) for path, ops in spec["paths"].items() for m in ops}
    assert ("POST", "/api/v1/partnerships/{partnership_id}/transitions") in operations
    assert ("GET", "/api/v1/partnerships/{partnership_id}/agreement.pdf") in operations
    assert len(operations) == 28
    token = spec["paths"]["/api/v1/tokens"]["post"]
    assert token["security"] == [] and set(token["responses"]) >= {"201", "401", "429"}
    assert "application/problem+json" in token["responses"]["429"]["content"]
    schema = spec["components"]["schemas"]["TransitionIn"]
    assert schema["required"] == ["trigger", "expected_version"]
    assert schema["additionalProperties"] is False


def test_docs_page_lists_every_operation_without_scripts(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    response = client.get("/api/v1/docs")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    for path, ops in spec["paths"].items():
        for method in ops:
            assert f"{method.upper()} {path}" in html
    assert "<script" not in html and "problem-throttled" in html
