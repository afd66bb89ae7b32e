"""Verification of an uploaded signed copy of an issued agreement.

A copy is accepted when the issued bytes are an exact prefix of the upload (signatures are
incremental updates), every signature is intact and valid, the changes after the platform
certification are at most form filling and signing, and every new signature sits in an
expected party field. Files that carry this agreement but were rewritten (re-saved) go to
manual review, and so do copies whose signatures are sound but not plainly each party's own:
a certificate outside its validity period when it signed, or one certificate signing for
several parties. Anything else is rejected with a reason the uploader understands.

Whether a signer's certificate chains to a trusted root is recorded per signature, separately
from acceptance. Validation never fetches anything (allow_fetching=False).

Framework-free: no Flask, no database.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import BytesIO

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import DiffResult, ModificationLevel
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from .signing import CERTIFICATION_FIELD, as_asn1

ACCEPTED, MANUAL_REVIEW, REJECTED = "accepted", "manual_review", "rejected"
# = contracts.pdf.ATTACHMENT_NAME (not imported: verification does not need WeasyPrint)
ATTACHMENT_NAME = "agreement.json"

# Parse limits, checked before any signature is validated.
MAX_REVISIONS = 64
MAX_SIGNATURES = 32

TOO_LARGE = "The file is too large ({size} MB; the limit is {limit} MB)."
NOT_A_PDF = "The file is not a PDF document."
DAMAGED = "The file is damaged or incomplete and cannot be read as a PDF."
TOO_COMPLEX = "The file has too many revisions or signatures to be checked automatically."
ENCRYPTED = ("The file is encrypted or password-protected. Upload the signed PDF without a "
             "password.")
NOT_THIS_AGREEMENT = ("The file is not this agreement: it is another agreement or another "
                      "version of it.")
REWRITTEN = ("The file contains this agreement but was re-saved or rewritten instead of being "
             "signed in place. A coordinator will review it.")
MODIFIED = ("The document was modified after it was issued (changes other than filling in and "
            "signing the signature fields).")
INCOMPLETE = "The file is shorter than the issued agreement: it is incomplete."
NO_NEW_SIGNATURE = ("The file contains no new signature. Sign your party's signature field and "
                    "upload the signed file.")
SIGNATURE_INVALID = ("The signature in field {field} is invalid or does not cover the document "
                     "it was applied to.")
WRONG_FIELD = ("A signature was placed in field {field}, which is not a party signature field. "
               "Sign in your party's signature field.")
UNREADABLE = "The signatures in the file cannot be read; the file may be damaged."
CERTIFICATION_BROKEN = "The platform certification of the issued agreement is missing or invalid."
ACCEPTED_REASON = "Signed copy accepted: signed for {parties}."
CERTIFICATE_NOT_VALID = ("The certificate that signed for {party} was not valid when it signed "
                         "(valid from {start} to {end}). A coordinator will review the copy.")
ONE_CERTIFICATE = ("One certificate signed for several parties ({parties}); each party signs "
                   "its own field. A coordinator will review the copy.")


@dataclass(frozen=True)
class SignatureReport:
    field: str
    party: str | None  # from expected_fields; None for the certification or an unexpected field
    signer_subject: str
    certificate_sha256: str
    signing_time: datetime | None
    intact: bool
    valid: bool
    trusted: bool  # chains to one of the given trust roots (recorded, not required)
    modification_level: str | None  # changes made after this signature, pyHanko's level
    docmdp_ok: bool | None
    coverage: str | None
    certification: bool  # the platform's certification signature
    new: bool  # added after the document was issued
    problem: str = ""

    def as_data(self) -> dict:
        data = dict(self.__dict__)
        data["signing_time"] = self.signing_time.isoformat() if self.signing_time else None
        return data


@dataclass(frozen=True)
class VerificationResult:
    status: str  # accepted | manual_review | rejected
    reason: str
    sha256: str
    size: int
    signatures: list[SignatureReport] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.status == ACCEPTED

    @property
    def signed_fields(self) -> dict[str, str]:
        """Field -> party of the new, accepted signatures (empty unless accepted)."""
        if not self.accepted:
            return {}
        return {s.field: s.party for s in self.signatures if s.new and s.party is not None}


def verify_signed_copy(issued: bytes, upload: bytes, expected_fields: dict[str, str],
                       trust_roots: list, *, max_bytes: int) -> VerificationResult:
    """Check an uploaded copy against the issued PDF (see the module docstring).

    `expected_fields`: party signature field name -> party (name or label);
    `trust_roots`: certificates (cryptography, asn1crypto or PEM/DER bytes) that make a
    signer "trusted"; `max_bytes`: the upload size limit, checked before anything else.
    """
    size = len(upload)
    digest = hashlib.sha256(upload).hexdigest()

    def result(status, reason, signatures=()):
        return VerificationResult(status, reason, digest, size, list(signatures))

    if size > max_bytes:
        return result(REJECTED, TOO_LARGE.format(size=megabytes(size), limit=megabytes(max_bytes)))
    if not upload.startswith(b"%PDF-"):
        return result(REJECTED, NOT_A_PDF)
    try:
        reader = PdfFileReader(BytesIO(upload), strict=True)
        revisions = reader.xrefs.total_revisions
        encrypted = reader.encrypted
    except Exception:  # noqa: BLE001 - any parse failure means the same to the uploader
        return result(REJECTED, DAMAGED)
    if encrypted:
        return result(REJECTED, ENCRYPTED)
    if revisions > MAX_REVISIONS:
        return result(REJECTED, TOO_COMPLEX)

    issued_reader = PdfFileReader(BytesIO(issued), strict=True)
    issued_revisions = issued_reader.xrefs.total_revisions

    if not upload.startswith(issued):
        if issued.startswith(upload):
            return result(REJECTED, INCOMPLETE)
        if _altered_in_place(issued, upload):
            return result(REJECTED, MODIFIED)
        if _same_agreement(issued_reader, reader):
            reports = _reports_for_review(reader, expected_fields, trust_roots)
            return result(MANUAL_REVIEW, REWRITTEN, reports)
        return result(REJECTED, NOT_THIS_AGREEMENT)

    try:
        status, reason, reports = _check_signatures(reader, issued_revisions, expected_fields,
                                                    trust_roots)
    except Exception:  # noqa: BLE001 - malformed signature dictionaries, fields, ...
        return result(REJECTED, UNREADABLE)
    return result(status, reason, reports)


def _check_signatures(reader, issued_revisions: int, expected_fields: dict[str, str],
                      trust_roots: list) -> tuple[str, str, list[SignatureReport]]:
    """The verdict on an upload that extends the issued bytes: (status, reason, reports)."""
    embedded = reader.embedded_regular_signatures
    if len(embedded) > MAX_SIGNATURES:
        return REJECTED, TOO_COMPLEX, []

    context = _context(trust_roots)
    reports: list[SignatureReport] = []
    statuses = []
    for sig in embedded:
        certification = sig.field_name == CERTIFICATION_FIELD
        new = sig.signed_revision >= issued_revisions
        try:
            status = validate_pdf_signature(sig, context)
        except Exception as exc:  # noqa: BLE001 - a malformed signature is an invalid one
            reports.append(_broken_report(sig, expected_fields, certification, new, str(exc)))
            statuses.append(None)
            continue
        reports.append(_report(sig, status, expected_fields, certification, new))
        statuses.append(status)

    # 1. The platform certification: first, issued, FILL_FORMS, still valid.
    first = embedded[0] if embedded else None
    if (first is None or first.field_name != CERTIFICATION_FIELD
            or first.signed_revision >= issued_revisions
            or first.docmdp_level != MDPPerm.FILL_FORMS or statuses[0] is None
            or not (statuses[0].intact and statuses[0].valid)):
        return REJECTED, CERTIFICATION_BROKEN, reports
    # 2. Every signature intact, valid and covering its whole revision.
    for status, report in zip(statuses, reports, strict=True):
        if status is None or not (status.intact and status.valid) or status.coverage is None \
                or status.coverage < SignatureCoverageLevel.ENTIRE_REVISION:
            return REJECTED, SIGNATURE_INVALID.format(field=report.field), reports
    # 3. New signatures only in expected party fields, never a second certification.
    for sig, report in zip(embedded, reports, strict=True):
        if report.new and (report.field not in expected_fields or sig.docmdp_level is not None):
            return REJECTED, WRONG_FIELD.format(field=report.field), reports
    # 4. Changes after each signature: at most form filling and signing (field by field).
    for status in statuses:
        if not _changes_allowed(status):
            return REJECTED, MODIFIED, reports
    # 5. Something was signed.
    new_reports = [r for r in reports if r.new]
    if not new_reports:
        return REJECTED, NO_NEW_SIGNATURE, reports
    # 6. Intact and valid, but not plainly a party's own signature: a person decides.
    for status, report in zip(statuses, reports, strict=True):
        cert = status.signing_cert
        if report.new and not _valid_at(cert, report.signing_time):
            return MANUAL_REVIEW, CERTIFICATE_NOT_VALID.format(
                party=report.party or report.field, start=cert.not_valid_before.date(),
                end=cert.not_valid_after.date()), reports
    parties_by_certificate: dict[str, set[str]] = {}
    for report in reports:
        if not report.certification and report.party is not None:
            parties_by_certificate.setdefault(report.certificate_sha256, set()).add(report.party)
    for parties in parties_by_certificate.values():
        if len(parties) > 1:
            return MANUAL_REVIEW, ONE_CERTIFICATE.format(parties=", ".join(sorted(parties))), (
                reports)
    parties = ", ".join(dict.fromkeys(r.party for r in new_reports))
    return ACCEPTED, ACCEPTED_REASON.format(parties=parties), reports


# -- checks ------------------------------------------------------------------------------------


def _valid_at(cert, when: datetime | None) -> bool:
    """Whether the certificate's validity period holds the signing time (now, if the
    signature states none): pyHanko reports such a signature intact and valid all the same."""
    when = when or datetime.now(UTC)
    return cert.not_valid_before <= when <= cert.not_valid_after


def _changes_allowed(status) -> bool:
    """Coverage, diff result, modification level and DocMDP compliance, each checked."""
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return status.modification_level == ModificationLevel.NONE
    if status.coverage != SignatureCoverageLevel.ENTIRE_REVISION:
        return False
    if not isinstance(status.diff_result, DiffResult):  # None (skipped) or suspicious
        return False
    level = status.modification_level
    if level is None or level > ModificationLevel.FORM_FILLING:
        return False
    return status.docmdp_ok is True


def _altered_in_place(issued: bytes, upload: bytes) -> bool:
    """The upload keeps the issued layout but some of its bytes were changed (as opposed to a
    rewrite, which changes nearly every block)."""
    if len(upload) < len(issued):
        return False
    block = 1024
    blocks = range(0, len(issued), block)
    changed = sum(upload[i:i + block] != issued[i:i + block] for i in blocks)
    return 0 < changed <= max(1, len(blocks) // 20)


def _same_agreement(issued_reader: PdfFileReader, reader: PdfFileReader) -> bool:
    """The upload carries the issued agreement's embedded data or document identifier."""
    try:
        expected = embedded_file(issued_reader, ATTACHMENT_NAME)
        found = embedded_file(reader, ATTACHMENT_NAME)
        if expected is not None and found is not None:
            return _canonical(expected) == _canonical(found)
    except Exception:  # noqa: BLE001, S110 - fall back on the document identifier  # nosec B110
        pass
    ident = _document_id(issued_reader)
    return ident is not None and ident == _document_id(reader)


