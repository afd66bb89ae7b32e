"""Verification of uploaded signed copies: legitimate signing accepted, a tamper corpus rejected
or sent to manual review with the right reason (real WeasyPrint, pyHanko, pypdf; no mocks, no
database)."""

from __future__ import annotations

import hashlib
from io import BytesIO

import pypdf
import pytest
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PageObject

from contracts import verify as v
from contracts.pdf import render_pdf
from contracts.signing import (
    CERTIFICATION_FIELD,
    as_asn1,
    create_dev_keypair,
    load_signer,
    make_certificate,
    party_field_name,
    prepare_and_certify,
    sign_field,
    signer_from_objects,
)
from tests.integration.test_pdf import sample_snapshot

LIMIT = 5_000_000


def issue(snapshot, platform_signer) -> bytes:
    rendered = render_pdf(snapshot, draft=False, author="Cluster", generated="2025-03-01")
    names = {p.id: party_field_name(p.id) for p in snapshot.parties}
    return prepare_and_certify(rendered.pdf, rendered.signature_boxes, names, platform_signer,
                               reason="Issued by ClusterPact")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    key_path, cert_path = create_dev_keypair(tmp_path_factory.mktemp("platform"))
    platform = load_signer(key_path, cert_path)
    ca = make_certificate("ClusterPact Test CA", organisation="Test CA", ca=True)
    trusted = make_certificate("Elena Conti", organisation="bioPmed", issuer=ca)
    untrusted = make_certificate("Jürgen Müller", organisation="Müller & Söhne")  # self-signed
    trusted_2 = make_certificate("Li Wei", organisation="Qianhai Meditech", issuer=ca)
    snapshot = sample_snapshot(clauses=3, paragraphs=2, assets=4)
    other = sample_snapshot(reference="CP-2025-0077", clauses=3, paragraphs=2, assets=4)
    return {
        "issued": issue(snapshot, platform),
        "other": issue(other, platform),
        "snapshot": snapshot,
        "expected": {party_field_name(p.id): p.name for p in snapshot.parties},
        "roots": [cert_path.read_bytes(), ca[1]],
        "platform_cert": as_asn1(cert_path.read_bytes()),
        "signers": [signer_from_objects(*trusted, chain=[ca[1]]),
                    signer_from_objects(*untrusted),
                    signer_from_objects(*trusted_2, chain=[ca[1]])],
        "certs": [trusted[1], untrusted[1], trusted_2[1]],
    }


def check(world, upload: bytes, **kwargs) -> v.VerificationResult:
    return v.verify_signed_copy(world["issued"], upload, world["expected"],
                                kwargs.get("roots", world["roots"]),
                                max_bytes=kwargs.get("max_bytes", LIMIT))


def field(world, index: int) -> str:
    return party_field_name(world["snapshot"].parties[index].id)


@pytest.fixture(scope="module")
def signed_once(world):
    return sign_field(world["issued"], field(world, 0), world["signers"][0])


@pytest.fixture(scope="module")
def signed_by_all(world, signed_once):
    data = signed_once
    for index in (1, 2):
        data = sign_field(data, field(world, index), world["signers"][index])
    return data


# --- legitimate copies ------------------------------------------------------------------------


def test_one_party_signed_is_accepted(world, signed_once):
    result = check(world, signed_once)
    assert result.status == v.ACCEPTED, result.reason
    party = world["snapshot"].parties[0]
    assert result.reason == v.ACCEPTED_REASON.format(parties=party.name)
    assert result.sha256 == hashlib.sha256(signed_once).hexdigest()
    assert result.size == len(signed_once)
    assert result.signed_fields == {field(world, 0): party.name}
    certification, signature = result.signatures
    assert certification.certification and not certification.new
    assert certification.field == CERTIFICATION_FIELD and certification.party is None
    assert certification.trusted and certification.modification_level == "FORM_FILLING"
    assert certification.docmdp_ok is True
    der = world["certs"][0].public_bytes(serialization.Encoding.DER)
    assert signature.field == field(world, 0) and signature.party == party.name
    assert signature.new and not signature.certification
    assert signature.signer_subject == "Organization: bioPmed, Common Name: Elena Conti"
    assert signature.certificate_sha256 == hashlib.sha256(der).hexdigest()
    assert signature.signing_time is not None
    assert signature.intact and signature.valid and signature.trusted
    assert signature.coverage == "ENTIRE_FILE" and signature.modification_level == "NONE"


