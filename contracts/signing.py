"""Signature fields and the platform certification of issued agreements (pyHanko).

The issued PDF gets, in one incremental update on top of the rendered bytes, one empty named
signature field per party over that party's signature box, and the platform's certification
signature (DocMDP FILL_FORMS: partners can still fill in and sign the fields; any other change
is detectable). The certification is the first signature of the document.

eIDAS: the certification only makes later changes detectable; it is not a signature on a
partner's behalf.

Framework-free: no Flask, no database.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from io import BytesIO
from pathlib import Path

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pyhanko.keys import (
    load_cert_from_pemder,
    load_private_key_from_pemder,
    load_private_key_from_pemder_data,
)
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import MDPPerm, SigFieldSpec, SigSeedSubFilter
from pyhanko_certvalidator.registry import SimpleCertificateStore

from workflow.files import write_atomic

CERTIFICATION_FIELD = "Platform_Certification"
DEV_KEY_NAME = "platform-key.pem"
DEV_CERT_NAME = "platform-cert.pem"
_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")

Box = tuple[float, float, float, float]


class SigningError(RuntimeError):
    """The PDF could not be prepared or signed."""


def party_field_name(party_id: int) -> str:
    """The conventional name of a party's signature field."""
    return f"Signature_Party_{int(party_id)}"


def create_dev_keypair(directory: Path, *, common_name: str = "ClusterPact platform (development)"
                       ) -> tuple[Path, Path]:
    """A self-signed platform certificate and its RSA key under `directory` (key file 0600).

    Idempotent: when both files exist they are returned unchanged. Returns (key_path,
    cert_path). For development and tests only; production keys come from configuration.
    """
    directory = Path(directory)
    key_path, cert_path = directory / DEV_KEY_NAME, directory / DEV_CERT_NAME
    if key_path.is_file() and cert_path.is_file():
        if key_path.stat().st_mode & 0o077:
            os.chmod(key_path, 0o600)
        return key_path, cert_path
    directory.mkdir(parents=True, exist_ok=True)
    key, cert = make_certificate(common_name, organisation="ClusterPact")
    write_atomic(key_path, key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()), mode=0o600)
    write_atomic(cert_path, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)
    return key_path, cert_path