def embedded_file(reader: PdfFileReader, name: str) -> bytes | None:
    """The content of the embedded file `name` (EmbeddedFiles name tree), if any."""
    names = reader.root.get("/Names")
    if names is None:
        return None
    tree = names.get_object().get("/EmbeddedFiles")
    if tree is None:
        return None
    stack, seen = [tree.get_object()], 0
    while stack and seen < 1000:
        node = stack.pop()
        seen += 1
        pairs = node.get("/Names")
        if pairs is not None:
            pairs = pairs.get_object()
            for i in range(0, len(pairs) - 1, 2):
                key = pairs[i].get_object()
                if str(key) == name:
                    spec = pairs[i + 1].get_object()
                    return spec["/EF"].get_object()["/F"].get_object().data
        kids = node.get("/Kids")
        if kids is not None:
            stack.extend(k.get_object() for k in kids.get_object())
    return None


def _canonical(data: bytes):
    try:
        return json.loads(data)
    except ValueError:
        return data


def _document_id(reader: PdfFileReader) -> bytes | None:
    """The permanent part of the PDF file identifier (/ID[0])."""
    try:
        return bytes(reader.document_id[0]) or None
    except Exception:  # noqa: BLE001 - no or malformed /ID
        return None


# -- reports -----------------------------------------------------------------------------------