def test_all_parties_signing_one_after_the_other_is_accepted(world, signed_by_all):
    result = check(world, signed_by_all)
    assert result.status == v.ACCEPTED, result.reason
    parties = world["snapshot"].parties
    assert result.signed_fields == {field(world, i): parties[i].name for i in range(3)}
    reports = {r.field: r for r in result.signatures}
    assert [r.field for r in result.signatures] == [CERTIFICATION_FIELD] + [
        field(world, i) for i in range(3)]
    # trust is recorded, not required: the self-signed partner is valid but untrusted
    assert [reports[field(world, i)].trusted for i in range(3)] == [True, False, True]
    assert all(r.intact and r.valid for r in result.signatures)
    assert [reports[field(world, i)].modification_level for i in range(3)] == [
        "FORM_FILLING", "FORM_FILLING", "NONE"]


def test_acceptance_does_not_depend_on_trust_roots(world, signed_by_all):
    result = check(world, signed_by_all, roots=[])
    assert result.status == v.ACCEPTED
    assert not any(r.trusted for r in result.signatures)


# --- the tamper corpus ------------------------------------------------------------------------


def flip_byte_inside_issued_part(world, signed: bytes) -> bytes:
    issued = world["issued"]
    streams = [i for i in range(len(issued)) if issued.startswith(b"stream\n", i)]
    at = streams[len(streams) // 2] + 200
    return signed[:at] + bytes([signed[at] ^ 0x01]) + signed[at + 1:]


def append_page(data: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(data))
    content = writer.add_object(generic.StreamObject(stream_data=b"BT ET"))
    writer.insert_page(PageObject(contents=content, media_box=(0, 0, 595.28, 841.89)))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def change_content(data: bytes, page: int = 2) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(data))
    overlay = writer.add_object(generic.StreamObject(
        stream_data=b"q 1 1 1 rg 60 400 470 300 re f Q"))  # paint over an article
    writer.add_stream_to_page(page, overlay)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def add_comment(data: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(data))
    page_ref = writer.find_page_for_modification(2)[0]
    annot = writer.add_object(generic.DictionaryObject({
        generic.pdf_name("/Type"): generic.pdf_name("/Annot"),
        generic.pdf_name("/Subtype"): generic.pdf_name("/Text"),
        generic.pdf_name("/Rect"): generic.ArrayObject(
            [generic.FloatObject(x) for x in (100, 100, 120, 120)]),
        generic.pdf_name("/Contents"): generic.TextStringObject("Royalty: 0%"),
    }))
    writer.register_annotation(page_ref, annot)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def rewrite_with_pypdf(data: bytes) -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(BytesIO(data)))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypt_with_pypdf(data: bytes) -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(BytesIO(data)))
    writer.encrypt("secret", algorithm="AES-256")
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def corrupt_new_signature(world, signed: bytes) -> bytes:
    """Change one hex digit of the partner's signature value (the end of the CMS blob, before
    the zero padding of /Contents)."""
    start = signed.index(b"/Contents <", len(world["issued"])) + len(b"/Contents <")
    end = signed.index(b">", start)
    at = start + len(signed[start:end].rstrip(b"0")) - 64
    digit = b"1" if signed[at:at + 1] != b"1" else b"2"
    return signed[:at] + digit + signed[at + 1:]


