"""Configuration from the environment; production refuses weak secrets."""

from __future__ import annotations

import pytest

import config


@pytest.mark.parametrize("secret", ["", "changeme", "short", "a" * 40, "dev"])
def test_production_refuses_weak_secret_key(monkeypatch, secret):
    monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(config.ConfigError, match="SECRET_KEY"):
        config.load_config("production")


def test_production_accepts_strong_secret_and_hardens_cookies(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "k3y-" + "x9Y2z!QpL0mN" * 4)
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.internal/clusterpact")
    cfg = config.load_config("production")
    assert cfg.SESSION_COOKIE_SECURE and cfg.SESSION_COOKIE_HTTPONLY
    assert cfg.SESSION_COOKIE_SAMESITE == "Lax"
    assert cfg.SESSION_COOKIE_NAME.startswith("__Host-")
    assert cfg.DATABASE_URL == "postgresql://db.internal/clusterpact"
    assert cfg.MAX_CONTENT_LENGTH > 0


def test_development_generates_and_keeps_a_secret(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    first = config.load_config("development").SECRET_KEY
    second = config.load_config("development").SECRET_KEY
    assert first == second and config.is_strong_secret(first)
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_unknown_environment_name_is_an_error():
    with pytest.raises(config.ConfigError, match="CLUSTERPACT_ENV"):
        config.load_config("staging")
