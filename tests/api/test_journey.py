"""The whole journey of the browser test, through HTTP calls to the API only.

A coordinator drafts a partnership between an Italian cluster and a Chinese SME, a legal advisor
sends one clause back, approves the rest and the agreement, each party signs the issued PDF
(what their PAdES tool would do) and uploads it, and the coordinator completes: active.
The only direct database steps are creating the user accounts and the legal advisor's second
factor (set up once in the web application), which the API does not offer.
"""

from __future__ import annotations

import hashlib
import io

from contracts.signing import make_certificate, sign_field, signer_from_objects
from tests.auth_helpers import authenticator, enrol
from tests.conftest import PASSWORD
from web.auth.policy import secret_box
from workflow.models import Organisation
from workflow.services.documents import field_name


class Http:
    """A script's view of the API: JSON in, JSON out, a bearer token on every call."""

    def __init__(self, client, email: str) -> None:
        self.client = client
        body = {"email": email, "password": PASSWORD, "name": "journey"}
        if (app := authenticator(email)) is not None:  # a second factor: its current code
            body["totp"] = app.code()
        response = client.post("/api/v1/tokens", json=body)
        assert response.status_code == 201, response.get_json()
        self.auth = {"Authorization": f"Bearer {response.get_json()['token']}"}

    def call(self, method: str, url: str, status: int = 200, **kwargs):
        response = self.client.open("/api/v1" + url, method=method, headers=self.auth, **kwargs)
        assert response.status_code == status, (method, url, response.get_data(as_text=True))
        return response.get_json() if response.is_json else response

    def get(self, url, **kw):
        return self.call("GET", url, **kw)

    def post(self, url, body=None, status=200, **kw):
        return self.call("POST", url, status, json=body, **kw) if body is not None else (
            self.call("POST", url, status, **kw))

    def put(self, url, body, status=200):
        return self.call("PUT", url, status, json=body)

    def patch(self, url, body, status=200):
        return self.call("PATCH", url, status, json=body)

    def advance(self, pid: int, trigger: str, comment: str | None = None) -> dict:
        version = self.get(f"/partnerships/{pid}")["version"]
        return self.post(f"/partnerships/{pid}/transitions", {
            "trigger": trigger, "comment": comment, "expected_version": version})


def option_values(api: Http, clause: str, option: str, **values) -> dict:
    library = {c["key"]: c for c in api.get("/clauses")["items"]}
    chosen = next(o for o in library[clause]["options"] if o["key"] == option)
    return {v["name"]: v["default"] for v in chosen["variables"]} | values


def sign(pdf: bytes, party: dict, person: str) -> bytes:
    key, cert = make_certificate(person, organisation=party["organisation"]["name"])
    return sign_field(pdf, field_name(party["id"]), signer_from_objects(key, cert),
                      reason=f"Signed for {party['organisation']['name']}")


