"""Wire the document layer into the app: platform signer, trust roots, effects, verifier."""

from __future__ import annotations

from pathlib import Path

from config import ConfigError


def init_documents(app) -> None:
    """Load the platform key (a development pair is created on first start) and bind the
    workflow's document effects."""
    from contracts.issuing import DocumentSettings, bind, make_verifier
    from contracts.signing import as_asn1, create_dev_keypair, load_signer

    key, cert = app.config["SIGNING_KEY_PATH"], app.config["SIGNING_CERT_PATH"]
    if not key or not cert:
        dev_dir = app.config.get("DEV_SIGNING_DIR")
        if dev_dir is None:
            raise ConfigError("SIGNING_KEY_PATH and SIGNING_CERT_PATH must name the platform "
                              "key and certificate that certify issued agreements")
        if app.config.get("TESTING"):
            dev_dir = Path(app.instance_path) / "signing"
        key, cert = create_dev_keypair(Path(dev_dir))
    signer = load_signer(key, cert, app.config.get("SIGNING_KEY_PASSPHRASE"))
    try:
        roots = [as_asn1(Path(path).read_bytes()) for path in app.config.get("TRUST_ROOTS", [])]
    except (OSError, ValueError) as exc:
        raise ConfigError(f"TRUST_ROOTS: cannot read a certificate: {exc}") from exc
    settings = DocumentSettings(
        signer=signer, trust_roots=roots, max_upload_bytes=app.config["MAX_UPLOAD_BYTES"],
        prepare_in_background=app.config.get("PREPARE_PDF_IN_BACKGROUND", True))
    bind(settings)
    app.extensions["clusterpact.documents"] = settings
    app.extensions["clusterpact.verifier"] = make_verifier(settings)
