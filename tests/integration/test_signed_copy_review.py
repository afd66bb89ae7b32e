"""Signed copies whose signatures are sound but not plainly each party's own go to a
coordinator, and issued agreements keep every word on the page (real WeasyPrint, pyHanko,
poppler; no mocks)."""

from __future__ import annotations

import datetime as dt
import logging
import re
import subprocess
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from contracts import verify as v
from contracts.issuing import make_verifier
from contracts.pdf import render_pdf
from contracts.signing import (
    create_dev_keypair,
    load_signer,
    make_certificate,
    party_field_name,
    sign_field,
    signer_from_objects,
)
from tests.integration.test_pdf import pdftotext, sample_snapshot
from tests.integration.test_verify import issue
from workflow.errors import GuardFailed
from workflow.models import RenderCache, utcnow
from workflow.services import documents as docs
from workflow.services.transitions import advance

logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)


# --- shared world: an issued agreement, a CA trusted by the platform --------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    key_path, cert_path = create_dev_keypair(tmp_path_factory.mktemp("platform"))
    snapshot = sample_snapshot(clauses=3, paragraphs=2, assets=4)
    ca = make_certificate("ClusterPact Test CA", organisation="Test CA", ca=True)
    return {"issued": issue(snapshot, load_signer(key_path, cert_path)), "snapshot": snapshot,
            "expected": {party_field_name(p.id): p.name for p in snapshot.parties},
            "roots": [cert_path.read_bytes(), ca[1]], "ca": ca}