def test_whole_journey_through_the_api(app, client, make_user, session):
    coordinator = Http(client, make_user("coordinator").email)
    legal_user = make_user("legal")
    with app.app_context():
        enrol(session, legal_user, secret_box())
    session.commit()  # end the read enrol left open: later reads see what the API writes

    # --- organisations and the draft -------------------------------------------------------
    eu = coordinator.post("/organisations", {"name": "bioPmed", "country": "IT",
                                             "kind": "cluster", "city": "Turin"}, 201)
    cn = coordinator.post("/organisations", {"name": "Shenzhen Qianhai Meditech",
                                             "country": "CN", "kind": "sme"}, 201)
    partner = Http(client, make_user("partner", organisation=session.get(
        Organisation, cn["id"])).email)
    legal = Http(client, legal_user.email)
    p = coordinator.post("/partnerships", {
        "title": "Point-of-care diagnostics co-development", "agreement_type": "collaboration",
        "sector": "diagnostics", "start_date": "2026-09-01", "end_date": "2029-08-31",
        "parties": [{"organisation_id": eu["id"], "role": "lead"},
                    {"organisation_id": cn["id"], "role": "counterpart"}]}, 201)
    pid, url = p["id"], f"/partnerships/{p['id']}"
    start = next(t for t in p["available_transitions"] if t["trigger"] == "start_due_diligence")
    assert not start["allowed"] and any("signatory" in r for r in start["reasons"])
    lead, counterpart = p["parties"]
    coordinator.patch(url, {"expected_version": p["version"], "parties": [
        {"id": lead["id"], "signatory": {"name": "Elena Conti", "title": "Director",
                                         "email": "elena.conti@example.org"}},
        {"id": counterpart["id"], "signatory": {"name": "Li Wei", "title": "CEO",
                                                "email": "li.wei@example.cn"}}]})
    assert coordinator.advance(pid, "start_due_diligence")["stage"] == "due_diligence"

    # --- due diligence and background IP ----------------------------------------------------
    checklist = coordinator.get(url + "/due-diligence")
    coordinator.put(url + "/due-diligence", {
        "expected_version": checklist["partnership_version"],
        "items": [{"key": i["key"], "done": True, "note": "Checked"}
                  for i in checklist["items"]]})
    coordinator.post(url + "/background-ip", {
        "party_id": lead["id"], "title": "Microfluidic sample-preparation cartridge",
        "asset_type": "patent", "identifiers": "EP 3 912 345 B1", "jurisdictions": "EP, US, CN",
        "access_implementation": "Royalty-free"}, 201)
    coordinator.post(url + "/background-ip", {"party_id": counterpart["id"], "none": True})
    assert coordinator.advance(pid, "start_negotiation")["stage"] == "negotiation"

    # --- negotiation: the China safeguard needs the NNN option --------------------------------
    submit = next(t for t in coordinator.get(url)["available_transitions"]
                  if t["trigger"] == "submit_for_review")
    assert not submit["allowed"] and any("NNN" in r for r in submit["reasons"])
    nnn = option_values(coordinator, "confidentiality", "nnn",
                        counterpart_language="Simplified Chinese")
    coordinator.put(url + "/clauses/confidentiality", {"option": "nnn", "variables": nnn})
    assert coordinator.advance(pid, "submit_for_review")["stage"] == "legal_review"

    # --- legal review: changes requested on one clause ---------------------------------------
    legal.post(url + "/clauses/confidentiality/reviews", {
        "decision": "request_changes", "visibility": "partner",
        "comment": "Add liquidated damages: misuse will be hard to prove in CN courts."}, 201)
    assert legal.advance(pid, "request_changes", "Confidentiality needs liquidated damages."
                         )["stage"] == "negotiation"
    coordinator.put(url + "/clauses/confidentiality", {
        "option": "nnn", "variables": nnn | {"liquidated_damages": 50000}})
    assert coordinator.advance(pid, "submit_for_review")["stage"] == "legal_review"

    # --- legal approves every clause, then the agreement -------------------------------------
    for clause in legal.get(url)["clauses"]:
        if clause["included"]:
            review = legal.post(url + f"/clauses/{clause['key']}/reviews",
                                {"decision": "approve"}, 201)
            assert review["clause_status"] == "approved"
    assert legal.advance(pid, "approve")["stage"] == "approved"
    assert coordinator.advance(pid, "send_for_signature")["stage"] == "signing"

    # --- each party downloads the issued PDF, signs its field, uploads -----------------------
    issued = partner.get(url + "/agreement.pdf").data
    assert issued.startswith(b"%PDF")
    listed = partner.get(url + "/documents")["items"]
    assert next(d for d in listed if d["kind"] == "issued")["sha256"] == (
        hashlib.sha256(issued).hexdigest())
    for api, party, person in ((partner, counterpart, "Li Wei"),
                               (coordinator, lead, "Elena Conti")):
        signed = sign(api.get(url + "/agreement.pdf").data, party, person)
        result = api.post(url + "/signed-copies", status=201, content_type="multipart/form-data",
                          data={"file": (io.BytesIO(signed), "signed.pdf")})
        assert result["status"] == "accepted", result["reason"]
        assert [s["party_id"] for s in result["signatures"]] == [party["id"]]

    # --- complete: active, with the evidence report ------------------------------------------
    assert coordinator.advance(pid, "complete")["stage"] == "active"
    final = partner.get(url)
    assert final["stage"] == "active" and final["stage_label"] == "Active"
    evidence = next(d for d in partner.get(url + "/documents")["items"]
                    if d["kind"] == "evidence")
    assert partner.client.get(evidence["download"], headers=partner.auth).data.startswith(b"%PDF")
    trail = [(e["trigger"], e["to_stage"]) for e in partner.get(url + "/history")["items"]
             if e["action"] == "transition"]
    assert trail[-1] == ("complete", "active") and len(trail) == 8
    assert partner.get(url + "/agreement.pdf").data == issued  # never changed
