"""A partner of another organisation gets 404 from every partnership operation, exactly as
for a partnership that does not exist: the API never reveals another organisation's objects."""

from __future__ import annotations

import io

from tests.api.conftest import problem
from workflow.services import documents as docs

# A valid request per operation, so a 404 comes from visibility and not from validation.
BODIES = {
    "updatePartnership": {"expected_version": 1, "parties": [{"id": 1, "role": "lead"}]},
    "advancePartnership": {"trigger": "reopen", "comment": "x", "expected_version": 1},
    "setClause": {"option": "standard"},
    "reviewClause": {"decision": "approve"},
    "postComment": {"body": "hello", "visibility": "partner"},
    "addBackgroundIp": {"party_id": 1, "none": True},
    "setDueDiligence": {"items": [{"key": "research_security", "done": True}]},
}


def requests_for(spec: dict, partnership_id: int, document_id: int):
    for path, ops in spec["paths"].items():
        if "{partnership_id}" not in path:
            continue
        url = path.format(partnership_id=partnership_id, document_id=document_id,
                          clause_key="confidentiality")
        for method, op in ops.items():
            kwargs = {}
            if op["operationId"] == "uploadSignedCopy":
                kwargs = {"data": {"file": (io.BytesIO(b"%PDF-1.7"), "x.pdf")},
                          "content_type": "multipart/form-data"}
            elif op["operationId"] in BODIES:
                kwargs = {"json": BODIES[op["operationId"]]}
            yield op["operationId"], method.upper(), url, kwargs


def test_every_partnership_operation_is_404_for_another_organisation(
        client, make_partnership, make_user, make_org, as_user, session):
    p = make_partnership("signing")
    issued = docs.current_issued(session, p.id)
    outsider = as_user(make_user("partner", organisation=make_org("IN", kind="sme")))
    insider = as_user(make_user("partner", organisation=p.parties[1].organisation))
    spec = client.get("/api/v1/openapi.json").get_json()
    checked = []
    for operation, method, url, kwargs in requests_for(spec, p.id, issued.id):
        hidden = problem(outsider.request(method, url, **_fresh(kwargs)), 404)
        missing = problem(outsider.request(method, url.replace(f"/{p.id}", "/999999", 1),
                                           **_fresh(kwargs)), 404)
        assert (hidden["title"], hidden["type"]) == (missing["title"], missing["type"]), (
            operation)
        assert p.reference not in hidden.get("detail", ""), operation
        checked.append(operation)
    assert len(checked) == 16
    # The partner whose organisation is a party does see it.
    assert insider.get(f"/api/v1/partnerships/{p.id}").status_code == 200
    assert insider.get(f"/api/v1/partnerships/{p.id}/agreement.pdf").status_code == 200
    listed = outsider.get("/api/v1/partnerships").get_json()
    assert listed["items"] == [] and listed["total"] == 0


def _fresh(kwargs: dict) -> dict:
    """File uploads are read once: give each request its own stream."""
    if "data" in kwargs:
        return {**kwargs, "data": {"file": (io.BytesIO(b"%PDF-1.7"), "x.pdf")}}
    return kwargs
