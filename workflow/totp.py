"""Second-factor primitives: TOTP codes (RFC 6238, with pyotp), the encryption of stored TOTP
secrets, and recovery codes. Pure functions; the services in workflow/services/second_factor.py
keep the state.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime

import pyotp
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ISSUER = "ClusterPact"
STEP_SECONDS = 30
DRIFT_STEPS = 1  # the step before and after the current one also count: phone clocks drift
CODE = re.compile(r"\d{6}")
RECOVERY_CODE_COUNT = 10
# 16 characters of a 31-letter alphabet without look-alikes (0/o, 1/i/l): 79 random bits.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_LENGTH = 16
_HKDF_INFO = b"clusterpact/totp-secret/v1"


class SecretBox:
    """Encrypts TOTP secrets at rest with Fernet (AES-128-CBC + HMAC-SHA256).

    The Fernet key is derived with HKDF-SHA256 from the application's SECRET_KEY, so no extra
    key has to be managed; older keys (SECRET_KEY_FALLBACKS) still decrypt after a rotation.
    """

    def __init__(self, secret_key: str, fallbacks=()) -> None:
        self._fernet = MultiFernet([Fernet(_derive(k)) for k in (secret_key, *fallbacks) if k])

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode()

    def decrypt(self, token: str) -> str | None:
        """The plain text, or None when no known key decrypts `token`."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            return None


def _derive(secret_key: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO)
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode("utf-8", "surrogatepass")))


def new_secret() -> str:
    """A fresh base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, account: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)


def time_step(now: datetime) -> int:
    """The TOTP time step `now` falls in."""
    return int(now.timestamp()) // STEP_SECONDS


def matching_step(secret: str, code: str, now: datetime, after: int | None) -> int | None:
    """The time step whose code is `code`, if it is within the allowed drift and later than
    `after` (the last step already used: a code is good once), else None."""
    code = (code or "").replace(" ", "")
    if not CODE.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret)
    current = time_step(now)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        # Compare every candidate (no early exit): the work does not depend on the code.
        if hmac.compare_digest(totp.generate_otp(step), code) and found is None:
            found = step
    if found is None or (after is not None and found <= after):
        return None
    return found


def looks_like_code(text: str) -> bool:
    """Tell a six-digit TOTP code from a recovery code."""
    return bool(CODE.fullmatch((text or "").replace(" ", "")))


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """Fresh recovery codes, formatted for reading (xxxx-xxxx-xxxx-xxxx)."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        codes.append("-".join(raw[i:i + 4] for i in range(0, RECOVERY_LENGTH, 4)))
    return codes


def recovery_hash(user_id: int, code: str) -> str:
    """The stored form of a recovery code: sha256 over the user id and the normalised code.

    79 random bits per code make a slow hash unnecessary; the user id keeps equal codes of
    different users apart."""
    normalised = re.sub(r"[\s-]", "", (code or "").lower())[:64]
    return hashlib.sha256(f"{user_id}:{normalised}".encode()).hexdigest()