def _context(trust_roots: list) -> ValidationContext:
    return ValidationContext(trust_roots=[as_asn1(c) for c in trust_roots],
                             allow_fetching=False)


def _report(sig, status, expected_fields, certification, new) -> SignatureReport:
    cert = status.signing_cert
    level = status.modification_level
    signing_time = status.signer_reported_dt
    if status.timestamp_validity is not None:
        signing_time = status.timestamp_validity.timestamp
    return SignatureReport(
        field=sig.field_name, party=None if certification else expected_fields.get(sig.field_name),
        signer_subject=cert.subject.human_friendly,
        certificate_sha256=hashlib.sha256(cert.dump()).hexdigest(),
        signing_time=signing_time, intact=bool(status.intact), valid=bool(status.valid),
        trusted=bool(status.trusted), modification_level=level.name if level else None,
        docmdp_ok=status.docmdp_ok, coverage=status.coverage.name if status.coverage else None,
        certification=certification, new=new)


def _broken_report(sig, expected_fields, certification, new, problem) -> SignatureReport:
    try:
        cert = sig.signer_cert
        subject, fingerprint = cert.subject.human_friendly, hashlib.sha256(cert.dump()).hexdigest()
    except Exception:  # noqa: BLE001
        subject, fingerprint = "", ""
    return SignatureReport(
        field=str(sig.field_name), party=expected_fields.get(sig.field_name),
        signer_subject=subject, certificate_sha256=fingerprint, signing_time=None, intact=False,
        valid=False, trusted=False, modification_level=None, docmdp_ok=None, coverage=None,
        certification=certification, new=new, problem=problem[:300])


def _reports_for_review(reader, expected_fields, trust_roots) -> list[SignatureReport]:
    """Signature reports of a rewritten copy, for the coordinator (not a verdict)."""
    reports = []
    try:
        embedded = reader.embedded_regular_signatures[:MAX_SIGNATURES]
    except Exception:  # noqa: BLE001
        return reports
    context = _context(trust_roots)
    for sig in embedded:
        certification = sig.field_name == CERTIFICATION_FIELD
        try:
            status = validate_pdf_signature(sig, context)
        except Exception as exc:  # noqa: BLE001
            reports.append(_broken_report(sig, expected_fields, certification,
                                          not certification, str(exc)))
            continue
        reports.append(_report(sig, status, expected_fields, certification, not certification))
    return reports


def megabytes(size: int) -> str:
    """A size in MB for people: 15 000 000 bytes -> '15', 1 250 000 -> '1.2'."""
    return f"{size / 1_000_000:.1f}".rstrip("0").rstrip(".")


__all__ = ["ACCEPTED", "MANUAL_REVIEW", "REJECTED", "SignatureReport", "VerificationResult",
           "embedded_file", "verify_signed_copy"]