def make_certificate(common_name: str, *, organisation: str = "ClusterPact", issuer=None,
                     days: int = 3650, ca: bool = False):
    """(private key, certificate) with `cryptography`: self-signed, or issued by `issuer`
    (a (key, certificate) pair). Key usage allows document signing (non-repudiation).
    Also used by the tests to make partner and CA certificates."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation)])
    issuer_key, issuer_cert = issuer if issuer else (key, None)
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder()
               .subject_name(subject)
               .issuer_name(issuer_cert.subject if issuer_cert else subject)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5))
               .not_valid_after(now + dt.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(
                   digital_signature=True, content_commitment=True, key_encipherment=False,
                   data_encipherment=False, key_agreement=False, key_cert_sign=ca,
                   crl_sign=ca, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                              critical=False))
    if issuer_cert is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_cert.public_key()),
            critical=False)
    cert = builder.sign(issuer_key, hashes.SHA256())
    return key, cert


def load_signer(key_path, cert_path, passphrase: str | bytes | None = None,
                chain: list | None = None) -> signers.SimpleSigner:
    """A pyHanko signer from a PEM/DER key and certificate (and optional chain certificates,
    as asn1crypto or cryptography certificates). Raises SigningError if they cannot be loaded."""
    if isinstance(passphrase, str):
        passphrase = passphrase.encode("utf-8")
    try:
        key = load_private_key_from_pemder(str(key_path), passphrase=passphrase)
        cert = load_cert_from_pemder(str(cert_path))
    except (OSError, ValueError, TypeError) as exc:
        raise SigningError(f"cannot load the signing key or certificate: {exc}") from exc
    return signers.SimpleSigner(
        signing_cert=cert, signing_key=key,
        cert_registry=SimpleCertificateStore.from_certs([cert, *map(as_asn1, chain or [])]))


def signer_from_objects(key, cert, chain: list | None = None) -> signers.SimpleSigner:
    """A pyHanko signer from in-memory `cryptography` key and certificate objects (tests)."""
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return signers.SimpleSigner(
        signing_cert=as_asn1(cert), signing_key=load_private_key_from_pemder_data(pem_key, None),
        cert_registry=SimpleCertificateStore.from_certs(
            [as_asn1(cert), *map(as_asn1, chain or [])]))


def as_asn1(cert):
    """An asn1crypto certificate from a cryptography certificate, PEM/DER bytes or itself."""
    if isinstance(cert, asn1_x509.Certificate):
        return cert
    if isinstance(cert, x509.Certificate):
        return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    if isinstance(cert, (bytes, bytearray)):
        data = bytes(cert)
        if pem.detect(data):
            _, _, data = pem.unarmor(data)
        return asn1_x509.Certificate.load(data)
    raise TypeError(f"not a certificate: {type(cert).__name__}")


def prepare_and_certify(pdf: bytes, boxes: dict[int, tuple[int, Box]],
                        field_names: dict[int, str], signer, *, reason: str,
                        location: str | None = None) -> bytes:
    """Add one empty signature field per party over its box, then certify with `signer`.

    `boxes`: party id -> (page index, (x1, y1, x2, y2) in PDF points) as rendered
    (RenderedPdf.signature_boxes); `field_names`: party id -> field name. One incremental
    update on top of `pdf`: the rendered bytes stay an exact prefix of the result. The
    certification is the first signature, invisible, in the field `CERTIFICATION_FIELD`, with
    DocMDP permission FILL_FORMS.
    """
    if set(boxes) != set(field_names):
        raise SigningError("every party needs exactly one signature box and one field name")
    names = list(field_names.values())
    if len(set(names)) != len(names) or CERTIFICATION_FIELD in names:
        raise SigningError("signature field names must be unique")
    for name in names:
        if not _FIELD_NAME.match(name):
            raise SigningError(f"invalid signature field name: {name!r}")
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=True)
        if writer.prev.embedded_signatures:
            raise SigningError("the document is already signed; certification must come first")
        page_count = int(writer.root["/Pages"]["/Count"])
        for party_id in sorted(boxes):
            page, box = boxes[party_id]
            if not 0 <= page < page_count:
                raise SigningError(f"signature box of party {party_id} is on no page")
            fields.append_signature_field(writer, SigFieldSpec(
                sig_field_name=field_names[party_id], on_page=page,
                box=tuple(float(v) for v in box),
                readable_field_name=f"Signature of party {party_id}"))
        meta = signers.PdfSignatureMetadata(
            field_name=CERTIFICATION_FIELD, certify=True,
            docmdp_permissions=MDPPerm.FILL_FORMS, reason=reason, location=location,
            subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256")
        pdf_signer = signers.PdfSigner(meta, signer,
                                       new_field_spec=SigFieldSpec(CERTIFICATION_FIELD))
        return pdf_signer.sign_pdf(writer).getvalue()
    except SigningError:
        raise
    except Exception as exc:  # pyHanko raises several error types for bad input
        raise SigningError(f"could not certify the document: {exc}") from exc


def sign_field(pdf: bytes, field_name: str, signer, *, existing_only: bool = True,
               reason: str | None = None) -> bytes:
    """Sign the (empty) signature field `field_name` as an incremental update (PAdES).

    What a partner's PAdES tool does; used by tests and demos. With existing_only=False a
    missing field is created (invisible) -- only the tamper tests want that.
    """
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=True)
    meta = signers.PdfSignatureMetadata(field_name=field_name, reason=reason,
                                        subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256")
    return signers.PdfSigner(meta, signer).sign_pdf(
        writer, existing_fields_only=existing_only).getvalue()


