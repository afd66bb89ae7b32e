"""End to end: issue -> sign every party field with test certificates -> upload -> accepted
-> complete -> active, and the issued PDF never changes."""

from __future__ import annotations

import hashlib
import subprocess

import pytest
from sqlalchemy import select

from contracts.issuing import make_verifier
from contracts.signing import make_certificate, sign_field, signer_from_objects
from workflow.errors import Conflict, GuardFailed
from workflow.models import AuditEvent, Document
from workflow.services import documents as docs
from workflow.services.transitions import advance


@pytest.fixture
def verifier(document_layer):
    return make_verifier(document_layer)


def partner_signer(name: str):
    key, cert = make_certificate(name, organisation=name)
    return signer_from_objects(key, cert)


def issued_bytes(session, pid):
    document = docs.current_issued(session, pid)
    return document, docs.content_of(session, document)


def test_issue_sign_upload_complete(session, make_partnership, make_user, verifier, database):
    p = make_partnership("signing")
    owner = p.owner
    issued, pdf = issued_bytes(session, p.id)
    assert issued.version == 1 and issued.sha256 == hashlib.sha256(pdf).hexdigest()
    assert issued.filename == f"{p.reference}-agreement-v1.pdf"

    with pytest.raises(GuardFailed) as blocked:
        advance(session, p.id, "complete", owner)
    assert len(blocked.value.reasons) == 2  # nobody has signed yet

    signed = pdf
    for party in p.parties:  # each party signs in turn, as their PAdES tool would
        signed = sign_field(signed, docs.field_name(party.id),
                            partner_signer(party.organisation.name))
    partner = make_user("partner", organisation=p.parties[1].organisation)
    # The partner uploads the copy both parties signed in turn.
    upload = docs.upload_signed_copy(session, partner, p.id, signed, "signed.pdf", verifier)
    assert upload.status == "accepted", upload.reason
    assert upload.created_by_id == partner.id
    recorded = docs.signatures_for(session, issued)
    assert {s.party_id for s in recorded} == {party.id for party in p.parties}
    assert all(s.kind == "digital" and s.intact and s.valid and not s.trusted
               for s in recorded)

    p = advance(session, p.id, "complete", owner)
    assert p.stage == "active"
    evidence = session.scalars(select(Document).where(
        Document.partnership_id == p.id, Document.kind == "evidence")).one()
    text = subprocess.run(["pdftotext", "-", "-"], input=docs.content_of(session, evidence),
                          capture_output=True, check=True).stdout.decode()
    assert "Certificate of completion" in text and issued.sha256[:20] in text.replace("\n", "")
    # The issued PDF itself never changed.
    assert docs.content_of(session, docs.current_issued(session, p.id)) == pdf


def test_tampered_upload_is_rejected_and_records_nothing(session, make_partnership, verifier):
    p = make_partnership("signing")
    issued, pdf = issued_bytes(session, p.id)
    signed = sign_field(pdf, docs.field_name(p.parties[0].id), partner_signer("EU signer"))
    flipped = bytearray(signed)
    flipped[len(pdf) // 2] ^= 0x01
    result = docs.upload_signed_copy(session, p.owner, p.id, bytes(flipped), "x.pdf", verifier)
    assert result.status == "rejected" and "modified after it was issued" in result.reason
    assert docs.signatures_for(session, issued) == []
    actions = session.scalars(select(AuditEvent.action).where(
        AuditEvent.partnership_id == p.id)).all()
    assert "signed_copy_rejected" in actions


def test_partner_of_another_organisation_cannot_upload(session, make_partnership, make_user,
                                                       make_org, verifier):
    from workflow.errors import NotFound

    p = make_partnership("signing")
    _issued, pdf = issued_bytes(session, p.id)
    outsider = make_user("partner", organisation=make_org("IN", kind="sme"))
    signed = sign_field(pdf, docs.field_name(p.parties[1].id), partner_signer("Outsider"))
    with pytest.raises(NotFound):
        docs.upload_signed_copy(session, outsider, p.id, signed, "x.pdf", verifier)


def test_reopen_supersedes_and_reissue_is_version_two(session, make_partnership, make_user):
    from tests.helpers import approve_all_clauses

    p = make_partnership("signing")
    first, _ = issued_bytes(session, p.id)
    legal = make_user("legal")
    p = advance(session, p.id, "reopen", legal, comment="Counterpart changed its signatory")
    session.refresh(first)
    assert first.status == "superseded" and docs.current_issued(session, p.id) is None
    p = advance(session, p.id, "submit_for_review", p.owner)
    approve_all_clauses(session, legal, p)
    p = advance(session, p.id, "approve", legal)
    second, _ = issued_bytes(session, p.id)
    assert second.version == 2 and second.id != first.id
    listed = [d.version for d in docs.documents(session, p.id) if d.kind == "issued"]
    assert sorted(listed) == [1, 2]


def test_wet_ink_needs_a_note_and_is_never_digital(session, make_partnership):
    from workflow.demo import SCAN_PLACEHOLDER
    from workflow.errors import ValidationFailed

    p = make_partnership("signing")
    party = p.parties[0]
    with pytest.raises(ValidationFailed):
        docs.record_wet_ink(session, p.owner, p.id, party.id, SCAN_PLACEHOLDER, "s.pdf", "")
    signature = docs.record_wet_ink(session, p.owner, p.id, party.id, SCAN_PLACEHOLDER,
                                    "s.pdf", "Signed in ink in Turin; received by courier.")
    assert signature.kind == "wet_ink" and signature.attested_by_id == p.owner_id
    assert not signature.valid and signature.signer_subject is None


def test_uploads_only_while_out_for_signature(session, make_partnership, verifier):
    p = make_partnership("approved")
    with pytest.raises(Conflict):
        docs.upload_signed_copy(session, p.owner, p.id, b"%PDF-1.7", "x.pdf", verifier)
