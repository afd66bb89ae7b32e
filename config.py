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

from workflow.roles import USER_ROLES

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
    # Both enforced on the server from timestamps in the session (web/auth/policy.py): the
    # absolute lifetime from the login, the idle timeout from the last request.
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    SESSION_IDLE_TIMEOUT = timedelta(minutes=60)
    LOGIN_CODE_TIMEOUT = timedelta(minutes=5)  # between the password and the second factor
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    WTF_CSRF_ENABLED = True
    PAGE_SIZE = 25

    # The platform key certifies issued agreements; partners' signatures are checked against
    # TRUST_ROOTS (PEM files, separated by os.pathsep) but accepted on integrity alone.
    PREPARE_PDF_IN_BACKGROUND = True
    DEFAULT_SMTP_PORT = 25  # a local MTA
    DEFAULT_BASE_URL = ""  # production: set BASE_URL, the relay refuses to send without it

    def __init__(self) -> None:
        self.DATABASE_URL = os.environ.get("DATABASE_URL") or self.default_database_url()
        self.SECRET_KEY = self.load_secret_key()
        self.load_auth_settings()
        self.SIGNING_KEY_PATH = os.environ.get("SIGNING_KEY_PATH", "")
        self.SIGNING_CERT_PATH = os.environ.get("SIGNING_CERT_PATH", "")
        self.SIGNING_KEY_PASSPHRASE = os.environ.get("SIGNING_KEY_PASSPHRASE") or None
        self.TRUST_ROOTS = [p for p in os.environ.get("TRUST_ROOTS", "").split(os.pathsep) if p]
        self.MAX_UPLOAD_BYTES = int(os.environ.get("MAX_UPLOAD_BYTES", 15 * 1024 * 1024))
        # Faults (README "Operations"): a dead database answers 503 within seconds.
        self.DATABASE_CONNECT_TIMEOUT = float(os.environ.get("DATABASE_CONNECT_TIMEOUT", 3))
        self.DATABASE_BUSY_TIMEOUT_MS = int(os.environ.get("DATABASE_BUSY_TIMEOUT_MS", 15_000))
        # Temporary files (spooled uploads) stay under instance/tmp; the reconciler removes
        # entries older than TEMP_MAX_AGE_MINUTES.
        self.TEMP_DIR = os.environ.get("CLUSTERPACT_TEMP_DIR", "")
        self.TEMP_MAX_AGE_MINUTES = int(os.environ.get("TEMP_MAX_AGE_MINUTES", 60))
        # Outgoing mail (the send-notifications relay); links in emails start with BASE_URL.
        self.SMTP_HOST = os.environ.get("SMTP_HOST", "127.0.0.1")
        self.SMTP_PORT = int(os.environ.get("SMTP_PORT", self.DEFAULT_SMTP_PORT))
        self.SMTP_USERNAME = os.environ.get("SMTP_USERNAME", "")
        self.SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
        self.SMTP_STARTTLS = os.environ.get("SMTP_STARTTLS", "").lower() in ("1", "true", "yes")
        self.MAIL_FROM = os.environ.get("MAIL_FROM", "ClusterPact <noreply@localhost>")
        self.BASE_URL = os.environ.get("BASE_URL", self.DEFAULT_BASE_URL).rstrip("/")
        # run-clocks reminds each obligation this many days before it is due (once each).
        self.CLOCK_LEAD_DAYS = os.environ.get("CLOCK_LEAD_DAYS", "30,7,1,0")

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

    def load_auth_settings(self) -> None:
        """Second factor, key rotation, proxies and host names (README "Security model")."""
        # Old keys still verify session cookies and decrypt stored TOTP secrets.
        self.SECRET_KEY_FALLBACKS = _words(os.environ.get("SECRET_KEY_FALLBACKS", ""))
        roles = _words(os.environ.get("REQUIRE_2FA_ROLES", "admin,legal"))
        unknown = sorted(set(roles) - set(USER_ROLES))
        if unknown:
            raise ConfigError(f"REQUIRE_2FA_ROLES: unknown role(s) {', '.join(unknown)}; "
                              f"use {', '.join(USER_ROLES)}")
        self.REQUIRE_2FA_ROLES = frozenset(roles)
        # How many reverse proxies in front of the app set X-Forwarded-For/-Proto (ProxyFix);
        # 0 trusts no header, so a client cannot pick the address the throttle counts.
        proxies = os.environ.get("TRUSTED_PROXIES", "0").strip() or "0"
        if not proxies.isdigit():
            raise ConfigError("TRUSTED_PROXIES must be a number of proxies (0 for none)")
        self.TRUSTED_PROXIES = int(proxies)
        hosts = _words(os.environ.get("TRUSTED_HOSTS", ""))
        if any("/" in h for h in hosts):
            raise ConfigError("TRUSTED_HOSTS lists host names (e.g. cp.example.org), not URLs")
        self.TRUSTED_HOSTS = hosts or None  # Flask answers 400 to any other Host header


def _words(value: str) -> list[str]:
    return [w.strip() for w in value.split(",") if w.strip()]


def is_strong_secret(key: str) -> bool:
    """Tell whether a secret key is long and not a well-known placeholder."""
    return len(key) >= MIN_SECRET_LENGTH and key.lower() not in WEAK_SECRETS and len(set(key)) > 8


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_NAME = "__Host-clusterpact_session"
    PREFERRED_URL_SCHEME = "https"

    def load_auth_settings(self) -> None:
        super().load_auth_settings()
        if not self.TRUSTED_HOSTS:
            raise ConfigError("TRUSTED_HOSTS must list the host names the site is served "
                              "under (comma-separated, e.g. clusterpact.example.org)")


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    # Without SIGNING_KEY_PATH, a self-signed development pair is created under instance/.
    DEV_SIGNING_DIR = INSTANCE_DIR / "signing"
    DEBUG = False  # the Werkzeug debugger stays off: it executes code on request
    DEFAULT_SMTP_PORT = 1025  # a local sink: python -m aiosmtpd -n -l 127.0.0.1:1025
    DEFAULT_BASE_URL = "http://127.0.0.1:5000"
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