CORPUS = {
    # name: (make(world, signed_once) -> bytes, status, reason)
    "byte flipped inside the issued part": (
        lambda w, s: flip_byte_inside_issued_part(w, s), v.REJECTED, v.MODIFIED),
    "page appended after signing": (lambda w, s: append_page(s), v.REJECTED, v.MODIFIED),
    "page appended before signing": (
        lambda w, s: sign_field(append_page(w["issued"]), field(w, 0), w["signers"][0]),
        v.REJECTED, v.MODIFIED),
    "content changed in a later revision": (
        lambda w, s: change_content(s), v.REJECTED, v.MODIFIED),
    "content changed, then signed": (
        lambda w, s: sign_field(change_content(w["issued"]), field(w, 0), w["signers"][0]),
        v.REJECTED, v.MODIFIED),
    "comment added after signing": (lambda w, s: add_comment(s), v.REJECTED, v.MODIFIED),
    "signature in a non-party field": (
        lambda w, s: sign_field(w["issued"], "Witness_Signature", w["signers"][0],
                                existing_only=False),
        v.REJECTED, v.WRONG_FIELD.format(field="Witness_Signature")),
    "another signature in a new field after a party signed": (
        lambda w, s: sign_field(s, "Approval", w["signers"][1], existing_only=False),
        v.REJECTED, v.WRONG_FIELD.format(field="Approval")),
    "another agreement's PDF signed": (
        lambda w, s: sign_field(w["other"], field(w, 0), w["signers"][0]),
        v.REJECTED, v.NOT_THIS_AGREEMENT),
    "another agreement's PDF unsigned": (lambda w, s: w["other"], v.REJECTED,
                                         v.NOT_THIS_AGREEMENT),
    "issued PDF rewritten and re-saved": (
        lambda w, s: rewrite_with_pypdf(s), v.MANUAL_REVIEW, v.REWRITTEN),
    "truncated by a few bytes": (lambda w, s: s[:-300], v.REJECTED, v.DAMAGED),
    "truncated to half": (lambda w, s: s[:len(s) // 2], v.REJECTED, v.DAMAGED),
    "non-PDF named .pdf (zip)": (lambda w, s: b"PK\x03\x04" + s[4:], v.REJECTED, v.NOT_A_PDF),
    "non-PDF named .pdf (html)": (lambda w, s: b"<!doctype html><p>signed</p>", v.REJECTED,
                                  v.NOT_A_PDF),
    "empty file": (lambda w, s: b"", v.REJECTED, v.NOT_A_PDF),
    "encrypted PDF": (lambda w, s: encrypt_with_pypdf(s), v.REJECTED, v.ENCRYPTED),
    "oversized file": (lambda w, s: s + b"%" * (2 * LIMIT - len(s)), v.REJECTED,
                       v.TOO_LARGE.format(size="10", limit="5")),
    "oversized garbage is refused before parsing": (
        lambda w, s: b"%PDF-" + b"\x00" * (LIMIT + 1), v.REJECTED,
        v.TOO_LARGE.format(size="5", limit="5")),
    "the issued PDF without any signature": (lambda w, s: w["issued"], v.REJECTED,
                                             v.NO_NEW_SIGNATURE),
    "signature bytes corrupted": (
        lambda w, s: corrupt_new_signature(w, s), v.REJECTED,
        v.SIGNATURE_INVALID.format(field="Signature_Party_101")),
}


@pytest.mark.parametrize("name", list(CORPUS))
def test_tampered_copies_are_refused_with_the_right_reason(world, signed_once, name):
    make, status, reason = CORPUS[name]
    upload = make(world, signed_once)
    result = check(world, upload)
    assert (result.status, result.reason) == (status, reason)
    assert result.sha256 == hashlib.sha256(upload).hexdigest()
    assert result.signed_fields == {}


def test_the_corpus_covers_the_required_variants():
    assert len(CORPUS) >= 10


def test_a_rewritten_copy_is_reported_for_the_coordinator(world, signed_once):
    result = check(world, rewrite_with_pypdf(signed_once))
    assert result.status == v.MANUAL_REVIEW
    assert {r.field for r in result.signatures} == {CERTIFICATION_FIELD, field(world, 0)}
    assert not result.accepted and result.signed_fields == {}


def test_a_signed_copy_of_another_agreement_is_not_a_rewrite(world):
    upload = rewrite_with_pypdf(sign_field(world["other"], field(world, 0), world["signers"][0]))
    assert check(world, upload).reason == v.NOT_THIS_AGREEMENT


def test_embedded_agreement_data_is_read_back(world):
    from pyhanko.pdf_utils.reader import PdfFileReader

    data = v.embedded_file(PdfFileReader(BytesIO(world["issued"])), v.ATTACHMENT_NAME)
    assert data is not None and b'"reference":"CP-2025-0042"' in data
