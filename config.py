"""Settings read from the environment.

`load_config()` picks the class named by CLUSTERPACT_ENV (development, testing, production).
Production refuses to start without a strong SECRET_KEY; development generates one once and
keeps it under instance/ so sessions survive a restart.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("CLUSTERPACT_INSTANCE", BASE_DIR / "instance"))

WEAK_SECRETS = {"", "changeme", "change-me", "secret", "dev", "development", "please-change"}
MIN_SECRET_LENGTH = 32


class ConfigError(RuntimeError):
    """Raised when the environment does not allow a safe start."""


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


class Config:
    ENV_NAME = "base"
    DEBUG = False
    TESTING = False
    INSTANCE_PATH = INSTANCE_DIR
    SQLALCHEMY_ECHO = False
    # Flask session cookie: signed, never trusted alone (see web.auth for server-side revocation).
    SESSION_COOKIE_NAME = "clusterpact_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = True
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    SESSION_IDLE_TIMEOUT = timedelta(minutes=60)
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    WTF_CSRF_ENABLED = True
    PAGE_SIZE = 25

    # The platform key certifies issued agreements; partners' signatures are checked against
    # TRUST_ROOTS (PEM files, separated by os.pathsep) but accepted on integrity alone.
    PREPARE_PDF_IN_BACKGROUND = True

    def __init__(self) -> None:
        self.DATABASE_URL = os.environ.get("DATABASE_URL") or self.default_database_url()
        self.SECRET_KEY = self.load_secret_key()
        self.SIGNING_KEY_PATH = os.environ.get("SIGNING_KEY_PATH", "")
        self.SIGNING_CERT_PATH = os.environ.get("SIGNING_CERT_PATH", "")
        self.SIGNING_KEY_PASSPHRASE = os.environ.get("SIGNING_KEY_PASSPHRASE") or None
        self.TRUST_ROOTS = [p for p in os.environ.get("TRUST_ROOTS", "").split(os.pathsep) if p]
        self.MAX_UPLOAD_BYTES = int(os.environ.get("MAX_UPLOAD_BYTES", 15 * 1024 * 1024))

    def default_database_url(self) -> str:
        return _sqlite_url(INSTANCE_DIR / "clusterpact.db")

    def load_secret_key(self) -> str:
        key = os.environ.get("SECRET_KEY", "")
        if not is_strong_secret(key):
            raise ConfigError(
                "SECRET_KEY must be set to a random value of at least "
                f"{MIN_SECRET_LENGTH} characters (e.g. python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')"
            )
        return key


def is_strong_secret(key: str) -> bool:
    """Tell whether a secret key is long and not a well-known placeholder."""
    return len(key) >= MIN_SECRET_LENGTH and key.lower() not in WEAK_SECRETS and len(set(key)) > 8


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_NAME = "__Host-clusterpact_session"
    PREFERRED_URL_SCHEME = "https"


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    # Without SIGNING_KEY_PATH, a self-signed development pair is created under instance/.
    DEV_SIGNING_DIR = INSTANCE_DIR / "signing"
    DEBUG = False  # the Werkzeug debugger stays off: it executes code on request
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False

    def load_secret_key(self) -> str:
        key = os.environ.get("SECRET_KEY", "")
        if key:
            return super().load_secret_key()
        key_file = INSTANCE_DIR / "secret_key"
        if key_file.exists():
            return key_file.read_text().strip()
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        # Created with 0600 so other local users cannot forge sessions.
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key


class TestingConfig(DevelopmentConfig):
    ENV_NAME = "testing"
    TESTING = True
    WTF_CSRF_ENABLED = True
    PREPARE_PDF_IN_BACKGROUND = False

    def default_database_url(self) -> str:
        return os.environ.get("TEST_DATABASE_URL") or "sqlite://"

    def load_secret_key(self) -> str:
        return os.environ.get("SECRET_KEY") or secrets.token_urlsafe(48)


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}


def load_config(name: str | None = None) -> Config:
    """Build the configuration named by `name` or CLUSTERPACT_ENV (default: production)."""
    name = name or os.environ.get("CLUSTERPACT_ENV", "production")
    try:
        cls = CONFIGS[name]
    except KeyError:
        raise ConfigError(
            f"CLUSTERPACT_ENV={name!r} is not one of {', '.join(sorted(CONFIGS))}"
        ) from None
    return cls()