def ca_issued(ca, common_name: str, *, starts: timedelta, ends: timedelta):
    """A partner certificate issued by the trusted test CA with the given validity window
    (relative to now)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                                     x509.NameAttribute(NameOID.ORGANIZATION_NAME, "bioPmed")]))
            .issuer_name(ca[1].subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + starts).not_valid_after(now + ends)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca[1].public_key()), critical=False)
            .sign(ca[0], hashes.SHA256()))
    return signer_from_objects(key, cert, chain=[ca[1]])


def check(world, upload: bytes) -> v.VerificationResult:
    return v.verify_signed_copy(world["issued"], upload, world["expected"], world["roots"],
                                max_bytes=20_000_000)


# --- a certificate outside its validity period when it signed ----------------------------


@pytest.mark.parametrize("window", [
    pytest.param((timedelta(days=-400), timedelta(days=-30)), id="expired-at-signing"),
    pytest.param((timedelta(days=30), timedelta(days=400)), id="not-yet-valid-at-signing"),
])
def test_a_certificate_outside_its_validity_goes_to_a_coordinator(world, window):
    """pyHanko reports such a signature intact and valid; it must not count as signed."""
    signer = ca_issued(world["ca"], "Elena Conti", starts=window[0], ends=window[1])
    field = party_field_name(world["snapshot"].parties[0].id)
    result = check(world, sign_field(world["issued"], field, signer))
    assert result.status == v.MANUAL_REVIEW and result.signed_fields == {}
    assert result.reason.startswith(
        f"The certificate that signed for {world['snapshot'].parties[0].name} was not valid "
        "when it signed (valid from ")


def test_a_certificate_within_its_validity_is_accepted(world):
    signer = ca_issued(world["ca"], "Elena Conti", starts=timedelta(days=-1),
                       ends=timedelta(days=300))
    field = party_field_name(world["snapshot"].parties[0].id)
    result = check(world, sign_field(world["issued"], field, signer))
    assert result.status == v.ACCEPTED and list(result.signed_fields) == [field]
    assert [s.trusted for s in result.signatures if s.new] == [True]


# --- one certificate signing for several parties ---------------------------------------


def test_one_certificate_signing_for_every_party_goes_to_a_coordinator(world):
    one = signer_from_objects(*make_certificate("Elena Conti", organisation="bioPmed"))
    data = world["issued"]
    for p in world["snapshot"].parties:  # the lead signs its own and the others' fields
        data = sign_field(data, party_field_name(p.id), one)
    result = check(world, data)
    assert result.status == v.MANUAL_REVIEW and result.signed_fields == {}
    names = ", ".join(sorted(p.name for p in world["snapshot"].parties))
    assert result.reason == (f"One certificate signed for several parties ({names}); each "
                             "party signs its own field. A coordinator will review the copy.")


def test_a_copy_signed_by_one_side_for_both_does_not_complete_the_deal(session, make_partnership,
                                                           make_user, document_layer):
    verifier = make_verifier(document_layer)
    p = make_partnership("signing")
    eu, cn = p.parties[0], p.parties[1]
    issued = docs.current_issued(session, p.id)
    pdf = docs.content_of(session, issued)
    # A person of the EU party signs both fields with one certificate naming the EU org.
    eu_cert = signer_from_objects(*make_certificate("Elena Conti",
                                                    organisation=eu.organisation.name))
    signed = sign_field(pdf, docs.field_name(eu.id), eu_cert)
    signed = sign_field(signed, docs.field_name(cn.id), eu_cert)
    eu_partner = make_user("partner", organisation=eu.organisation)
    upload = docs.upload_signed_copy(session, eu_partner, p.id, signed, "signed.pdf", verifier)
    recorded = {s.party_id: s.signer_subject for s in docs.signatures_for(session, issued)}
    try:
        advance(session, p.id, "complete", p.owner)
        completed = True
    except GuardFailed:
        completed = False
    assert upload.status == "manual_review"
    assert recorded == {} and not completed, (recorded, completed)


# --- long unbreakable words in clause text stay on the page ----------------------------


URL = ("https://www.wipo.int/amc/en/arbitration/expedited-rules/index.html?lang=en&clause="
       "CP-2025-0042&seat=Geneva&language=English&arbitrators=1&fees=schedule-2025")
PATENTS = ";".join(f"EP{3900001 + i}" for i in range(12))


def test_long_tokens_in_a_clause_stay_on_the_page():
    snap = sample_snapshot(clauses=2, paragraphs=1, assets=2,
                           extra_paragraph=f"Rules: {URL} and patents {PATENTS}")
    pdf = render_pdf(snap, draft=False, author="x", generated="2025-03-01").pdf
    bbox = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()
    off_page = []  # words that end beyond the paper's right edge
    for width, body in re.findall(r'<page width="([\d.]+)"[^>]*>(.*?)</page>', bbox, re.S):
        off_page += [w for x, w in re.findall(r'xMax="([\d.]+)"[^>]*>([^<]*)</word>', body)
                     if float(x) > float(width)]
    text = "".join(pdftotext(pdf).split())
    assert not off_page and URL in text and PATENTS in text, off_page


# --- approval certifies the PDF laid out when the review started ---------------------------


def test_approval_certifies_the_pdf_prepared_when_review_started(session, make_partnership,
                                                                 make_user):
    """Legal review takes days: the issued agreement is dated by the submission, and the PDF
    laid out then is the one approval certifies (no second layout inside the approval)."""
    from tests.helpers import approve_all_clauses, prepare_for

    p = make_partnership("negotiation")
    prepare_for(session, p, "submit_for_review", p.owner)
    submitted = utcnow() - timedelta(days=3)
    p = advance(session, p.id, "submit_for_review", p.owner, now=submitted)
    prepared = set(session.scalars(select(RenderCache.content_hash)
                                   .where(RenderCache.kind == "final")))
    legal = make_user("legal")
    approve_all_clauses(session, legal, p)
    p = advance(session, p.id, "approve", legal)
    finals = set(session.scalars(select(RenderCache.content_hash)
                                 .where(RenderCache.kind == "final")))
    text = pdftotext(docs.content_of(session, docs.current_issued(session, p.id)))
    assert finals == prepared and len(prepared) == 1
    assert submitted.date().isoformat() in text
